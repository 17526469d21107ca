"""Writing a run's results: one transaction, all of it or none of it.

Why one function: the pipeline writes every result table of a run, the coverage computed from
those rows, and the run's `succeeded` ledger row in a single BEGIN … COMMIT (`write_run`). A run
killed or failing at any point inside it leaves none of its rows (its `runs` row stays `running`
until the next open marks it failed, or is set `failed` by the pipeline); the previous runs stay
exactly as they were. Tests call this same function, so they test what `doisoat run` does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import duckdb
import polars as pl

from matching.sql import quote_identifier
from pipelines import progress
from pipelines.spec import RegistrySpec
from pipelines.warehouse.connection import connect
from pipelines.warehouse.evidence import write_evidence
from pipelines.warehouse.ledger import finish_run
from pipelines.warehouse.lock import note_stage
from pipelines.warehouse.schema import OWN_SCHEMA, transaction


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame by column name; warehouse columns missing from the frame become NULL.

    Frame columns that the table does not declare are refused: silently dropping data is
    exactly what the warehouse must never do."""
    if frame.height == 0:
        return 0
    known = {
        r[0]
        for r in con.execute(
            f"SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND {OWN_SCHEMA}", [table]
        ).fetchall()
    }
    extra = [c for c in frame.columns if c not in known]
    if extra:
        raise ValueError(f"{table}: columns not in the warehouse schema: {extra}")
    view = f"_insert_{table}"
    con.register(view, frame.to_arrow())
    try:
        cols = ", ".join(quote_identifier(c) for c in frame.columns)
        con.execute(f"INSERT INTO {quote_identifier(table)} ({cols}) SELECT {cols} FROM {quote_identifier(view)}")
    finally:
        con.unregister(view)
    return frame.height


# The run's evidence frame: stored in link_evidence_stored, an incremental run's unchanged kept
# links as pointers (evidence.py); the view link_evidence shows it all.
EVIDENCE = "link_evidence"

# One normalized copy per extract: an extract read again with another reference spec (other headers
# or kinds) replaces its earlier rows, so queries by extract_sha256 never see two copies.
REPLACED_PER_EXTRACT = ("population", "population_issues")


def write_run(
    db: Path | str,
    run_id: str,
    frames: Mapping[str, pl.DataFrame],
    ledger: Mapping,
    *,
    specs: Iterable[RegistrySpec] = (),
    coverage: Callable[[duckdb.DuckDBPyConnection], pl.DataFrame] | None = None,
) -> dict[str, int]:
    """All result tables of the run, its coverage and its `succeeded` ledger row, in one transaction:
    a run killed at any point has either all of it (succeeded) or none of it (running → failed).

    `coverage` computes the `coverage` rows from the rows just inserted (it reads them inside the
    transaction); the pipeline passes the findings' coverage query, so the warehouse does not
    import the findings. `ledger` holds `finish_run`'s keyword arguments (input files, counts, notes).
    Returns the rows written per table."""
    con = connect(db, specs)
    total = sum(f.height for f in frames.values())
    try:
        with transaction(con), progress.rows(f"Ghi {len(frames)} bảng", total, show=total >= progress.LONG_ROWS) as bar:
            written = {}
            for t, f in frames.items():
                if t == EVIDENCE:
                    continue  # after the links and registry_persons it is compared through
                if t in REPLACED_PER_EXTRACT and f.height:
                    for sha in f["extract_sha256"].unique().to_list():
                        con.execute(f"DELETE FROM {quote_identifier(t)} WHERE extract_sha256 = ?", [sha])
                written[t] = insert_frame(con, t, f)
                bar.advance(f.height)
            if EVIDENCE in frames:
                previous = ledger.get("previous_run_id") if ledger.get("mode") == "incremental" else None
                registry = frames[EVIDENCE]["registry"][0] if frames[EVIDENCE].height else ""
                written[EVIDENCE], written["link_evidence_kept"] = write_evidence(
                    con, run_id, registry, frames[EVIDENCE], previous
                )
                bar.advance(frames[EVIDENCE].height)
            note_stage(db, "write_warehouse:transaction")  # inserted, not yet committed
            if coverage is not None:
                if total >= progress.LONG_ROWS:  # after the rows: coverage, then the commit to disk
                    progress.logger().info("  Tính độ bao phủ và lưu kho xuống đĩa…")
                written["coverage"] = insert_frame(con, "coverage", coverage(con))
            finish_run(con, run_id, status="succeeded", **ledger)
        return written
    finally:
        con.close()
