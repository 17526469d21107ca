"""Writing a run's results: one transaction, all of it or none of it.

Why one function: the pipeline writes every result table of a run, the coverage computed from
those rows, and the run's `succeeded` ledger row in a single BEGIN … COMMIT (`write_run`). A run
killed or failing at any point inside it leaves none of its rows (its `runs` row stays `running`
until the next open marks it failed, or is set `failed` by the pipeline); the previous runs stay
exactly as they were. Tests call this same function, so they test what `doisoat run` does.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa

from matching.sql import quote_identifier, quote_literal
from pipelines import progress
from pipelines.spec import RegistrySpec
from pipelines.warehouse.connection import connect
from pipelines.warehouse.evidence import write_evidence
from pipelines.warehouse.ledger import finish_run
from pipelines.warehouse.lock import note_stage
from pipelines.warehouse.schema import OWN_SCHEMA, transaction

# DuckDB's row group (rows; its storage default, 1.5). A large insert whose batches are whole row
# groups is written to the file as it goes (optimistic write) and kept as is at the commit. Batches
# of other sizes leave partial row groups that DuckDB's order-preserving parallel insert merges and
# the checkpoint then compresses and writes a second time: measured on a 1,000,000-row normalized
# extract, 2 threads, 13.8 CPU-s to insert then 10.6 CPU-s more at the checkpoint (the file grew
# from 135 to 253 MiB), against 13.0 CPU-s and no rewrite with 122,880-row batches.
ROW_GROUP_ROWS = 122_880


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame by column name; warehouse columns missing from the frame become NULL.

    Frame columns that the table does not declare are refused: silently dropping data is
    exactly what the warehouse must never do."""
    if frame.height == 0:
        return 0
    _refuse_undeclared(con, table, frame.columns)
    view = f"_insert_{table}"
    arrow = frame.to_arrow()
    if frame.height > ROW_GROUP_ROWS:  # whole row groups per batch: see ROW_GROUP_ROWS
        arrow = pa.Table.from_batches(arrow.to_batches(max_chunksize=ROW_GROUP_ROWS), arrow.schema)
    con.register(view, arrow)
    try:
        cols = ", ".join(quote_identifier(c) for c in frame.columns)
        con.execute(f"INSERT INTO {quote_identifier(table)} ({cols}) SELECT {cols} FROM {quote_identifier(view)}")
    finally:
        con.unregister(view)
    return frame.height


@dataclass(frozen=True)
class ParquetRows:
    """Rows of a table that live in Parquet files (the normalized CSDLQG extract: millions of rows),
    inserted by DuckDB straight from the files, never through Python.

    `constants`: columns the files lack, the same on every row (run_id); `replaces`: the column and
    value whose earlier rows the insert replaces (REPLACED_PER_EXTRACT: extract_sha256)."""

    files: tuple[str, ...]
    height: int
    constants: Mapping[str, str] = field(default_factory=dict)
    replaces: Mapping[str, str] = field(default_factory=dict)


def insert_parquet(con: duckdb.DuckDBPyConnection, table: str, rows: ParquetRows) -> int:
    """Insert Parquet rows in one statement read by DuckDB from the files (same column checks as
    `insert_frame`), the constant columns bound as parameters: nothing passes through Python.

    Why read_parquet: DuckDB reads the files a row group at a time, so memory holds a few row
    groups, never the table; the files' row groups are ROW_GROUP_ROWS long (ExtractStore), so every
    batch is written to the warehouse file once, as inserted. Measured on a 1,000,000-row normalized
    extract: 13.9 CPU-s and 380 MiB more memory, against 27.0 CPU-s and 1.5 GiB when inserted from
    polars' Arrow one 1,000,000-row file at a time (the rows read whole, then rewritten at the checkpoint)."""
    if not rows.files or rows.height == 0:
        return 0
    files = "[" + ", ".join(quote_literal(f) for f in rows.files) + "]"  # our own spill files, not input
    source = f"read_parquet({files})"
    in_files = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    names = [*in_files, *rows.constants]
    _refuse_undeclared(con, table, names)
    values = [quote_identifier(c) for c in in_files] + ["?" for _ in rows.constants]
    cols = ", ".join(quote_identifier(c) for c in names)
    inserted = con.execute(
        f"INSERT INTO {quote_identifier(table)} ({cols}) SELECT {', '.join(values)} FROM {source}",
        list(rows.constants.values()),
    ).fetchone()[0]
    return int(inserted)


def _refuse_undeclared(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> None:
    """Columns the table does not declare are refused: silently dropping data is exactly what the
    warehouse must never do."""
    known = _table_columns(con, table)
    extra = [c for c in columns if c not in known]
    if extra:
        raise ValueError(f"{table}: columns not in the warehouse schema: {extra}")


def _table_columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            f"SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND {OWN_SCHEMA}", [table]
        ).fetchall()
    }


# The run's evidence frame: stored in link_evidence_stored, an incremental run's unchanged kept
# links as pointers (evidence.py); the view link_evidence shows it all.
EVIDENCE = "link_evidence"

# One normalized copy per extract: an extract read again with another reference spec (other headers
# or kinds) replaces its earlier rows, so queries by extract_sha256 never see two copies.
REPLACED_PER_EXTRACT = ("population", "population_issues")


def write_memory_mib() -> int:
    """DuckDB's memory for writing a run: a quarter of the machine's memory, at most 4 GiB.

    Why: without a limit DuckDB's buffer pool keeps the inserted blocks of the open transaction
    and grows toward 80 % of RAM (a 10,000,000-person extract with 1,000,000 welfare rows: the
    process passed 15 GiB before the commit); with it, DuckDB spills to the private spill folder
    (connection.spill_dir). The limit alone did not bound the write (10M extract rows in isolation:
    +10.1 GiB, 220 CPU-s): the rows came from polars one 1M-row frame at a time, in batches that were
    not whole row groups, so DuckDB merged and rewrote them at the commit. Inserted by read_parquet
    from row-group-sized parts (`insert_parquet`) the same write grew memory by 1.6 GiB (125 CPU-s)."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return max(512, min(4096, total // 4))


def write_run(
    db: Path | str,
    run_id: str,
    frames: Mapping[str, pl.DataFrame | ParquetRows],
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
        con.execute("SET memory_limit = ?", [f"{write_memory_mib()}MiB"])
        with transaction(con), progress.rows(f"Ghi {len(frames)} bảng", total, show=total >= progress.LONG_ROWS) as bar:
            written = {}
            for t, f in frames.items():
                if t == EVIDENCE:
                    continue  # after the links and registry_persons it is compared through
                if t in REPLACED_PER_EXTRACT and f.height:
                    if isinstance(f, ParquetRows):
                        shas = [f.replaces["extract_sha256"]]
                    else:
                        shas = f["extract_sha256"].unique().to_list()
                    for sha in shas:
                        con.execute(f"DELETE FROM {quote_identifier(t)} WHERE extract_sha256 = ?", [sha])
                written[t] = insert_parquet(con, t, f) if isinstance(f, ParquetRows) else insert_frame(con, t, f)
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
