"""Crash and concurrency safety with real processes: `doisoat run` subprocesses on one (encrypted)
warehouse are killed with SIGKILL inside chosen stages — before any result is written, in the
middle of the result transaction (rows inserted, not committed), while the reports are written —
and a second run started at the same time as another is refused with a message naming the run
that holds the warehouse. After each kill, the next open marks the killed run failed ("bị dừng
đột ngột (killed)") and the previous run's rows are exactly as they were.

The stage a run is in is read from the lock file (`<db>.lock`, which names it for the refusal
message); the run is frozen with SIGSTOP the moment its stage shows, so the kill lands inside it."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from matching.sql import quote_literal
from pipelines import warehouse
from pipelines.cli import main
from pipelines.formats import vn_time
from pipelines.registries import REGISTRIES
from pipelines.sample.generator import generate

pytestmark = pytest.mark.slow

DOISOAT = str(Path(sys.executable).with_name("doisoat"))
STAGES = (
    "ingest",
    "load_population",
    "normalize",
    "validate",
    "person_schema",
    "carried_decisions",
    "plan",
    "match",
    "checks",
    "write_warehouse",
    "write_warehouse:transaction",
    "reports",
)
RESULT_TABLES = (
    "social_welfare_rows",
    "registry_persons",
    "links",
    "link_evidence",
    "mismatches",
    "missing_fields",
    "duplicates",
    "alerts",
    "coverage",
    "expectation_results",
    "match_models",
    "population",
)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A small generated sample (1,000 persons), a key in the environment, and one successful run
    through the CLI: the "previous results" every later kill must leave intact."""
    root = tmp_path_factory.mktemp("crash")
    generate(persons=1000, seed=15, out_dir=root / "sample")
    key = secrets.token_urlsafe(32)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(warehouse.KEY_ENV, key)
        assert main(_start_args(root)[1:]) == 0
        baseline = _runs(root, key)[0]["run_id"]
        yield root, key, baseline, _snapshot(root, key, baseline)


def _start_args(root: Path) -> list[str]:
    return [
        DOISOAT,
        "run",
        "social_welfare",
        "--population",
        str(root / "sample" / "population.csv"),
        "--input",
        str(root / "sample" / "social_welfare.csv"),
        "--db",
        str(root / "w.duckdb"),
        "--out",
        str(root / "out"),
    ]


def _start(root: Path) -> subprocess.Popen:
    """A real `doisoat run` process (the key comes from DOISOAT_DB_KEY in its environment)."""
    return subprocess.Popen(
        _start_args(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy()
    )


def _read_only(root: Path, key: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"ATTACH {quote_literal(str(root / 'w.duckdb'))} AS w (ENCRYPTION_KEY ?, READ_ONLY)", [key])
    con.execute("USE w")
    return con


def _runs(root: Path, key: str) -> list[dict]:
    con = _read_only(root, key)
    try:
        cur = con.execute("SELECT run_id, status, error, pid, hostname FROM runs ORDER BY started_at")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
    finally:
        con.close()


def _snapshot(root: Path, key: str, run_id: str) -> dict[str, list]:
    """Every row the run wrote, table by table, in a stable order."""
    con = _read_only(root, key)
    try:
        snap = {
            t: con.execute(f"SELECT * FROM {t} WHERE run_id = ? ORDER BY ALL", [run_id]).fetchall()
            for t in RESULT_TABLES
        }
        snap["runs"] = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id]).fetchall()
        return snap
    finally:
        con.close()


def _lock_info(root: Path) -> dict:
    try:
        return json.loads((root / "w.duckdb.lock").read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}


def _kill_in(proc: subprocess.Popen, root: Path, stage: str) -> tuple[str | None, str | None]:
    """SIGSTOP the run the moment the lock file shows `stage` (or a later one), then SIGKILL it.
    Returns (stage it was frozen in, its run id)."""
    target = STAGES.index(stage)
    while proc.poll() is None:
        info = _lock_info(root)
        if info.get("pid") == proc.pid and info.get("stage") in STAGES and STAGES.index(info["stage"]) >= target:
            os.kill(proc.pid, signal.SIGSTOP)
            frozen = _lock_info(root)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            return frozen.get("stage"), frozen.get("run_id")
        time.sleep(0.0005)
    raise AssertionError(f"the run ended before stage {stage}: {proc.stderr.read()[-2000:]}")


def _next_open(root: Path) -> list[str]:
    """What the next command does first: open the warehouse (this marks killed runs)."""
    con = warehouse.connect(root / "w.duckdb", REGISTRIES.values())
    con.close()
    return [r["run_id"] for r in _runs(root, os.environ[warehouse.KEY_ENV]) if r["status"] == "running"]


