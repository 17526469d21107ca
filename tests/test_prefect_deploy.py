"""A real Prefect server on 127.0.0.1: deploy prefect.yaml, run one deployment through a process
worker to completion, and find its result rows in DuckDB. Nothing is mocked."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
PREFECT = str(Path(sys.executable).parent / "prefect")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(url: str, server: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"prefect server not healthy after {timeout} s")


def _run(args, env, timeout=120, cwd=ROOT) -> str:
    out = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
    return out.stdout


def test_prefect_yaml_declares_a_scheduled_deployment_per_registry():
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["parameters"].get("registry"): d for d in doc["deployments"] if "registry" in d["parameters"]}
    assert set(deployments) == {"social_welfare", "pension", "civil_births", "civil_deaths", "land"}
    for d in doc["deployments"]:
        assert d["work_pool"]["name"] == "doisoat-process"
        assert d["schedules"][0]["timezone"] == "Asia/Ho_Chi_Minh"
        assert d["entrypoint"].startswith("pipelines/orchestration.py:")
    assert "set_working_directory" in json.dumps(doc["pull"])


@pytest.mark.slow
def test_deployment_runs_through_a_worker_and_writes_duckdb(tmp_path):
    port = _free_port()
    db = tmp_path / "doisoat.duckdb"
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        # no cron-scheduled runs in the test: the worker must pick exactly the run we asked for
        "PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "DOISOAT_HOME": str(ROOT),
        "GX_ANALYTICS_ENABLED": "False",
        "COLUMNS": "250",  # rich tables: keep the state column readable
    }
    log = open(tmp_path / "server.log", "w")
    server = subprocess.Popen(
        [PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/api/health", server, timeout=90)
        _run([PREFECT, "work-pool", "create", "doisoat-process", "--type", "process"], env)
        _run([PREFECT, "--no-prompt", "deploy", "--all"], env, timeout=180)
        land = _run([PREFECT, "deployment", "inspect", "reconcile-registry/land"], env)
        assert "Asia/Ho_Chi_Minh" in land and "doisoat-process" in land, land
        params = {
            "population": str(TINY / "population.csv"),
            "input_file": str(TINY / "social_welfare.csv"),
            "db": str(db),
            "out_dir": str(tmp_path / "out"),
        }
        _run([PREFECT, "deployment", "run", "reconcile-registry/social-welfare", "--params", json.dumps(params)], env)
        _run([PREFECT, "worker", "start", "--pool", "doisoat-process", "--run-once"], env, timeout=240)
        states = _run([PREFECT, "flow-run", "ls"], env)
        assert "COMPLETED" in states.upper() and "FAILED" not in states.upper(), states
        artifacts = _run([PREFECT, "artifact", "ls"], env)
        assert "coverage-social-welfare" in artifacts, artifacts
        con = duckdb.connect(str(db), read_only=True)
        try:
            run_id, status, counts = con.execute(
                "SELECT run_id, status, row_counts FROM runs WHERE registry = 'social_welfare'"
            ).fetchone()
            assert status == "succeeded"
            assert json.loads(counts)["input_rows"] == 5
            n_links = con.execute("SELECT count(*) FROM links WHERE run_id = ?", [run_id]).fetchone()[0]
            assert n_links == 5
            assert con.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [run_id]).fetchone()[0] > 0
        finally:
            con.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=5)
        log.close()
        shutil.rmtree(tmp_path / "prefect", ignore_errors=True)
