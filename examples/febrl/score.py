"""Read the links of a FEBRL run from the doisoat warehouse and score them against FEBRL's truth.

Why a module of its own: the benchmark (`bench/bench_febrl.py`) and the CI test
(`tests/test_febrl_example.py`) score the same way, so the SQL that turns the warehouse's `links`
into "registry rec_id → reference rec_id" pairs and the precision/recall arithmetic live here once.

A registry row is a predicted link when its status is `matched` or `duplicate` (a second row of the
same person, still linked to it); `review`, `unmatched` and `rejected` rows are not links. The
registry row's own rec_id is its key column (`ma_ban_ghi`) in the run's `<registry>_rows` table,
joined on (run_id, source_row); the reference rec_id is `links.so_dinh_danh`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from matching.sql import quote_identifier

REGISTRY = "febrl_dup"  # `name:` of examples/febrl/registry.yaml
REGISTRY_KEY = "ma_ban_ghi"  # its key column (header rec_id)
LINK_STATUSES = ("matched", "duplicate")


def latest_run(con: duckdb.DuckDBPyConnection, registry: str = REGISTRY) -> str:
    """The last succeeded run of the FEBRL registry in this warehouse."""
    row = con.execute(
        "SELECT run_id FROM runs WHERE registry = ? AND status = 'succeeded' ORDER BY started_at DESC LIMIT 1",
        [registry],
    ).fetchone()
    if row is None:
        raise LookupError(f"no succeeded run of {registry} in the warehouse")
    return row[0]


def warehouse_links(db: Path, run_id: str | None = None) -> tuple[str, list[tuple[str, str, str]]]:
    """(run_id, [(registry rec_id, status, links.so_dinh_danh)]) — one row per registry row of the run."""
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = run_id or latest_run(con)
        rows = con.execute(
            f"""
            WITH run_links AS (
                SELECT source_row, status, so_dinh_danh FROM links WHERE run_id = $run
            ),
            run_rows AS (
                SELECT source_row, {quote_identifier(REGISTRY_KEY)} AS registry_rec_id
                FROM {quote_identifier(REGISTRY + "_rows")} WHERE run_id = $run
            )
            SELECT r.registry_rec_id, l.status, l.so_dinh_danh
            FROM run_links AS l JOIN run_rows AS r USING (source_row)
            ORDER BY l.source_row
            """,
            {"run": run_id},
        ).fetchall()
    return run_id, rows


def predicted(rows: list[tuple[str, str, str]]) -> dict[str, str]:
    """registry rec_id → reference rec_id for the rows doisoat linked."""
    return {rec: ref for rec, status, ref in rows if status in LINK_STATUSES and ref is not None}


def read_truth(path: Path) -> dict[str, str]:
    """registry rec_id → reference rec_id (truth.csv written by prepare.py)."""
    with path.open(encoding="utf-8", newline="") as fh:
        return {r["registry_rec_id"]: r["reference_rec_id"] for r in csv.DictReader(fh)}


def score(links: dict[str, str], truth: dict[str, str]) -> dict[str, float | int]:
    """Precision, recall and F1 of predicted links (registry → reference) against the truth.

    Every registry row of FEBRL3 has its original in the reference list, so recall's denominator
    is the whole truth; a link to a wrong original is a false link (and a missed one)."""
    correct = sum(1 for rec, ref in links.items() if truth.get(rec) == ref)
    p = correct / len(links) if links else 1.0
    r = correct / len(truth) if truth else 1.0
    return {
        "links": len(links),
        "correct": correct,
        "false_links": len(links) - correct,
        "missed": len(truth) - correct,
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
    }
