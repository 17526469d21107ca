"""`doisoat serve` against a real Prefect server with its scheduler ON: the scheduler (not a
`prefect deployment run`) creates a run of a prefect.yaml deployment, the worker serve started
completes it, the results are in a DuckDB file on disk, and one SIGTERM stops everything.

Why this test exists: with SQLAlchemy 2.1 every scheduler loop of Prefect 3.8 fails and cron
schedules never fire, while manual runs still work; the earlier test switched the scheduler off
and could not see it. Nothing here is mocked or switched off."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "fixtures" / "tiny"
DOISOAT = Path(sys.executable).parent / "doisoat"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(method: str, url: str, body: dict | None = None):
    """One API call; a 503 (the server busy on a loaded machine: its database briefly locked) is retried."""
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(6):
        req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
            return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            if exc.code != 503 or attempt == 5:
                raise
            time.sleep(5)


def _wait_for(predicate, timeout: float, what: str, log: Path):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(2)
    raise AssertionError(f"{what} after {timeout:.0f} s; serve output:\n{log.read_text(encoding='utf-8')[-3000:]}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _ignore_sigint() -> None:
    # as in `doisoat serve &` from a script: SIGINT arrives ignored, which made workers survive SIGTERM
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
def test_serve_runs_a_scheduled_deployment_and_stops_on_one_sigterm(tmp_path):
    port = _free_port()
    api = f"http://127.0.0.1:{port}/api"
    db = tmp_path / "doisoat.duckdb"
    out = tmp_path / "serve.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    cmd = [
        str(DOISOAT),
        "serve",
        "--port",
        str(port),
        "--prefect-home",
        str(tmp_path / "prefect"),
        "--no-ui",
        "--timeout",
        "300",
    ]
    with open(out, "wb") as fh:
        serve = subprocess.Popen(
            cmd,
            cwd=tmp_path,
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_ignore_sigint,
        )
    pids: dict[str, int] = {}
    try:
        text = _wait_for(
            lambda: "Sẵn sàng." in out.read_text(encoding="utf-8") and out.read_text(encoding="utf-8"),
            420,
            "doisoat serve not ready",
            out,
        )
        pids["server"] = int(re.search(r"Máy chủ Prefect: \S+ \(PID (\d+)\)", text).group(1))
        pids["worker"] = int(re.search(r"Worker \(PID (\d+)\)", text).group(1))
        assert "reconcile-registry/social-welfare: 0 1 * * * (Asia/Ho_Chi_Minh)" in text, text

        # the scheduler turns prefect.yaml's cron schedules into scheduled runs (none with SQLAlchemy 2.1)
        deployments = _api("POST", f"{api}/deployments/filter", {})
        assert len(deployments) == 8
        retrain = _api("GET", f"{api}/deployments/name/reconcile-all/all-monthly-retrain")
        assert retrain["parameters"]["retrain"] is True

        def scheduled_per_deployment():
            scheduled = _api(
                "POST", f"{api}/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
            )
            per = {d["id"]: 0 for d in deployments}
            for r in scheduled:
                per[r["deployment_id"]] += r["auto_scheduled"]
            return all(per.values())

        server_log = tmp_path / "prefect" / "server.log"
        assert _wait_for(scheduled_per_deployment, 120, "scheduler created no run for some deployment", server_log)

        # serve deployed prefect.yaml; give its social-welfare deployment a schedule due in 30 s,
        # whose runs read the tiny fixture and write a warehouse in tmp_path — and its Dask deployment
        # (the match partitioned on a LocalCluster of 2 worker processes) one due just after, another warehouse
        dep = _api("GET", f"{api}/deployments/name/reconcile-registry/social-welfare")
        dask_dep = _api("GET", f"{api}/deployments/name/reconcile-registry-dask/social-welfare-dask")
        anchor = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)).replace(microsecond=0)
        params = {
            "population": str(TINY / "population.csv"),
            "input_file": str(TINY / "social_welfare.csv"),
            "db": str(db),
            "out_dir": str(tmp_path / "reports"),
        }
        dask_db = tmp_path / "dask.duckdb"
        dask_params = {**params, "db": str(dask_db), "out_dir": str(tmp_path / "reports_dask"), "dask_workers": 2}
        for d, p, when in ((dep, params, anchor), (dask_dep, dask_params, anchor + dt.timedelta(seconds=5))):
            _api(
                "PATCH",
                f"{api}/deployments/{d['id']}",
                {
                    "schedules": [
                        {
                            "schedule": {
                                "interval": 3600,
                                "anchor_date": when.isoformat(),
                                "timezone": "Asia/Ho_Chi_Minh",
                            },
                            "active": True,
                            "parameters": p,
                        }
                    ]
                },
            )

        def runs(deployment=dep):
            return _api("POST", f"{api}/flow_runs/filter", {"deployments": {"id": {"any_": [deployment["id"]]}}})

        def finished(deployment=dep):
            done = [r for r in runs(deployment) if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED")]
            return done

        done = _wait_for(finished, 300, "no finished run of the scheduled deployment", out)
        assert [r["state_type"] for r in done] == ["COMPLETED"], (
            done,
            (tmp_path / "prefect" / "worker.log").read_text()[-3000:],
        )
        run = done[0]
        # the scheduler made it: auto-scheduled, at the schedule's time, with the schedule's parameters
        assert run["auto_scheduled"] is True
        assert run["idempotency_key"].startswith("scheduled ")
        assert dt.datetime.fromisoformat(run["expected_start_time"]) == anchor
        assert run["parameters"]["db"] == str(db) and run["parameters"]["registry"] == "social_welfare"
        assert all(r["auto_scheduled"] for r in runs()), "a run of the deployment was created by hand"

        con = duckdb.connect(str(db), read_only=True)
        try:
            run_id, status, counts = con.execute(
                "SELECT run_id, status, row_counts FROM runs WHERE registry = 'social_welfare'"
            ).fetchone()
            assert status == "succeeded" and json.loads(counts)["input_rows"] == 5
            assert con.execute("SELECT count(*) FROM links WHERE run_id = ?", [run_id]).fetchone()[0] == 5
            assert con.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [run_id]).fetchone()[0] > 0
        finally:
            con.close()
        artifacts = _api(
            "POST", f"{api}/artifacts/filter", {"artifacts": {"key": {"any_": ["coverage-social-welfare"]}}}
        )
        assert artifacts and run_id in artifacts[0]["description"]

        # the deployment's next run (created now rather than in an hour) is incremental: it keeps the
        # first run's links and model, says so in the ledger and in the flow's result
        second = _api("POST", f"{api}/deployments/{dep['id']}/create_flow_run", {"parameters": params})

        def second_done():
            r = _api("GET", f"{api}/flow_runs/{second['id']}")
            return r if r["state_type"] in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED") else None

        assert _wait_for(second_done, 300, "the second run did not finish", out)["state_type"] == "COMPLETED"
        con = duckdb.connect(str(db), read_only=True)
        try:
            ledger = con.execute(
                "SELECT run_id, mode, previous_run_id, model_run_id, row_counts FROM runs "
                "WHERE registry = 'social_welfare' ORDER BY started_at"
            ).fetchall()
        finally:
            con.close()
        assert [r[1] for r in ledger] == ["first", "incremental"]
        assert ledger[1][2] == run_id and ledger[1][3] == run_id
        second_counts = json.loads(ledger[1][4])
        # DT1 and DT2 kept; DT4 is listed twice (its key is not unique: matched again, same outcome)
        assert second_counts["links_kept"] == 2 and second_counts["previous_links_key_not_unique"] == 1
        assert second_counts["matched"] == json.loads(counts)["matched"] == 3

        # the Dask deployment: scheduled too, completed, its partitions ran as Prefect tasks on the
        # DaskTaskRunner (2 workers: 2 partitions per step), and its links are the plain run's links
        dask_done = _wait_for(lambda: finished(dask_dep), 300, "no finished run of the Dask deployment", out)
        assert [r["state_type"] for r in dask_done] == ["COMPLETED"], (tmp_path / "prefect" / "worker.log").read_text()[
            -3000:
        ]
        assert dask_done[0]["auto_scheduled"] is True
        tasks = _api("POST", f"{api}/task_runs/filter", {"task_runs": {"name": {"like_": "partition"}}})
        names = sorted(t["name"].rsplit("-", 1)[0] for t in tasks if t["state_type"] == "COMPLETED")
        assert names == sorted(["count-partition", "compare-partition", "score-partition"] * 2), names
        columns = "rec_id, pop_rec_id, so_dinh_danh, status, method, match_weight, match_probability"
        links = {}
        for path in (db, dask_db):
            con = duckdb.connect(str(path), read_only=True)
            try:
                first_run = con.execute("SELECT min(run_id) FROM runs WHERE mode = 'first'").fetchone()[0]
                links[path] = con.execute(
                    f"SELECT {columns} FROM links WHERE run_id = ? ORDER BY rec_id", [first_run]
                ).fetchall()
            finally:
                con.close()
        assert len(links[dask_db]) == 5 and links[dask_db] == links[db]

        # one SIGTERM to serve: it sends one SIGTERM to the worker, then to the server; both stop
        serve.send_signal(signal.SIGTERM)
        assert serve.wait(timeout=150) == 0, out.read_text(encoding="utf-8")
        text = out.read_text(encoding="utf-8")
        assert f"Đã dừng worker (PID {pids['worker']})" in text and "SIGKILL" not in text, text
        assert not _alive(pids["worker"]) and not _alive(pids["server"])
    finally:
        for pid in (serve.pid, *pids.values()):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        serve.wait(timeout=30)


def test_serve_refuses_a_busy_port_in_vietnamese_without_starting_anything(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [str(DOISOAT), "serve", "--port", str(port), "--prefect-home", str(tmp_path / "prefect")],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cổng {port} trên 127.0.0.1 đang được dùng" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "prefect").exists()
