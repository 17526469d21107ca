"""The run ledger: the `runs` row of each run, and the population cache lookup.

Why apart from the result write: the `runs` row is written before any work (status `running`,
with pid and host) outside the run's one transaction, so a failed run is still visible as `failed`
with its error message, and a killed one is marked failed at the next open
(`lock.mark_interrupted_runs`). Only `succeeded` is set inside the result transaction
(`write.write_run`), so it is true exactly when the results are there.
"""

from __future__ import annotations

import json
import os

import duckdb

from pipelines.warehouse.lock import HOST


def population_cached(
    con: duckdb.DuckDBPyConnection, sha256: str, reference_spec_sha256: str | None = None, unmarked_as: str = ""
) -> bool:
    """Whether the warehouse holds this extract, normalized with this reference spec (rows stored
    before the spec was recorded count as read with `unmarked_as`, the default spec's fingerprint)."""
    if reference_spec_sha256 is None:
        return con.execute("SELECT count(*) FROM population WHERE extract_sha256 = ?", [sha256]).fetchone()[0] > 0
    found = con.execute(
        "SELECT count(*) FROM population WHERE extract_sha256 = ? AND coalesce(reference_spec_sha256, ?) = ?",
        [sha256, unmarked_as, reference_spec_sha256],
    ).fetchone()[0]
    return found > 0


def start_run(
    con: duckdb.DuckDBPyConnection, run_id: str, registry: str, parameters: dict, package_versions: dict
) -> None:
    """Ledger row before any work, so even a crash leaves a trace of the attempt."""
    con.execute(
        "INSERT INTO runs (run_id, registry, started_at, status, parameters, package_versions, pid, hostname) "
        "VALUES (?, ?, now(), 'running', ?, ?, ?, ?)",
        [
            run_id,
            registry,
            json.dumps(parameters, ensure_ascii=False, default=str),
            json.dumps(package_versions),
            os.getpid(),
            HOST,
        ],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    error: str | None = None,
    input_files: list | None = None,
    population_sha256: str | None = None,
    row_counts: dict | None = None,
    notes: list | None = None,
    mode: str | None = None,
    previous_run_id: str | None = None,
    model_run_id: str | None = None,
) -> None:
    con.execute(
        "UPDATE runs SET finished_at = now(), status = ?, error = ?, input_files = ?, population_sha256 = ?, "
        "row_counts = ?, notes = ?, mode = ?, previous_run_id = ?, model_run_id = ? WHERE run_id = ?",
        [
            status,
            error,
            json.dumps(input_files or [], ensure_ascii=False),
            population_sha256,
            json.dumps(row_counts or {}),
            json.dumps(notes or [], ensure_ascii=False),
            mode,
            previous_run_id,
            model_run_id,
            run_id,
        ],
    )