def _killed_at(site, stage: str) -> tuple[str, dict]:
    root, key, _, _ = site
    for _attempt in range(3):  # a stage shorter than the polling interval can be missed: start again
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(warehouse.KEY_ENV, key)
            frozen, run_id = _kill_in(_start(root), root, stage)
            if frozen == stage:
                assert _next_open(root) == []
                row = next(r for r in _runs(root, key) if r["run_id"] == run_id)
                return run_id, row
            _next_open(root)
    raise AssertionError(f"could not stop a run inside stage {stage}")


def _assert_previous_intact(site) -> None:
    root, key, baseline, snapshot = site
    assert _snapshot(root, key, baseline) == snapshot


def _assert_killed_run_failed(site, run_id: str, row: dict) -> None:
    root, key, _, _ = site
    assert row["status"] == "failed"
    assert row["error"].startswith(warehouse.KILLED_MESSAGE)
    assert row["pid"] > 0 and row["hostname"]
    con = _read_only(root, key)
    try:
        for t in RESULT_TABLES:  # nothing of the killed run was committed
            assert con.execute(f"SELECT count(*) FROM {t} WHERE run_id = ?", [run_id]).fetchone()[0] == 0, t
    finally:
        con.close()


def test_a_run_killed_in_its_first_stage_is_failed_and_leaves_the_previous_run_intact(site):
    run_id, row = _killed_at(site, "ingest")
    _assert_killed_run_failed(site, run_id, row)
    _assert_previous_intact(site)


def test_a_run_killed_while_writing_reports_has_committed_everything(site):
    """Results and `succeeded` are one transaction: a kill during the reports leaves a complete,
    succeeded run (its reports can be rewritten with `doisoat report`)."""
    root, key, _, _ = site
    run_id, row = _killed_at(site, "reports")
    assert row["status"] == "succeeded" and row["error"] is None
    con = _read_only(root, key)
    try:
        assert con.execute("SELECT count(*) FROM links WHERE run_id = ?", [run_id]).fetchone()[0] == 100
    finally:
        con.close()
    _assert_previous_intact(site)


BUSY = re.compile(
    r"Kho dữ liệu \S*w\.duckdb đang được dùng bởi "
    r"(?:lần chạy (?P<run_id>\S+?), đang ở bước (?P<stage>\S+)|lệnh doisoat run social_welfare) "
    r"\(tiến trình (?P<pid>\d+) trên máy \S+\) từ (?P<since>\d\d/\d\d/\d{4} \d\d:\d\d:\d\d) \(giờ Việt Nam, UTC\+7\)\."
)


def test_two_runs_at_once_one_is_refused_then_the_holder_is_killed_mid_transaction(site):
    root, key, _, _ = site
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(warehouse.KEY_ENV, key)
        first, second = _start(root), _start(root)
        # the one refused exits at once with status 2; the other one holds the warehouse
        while first.poll() is None and second.poll() is None:
            time.sleep(0.05)
        refused, holder = (first, second) if first.poll() is not None else (second, first)
        err = refused.communicate()[1]
        assert refused.returncode == 2, err
        m = BUSY.search(err)
        assert m and int(m["pid"]) == holder.pid and "Traceback" not in err, err
        # a third run, started once the holder is well into its run, is told the run id and stage
        while _lock_info(root).get("stage") not in STAGES:
            assert holder.poll() is None
            time.sleep(0.01)
        third = subprocess.run(_start_args(root), capture_output=True, text=True, env=os.environ.copy())
        assert third.returncode == 2
        m3 = BUSY.search(third.stderr)
        info = _lock_info(root)
        assert m3 and m3["run_id"] == info["run_id"] and m3["stage"] in STAGES and int(m3["pid"]) == holder.pid, (
            third.stderr
        )
        assert m3["since"] == m["since"] == vn_time(datetime.fromisoformat(info["since"]), seconds=True, zone=False)
        # then the holder is killed inside its result transaction: rows inserted, not committed
        frozen, run_id = _kill_in(holder, root, "write_warehouse:transaction")
        assert run_id == info["run_id"] and frozen == "write_warehouse:transaction"
        assert _next_open(root) == []
    runs = _runs(root, key)
    _assert_killed_run_failed(site, run_id, next(r for r in runs if r["run_id"] == run_id))
    _assert_previous_intact(site)
    # neither refused command left a ledger row
    assert [r["run_id"] for r in runs if r["pid"] in (refused.pid,)] == []


def test_after_the_kills_the_warehouse_works_and_no_spill_folder_is_left(site, capsys):
    root, key, baseline, _ = site
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(warehouse.KEY_ENV, key)
        assert main(["report", baseline, "--db", str(root / "w.duckdb"), "--out", str(root / "out")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    statuses = [r["status"] for r in _runs(root, key)]
    assert "running" not in statuses and "failed" in statuses
    # killed runs' spill folders were removed by the next command (same output folder)
    assert not list(root.rglob(".doisoat-tmp-*"))
    _assert_previous_intact(site)
