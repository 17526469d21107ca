"""The command line as an officer meets it: Vietnamese help with defaults, registries by title,
--version, Vietnamese errors with an English code, stage lines as they happen (stderr and
<out>/doisoat.log, never personal data), --quiet, and a start that imports neither Prefect nor
Great Expectations. Runs the real `doisoat` in a subprocess (stderr is not a terminal there)."""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.cli import build_parser, main
from pipelines.registries import REGISTRIES

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"
TINY = Path(__file__).resolve().parent / "fixtures" / "tiny"
DOISOAT = [sys.executable, "-m", "pipelines.cli"]

# The stage lines of one run, in the order they must appear.
STAGES = (
    "Đang nạp chương trình đối soát…",
    "Đọc tệp social_welfare.csv…",
    "Đọc trích xuất CSDLQG population.csv…",
    "Chuẩn hoá 500 dòng…",
    "Kiểm tra chất lượng dữ liệu",
    "Ghép 500 bản ghi với CSDLQG (5.000 người)…",
    "Tìm sai lệch",
    "Ghi kho dữ liệu",
    "Viết báo cáo",
    "Xong lần chạy",
)


def _run(args, cwd):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    return subprocess.run([*DOISOAT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


def _in_order(text: str, parts) -> bool:
    pos = 0
    for part in parts:
        pos = text.find(part, pos)
        if pos < 0:
            return False
    return True


def _personal_values(*files: Path) -> set[str]:
    """IDs, names and dates of birth of every row of the files (long enough not to occur by chance)."""
    values = set()
    for f in files:
        with open(f, encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                for col in (
                    "so_dinh_danh",
                    "so_cmnd_cu",
                    "so_cccd",
                    "ho_ten",
                    "ho_ten_cha",
                    "ho_ten_me",
                    "ngay_sinh",
                    "so_tai_khoan",
                ):
                    v = (row.get(col) or "").strip()
                    if len(v) >= 8 or (col.startswith("ho_ten") and " " in v):
                        values.add(v)
    return values


# ------------------------------------------------------------------ fast start --------------


def test_the_cli_imports_neither_prefect_nor_great_expectations():
    code = (
        "import sys, pipelines.cli, pipelines.flow, pipelines.normalize, pipelines.match, pipelines.progress;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('prefect', 'great_expectations', 'distributed', 'dask', 'prefect_dask')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_admin_unit_tables_are_read_without_importing_their_package():
    """Its __init__ loads an address parser and geopy (seconds); only its data files are used."""
    code = (
        "import sys; from matching.reference.admin_units import current_units, legacy_units;"
        "print(current_units().height > 3000, legacy_units().height > 10000, 'vietnamadminunits' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "True", "False"], out.stderr


def test_the_deployments_module_still_holds_the_prefect_flows():
    import yaml

    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    entrypoints = {d["entrypoint"] for d in spec["deployments"]}
    assert entrypoints == {
        "pipelines/orchestration.py:reconcile_registry",
        "pipelines/orchestration.py:reconcile_registry_dask",
        "pipelines/orchestration.py:reconcile_all",
    }
    from pipelines import orchestration

    assert orchestration.reconcile_registry.name == "reconcile-registry"
    assert orchestration.reconcile_registry_dask.name == "reconcile-registry-dask"
    assert orchestration.reconcile_all.name == "reconcile-all"


# ------------------------------------------------------------------ help, version, errors ---


def _subparsers(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


def test_every_option_has_vietnamese_help_and_its_default(capsys):
    parser = build_parser()
    for name, sub in _subparsers(parser).items():
        for action in sub._actions:
            assert action.help, f"{name} {action.dest}: no help text"
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        assert text.startswith("Cách dùng: doisoat " + name), text[:80]
        assert "show this help" not in text and "usage:" not in text and "default:" not in text
        for action in sub._actions:
            if action.option_strings and action.default not in (None, False, argparse.SUPPRESS) and not action.required:
                assert f"mặc định: {action.default}" in " ".join(text.split()), f"{name} {action.option_strings}"
    with pytest.raises(SystemExit):
        main(["--help"])
    top = capsys.readouterr().out
    assert "5 sổ" in top and "4 sổ" not in top and "bốn sổ" not in top


def test_registries_are_listed_with_their_vietnamese_titles(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    help_text = capsys.readouterr().out
    assert main(["registries"]) == 0
    listing = capsys.readouterr().out
    for name, spec in REGISTRIES.items():
        for text in (help_text, listing):
            assert any(name in line and spec.title_vi in line for line in text.splitlines()), (name, text)


def test_version_comes_from_the_package_metadata():
    out = _run(["--version"], ROOT)
    assert out.returncode == 0
    assert out.stdout.strip() == f"doisoat {importlib.metadata.version('doisoat')}"


def test_usage_errors_are_vietnamese(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "thiếu tham số bắt buộc" in err and "--population" in err and "[usage_error]" in err
    assert "the following arguments" not in err and "usage:" not in err
    with pytest.raises(SystemExit):
        main(["run", "hospital", "--population", "a.csv", "--input", "b.csv"])
    err = capsys.readouterr().err
    assert "'hospital' không có trong danh sách" in err and "invalid choice" not in err


def test_errors_are_vietnamese_with_the_english_code_in_brackets(tmp_path, capsys):
    code = main(
        [
            "run",
            "pension",
            "--population",
            str(tmp_path / "khong_co.csv"),
            "--input",
            str(TINY / "pension.csv"),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert (
        code == 2
        and "Lỗi: tệp" in err
        and "khong_co.csv" in err
        and "không tìm thấy" in err
        and "[input_not_found]" in err
    )
    empty = tmp_path / "rong.csv"
    empty.write_bytes(b"")
    code = main(
        [
            "run",
            "pension",
            "--population",
            str(TINY / "population.csv"),
            "--input",
            str(empty),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "rỗng" in err and "[input_invalid]" in err and "Traceback" not in err
    assert "[input_invalid]" in (tmp_path / "out" / "doisoat.log").read_text(encoding="utf-8"), "errors are logged too"
    assert main(["report", "khong-co", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")]) == 2
    assert "[run_not_found]" in capsys.readouterr().err


def test_dask_options_refuse_what_cannot_run_in_vietnamese(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["run", "pension", "--population", "a.csv", "--input", "b.csv", "--dask-workers", "0"])
    err = capsys.readouterr().err
    assert "--dask-workers" in err and "từ 1 trở lên" in err and "[usage_error]" in err
    # no scheduler listens there: refused before the run starts (no ledger row), no traceback
    args = ["run", "pension", "--population", str(TINY / "population.csv"), "--input", str(TINY / "pension.csv")]
    db = tmp_path / "w.duckdb"
    code = main([*args, "--db", str(db), "--out", str(tmp_path / "out"), "--dask-address", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code != 0 and "không kết nối được cụm Dask tại tcp://127.0.0.1:9" in err, err
    assert "[dask_unreachable]" in err and "Traceback" not in err
    if db.exists():
        import duckdb

        con = duckdb.connect(str(db), read_only=True)
        try:
            assert con.execute("SELECT count(*) FROM runs").fetchone()[0] == 0
        finally:
            con.close()


# ------------------------------------------------------------------ progress ----------------


@pytest.mark.slow
def test_stage_lines_appear_in_order_on_stderr_and_in_the_log_without_personal_data(tmp_path):
    out = _run(
        [
            "run",
            "social_welfare",
            "--population",
            str(SAMPLE / "population.csv"),
            "--input",
            str(SAMPLE / "social_welfare.csv"),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ],
        tmp_path,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert _in_order(out.stderr, STAGES), out.stderr
    assert "Tổng hợp" not in out.stderr and "Đối tượng bảo trợ xã hội" in out.stdout and "Liên kết" in out.stdout
    log = (tmp_path / "out" / "doisoat.log").read_text(encoding="utf-8")
    assert _in_order(log, STAGES), log
    assert "+0700" in log, "log times are Vietnam time"
    personal = _personal_values(SAMPLE / "social_welfare.csv", SAMPLE / "population.csv")
    assert len(personal) > 5000
    for text in (log, out.stderr, out.stdout):
        leaked = [v for v in personal if v in text]
        assert not leaked, leaked[:5]


@pytest.mark.slow
def test_quiet_prints_only_the_final_summary_and_verbose_adds_stage_times(tmp_path):
    args = [
        "run",
        "pension",
        "--population",
        str(TINY / "population.csv"),
        "--input",
        str(TINY / "pension.csv"),
        "--db",
        str(tmp_path / "w.duckdb"),
        "--out",
        str(tmp_path / "out"),
    ]
    quiet = _run([*args, "--quiet"], tmp_path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert quiet.stderr.strip() == ""
    assert "Người hưởng lương hưu" in quiet.stdout and "Liên kết" in quiet.stdout
    assert "Đọc tệp" not in quiet.stdout
    assert "Đọc tệp pension.csv…" in (tmp_path / "out" / "doisoat.log").read_text(encoding="utf-8"), (
        "the log file keeps the stages"
    )
    verbose = _run([*args, "--verbose"], tmp_path)
    assert verbose.returncode == 0
    assert _in_order(
        verbose.stderr, ("Đọc tệp pension.csv…", "ingest:", "Chuẩn hoá 2 dòng…", "normalize:", "match:", "reports:")
    )
    both = _run([*args, "--quiet", "--verbose"], tmp_path)
    assert both.returncode == 2 and "[usage_error]" in both.stderr


def test_long_stages_print_plain_progress_lines_when_not_a_terminal(caplog):
    """Not a terminal (Prefect logs, CI): a line every ~10 % with rows done and time left, no bar."""
    import io
    import logging

    from pipelines import progress

    stream = io.StringIO()
    progress.setup(None, progress.NORMAL, stream=stream)
    with progress.rows("Chuẩn hoá CSDLQG 200.000 dòng", 14, unit="cột") as bar:
        for _ in range(14):
            bar.advance(1)
    with progress.rows("Ghi 3 bảng", 1000, show=False) as bar:
        bar.advance(1000)
    lines = stream.getvalue().splitlines()
    assert 5 <= len(lines) <= 10, lines
    assert all("Chuẩn hoá CSDLQG 200.000 dòng:" in line and "cột" in line and "còn khoảng" in line for line in lines)
    assert "\r" not in stream.getvalue(), "no bar redraws in a log"
    logging.getLogger(progress.LOGGER_NAME).handlers.clear()


def test_a_long_stage_says_it_is_still_working():
    import io
    import logging
    import time

    from pipelines import progress

    stream = io.StringIO()
    progress.setup(None, progress.NORMAL, stream=stream)
    times = {}
    with progress.stage("validate", "Kiểm tra chất lượng dữ liệu…", times=times, heartbeat=0.2):
        time.sleep(0.7)
    lines = stream.getvalue().splitlines()
    assert lines[0].endswith("Kiểm tra chất lượng dữ liệu…")
    assert 2 <= sum("vẫn đang làm: Kiểm tra chất lượng dữ liệu" in line for line in lines) <= 4, lines
    assert times["validate"] >= 0.7
    stream.truncate(0)
    stream.seek(0)
    with (
        progress.stage("normalize", "Chuẩn hoá…", heartbeat=0.2),
        progress.rows("Chuẩn hoá 200.000 dòng", 2, unit="cột") as bar,
    ):
        time.sleep(0.7)  # a stage counting its own progress: no "still working" line in between
        bar.advance(2)
    assert not any("vẫn đang làm" in line for line in stream.getvalue().splitlines()), stream.getvalue()
    logging.getLogger(progress.LOGGER_NAME).handlers.clear()
