"""Encryption at rest: a real `doisoat run` on the bundled sample with a key file writes a DuckDB
file that holds none of the sample's names or IDs in its bytes, that DuckDB cannot open without
the key, and that `doisoat report` / `doisoat review` open with the key (file or environment).
Wrong, missing and superfluous keys are Vietnamese errors, never a traceback."""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

import duckdb
import polars as pl
import pytest

from matching.sql import quote_literal
from pipelines import warehouse
from pipelines.cli import main

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _key_file(path: Path, key: str | None = None) -> Path:
    path.write_text((key or secrets.token_urlsafe(32)) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture(scope="module")
def encrypted(tmp_path_factory):
    root = tmp_path_factory.mktemp("enc")
    key_file = _key_file(root / "khoa.txt")
    db, out = root / "w.duckdb", root / "out"
    code = main(
        [
            "run",
            "social_welfare",
            "--population",
            str(SAMPLE / "population.csv"),
            "--input",
            str(SAMPLE / "social_welfare.csv"),
            "--db",
            str(db),
            "--out",
            str(out),
            "--key-file",
            str(key_file),
        ]
    )
    assert code == 0
    return root, db, out, key_file


def _run_id(db: Path, key: str) -> str:
    con = duckdb.connect()  # analysts' way, read-only: works without httpfs
    try:
        con.execute(f"ATTACH {quote_literal(str(db))} AS w (ENCRYPTION_KEY ?, READ_ONLY)", [key])
        return con.execute("SELECT run_id FROM w.runs WHERE status = 'succeeded'").fetchone()[0]
    finally:
        con.close()


def _sample_values() -> tuple[set[str], set[str]]:
    pop = pl.read_csv(SAMPLE / "population.csv", infer_schema=False)
    welfare = pl.read_csv(SAMPLE / "social_welfare.csv", infer_schema=False)
    ids = {v for col in ("so_dinh_danh", "so_cmnd_cu") for v in pop[col].drop_nulls()}
    ids |= set(welfare["so_cccd"].drop_nulls())
    names = {v for col in ("ho_ten", "ho_ten_cha", "ho_ten_me") for v in pop[col].drop_nulls()}
    names |= set(welfare["ho_ten"].drop_nulls())
    return {i for i in ids if len(i) >= 9}, {n for n in names if len(n) >= 8}


def test_encrypted_file_holds_no_plaintext(encrypted):
    root, db, _, _ = encrypted
    ids, names = _sample_values()
    assert len(ids) > 5000 and len(names) > 5000
    files = [p for p in root.iterdir() if p.name.startswith("w.duckdb")]
    assert [p.name for p in files if p.suffix in (".duckdb", ".wal")] and not any(p.suffix == ".tmp" for p in files)
    for path in files:
        blob = path.read_bytes()
        assert not [i for i in ids if i.encode() in blob], path.name
        assert not [n for n in names if n.encode("utf-8") in blob], path.name
        # nor the schema: table and column names are encrypted too
        assert b"so_dinh_danh" not in blob and b"social_welfare" not in blob


def test_duckdb_cannot_open_it_without_the_key(encrypted):
    _, db, _, _ = encrypted
    with pytest.raises(duckdb.Error, match="without a key"):
        duckdb.connect(str(db))
    con = duckdb.connect()
    try:
        with pytest.raises(duckdb.Error, match="Wrong encryption key"):
            con.execute(
                f"ATTACH {quote_literal(str(db))} AS w (ENCRYPTION_KEY ?, READ_ONLY)", ["khong-phai-khoa-nay-123"]
            )
    finally:
        con.close()


def test_report_and_review_open_it_with_the_key(encrypted, tmp_path, monkeypatch, capsys):
    _, db, _, key_file = encrypted
    key = key_file.read_text(encoding="utf-8").strip()
    run_id = _run_id(db, key)
    out = tmp_path / "report"
    assert main(["report", run_id, "--db", str(db), "--out", str(out), "--key-file", str(key_file)]) == 0
    workbooks = list(out.rglob("*.xlsx"))
    assert workbooks
    # the same with the key in the environment, and `review` on the run's workbook
    monkeypatch.setenv(warehouse.KEY_ENV, key)
    assert main(["report", run_id, "--db", str(db), "--out", str(tmp_path / "env")]) == 0
    assert (
        main(["review", str(workbooks[0]), "--reviewer", "Cán bộ A", "--db", str(db), "--out", str(tmp_path / "rv")])
        == 0
    )
    printed = capsys.readouterr().out
    assert f"Lần chạy {run_id}" in printed
    assert not list(tmp_path.rglob(".doisoat-tmp-*")), "spill folders are removed when the command ends"


def test_missing_wrong_and_superfluous_keys_are_clear_errors(encrypted, tmp_path, monkeypatch, capsys):
    _, db, _, key_file = encrypted
    run_id = _run_id(db, key_file.read_text(encoding="utf-8").strip())
    monkeypatch.delenv(warehouse.KEY_ENV, raising=False)
    args = ["report", run_id, "--db", str(db), "--out", str(tmp_path / "x")]

    assert main(args) == 2
    err = capsys.readouterr().err
    assert "đã mã hoá: cần khoá (DOISOAT_DB_KEY hoặc --key-file)" in err and "Traceback" not in err

    wrong = _key_file(tmp_path / "sai.txt", "day-la-khoa-sai-hoan-toan")
    assert main([*args, "--key-file", str(wrong)]) == 2
    err = capsys.readouterr().err
    assert "Khoá không đúng" in err and "day-la-khoa-sai" not in err

    short = _key_file(tmp_path / "ngan.txt", "ngan")
    assert main([*args, "--key-file", str(short)]) == 2
    assert "quá ngắn" in capsys.readouterr().err

    assert main([*args, "--key-file", str(tmp_path / "khong-co.txt")]) == 2
    assert "Không tìm thấy tệp khoá" in capsys.readouterr().err

    plain = tmp_path / "plain.duckdb"
    warehouse.connect(plain).close()
    assert main(["report", "x", "--db", str(plain), "--out", str(tmp_path / "y"), "--key-file", str(key_file)]) == 2
    assert "chưa mã hoá nhưng đã cho khoá" in capsys.readouterr().err


def test_spill_folder_is_private_inside_the_output_folder_and_removed(encrypted, tmp_path):
    _, db, _, key_file = encrypted
    out = tmp_path / "out"
    with warehouse.session(db, command="report", key_file=key_file, spill_root=out):
        con = warehouse.connect(db)
        try:
            spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])
            # force a spill: a sort far larger than the memory limit
            con.execute("SET memory_limit = '32MB'")
            con.execute("SET threads = 1")
            con.execute(
                "SELECT count(*) FROM (SELECT hash(range) h FROM range(4000000) ORDER BY h DESC OFFSET 1)"
            ).fetchone()
        finally:
            con.close()
        assert spill.parent == out and spill.is_dir()
        assert stat.S_IMODE(spill.stat().st_mode) == 0o700
    assert not spill.exists()
    assert os.listdir(out) == []
