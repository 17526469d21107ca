"""The warehouse schema is data: every table and column commented, documented, and written
atomically. Real DuckDB files on disk."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines import warehouse
from pipelines.registries import REGISTRIES, get_spec

ROOT = Path(__file__).resolve().parent.parent


def test_architecture_lists_the_exact_columns():
    doc = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    for line in warehouse.schema_markdown([get_spec("pension")]).splitlines():
        assert line in doc, f"ARCHITECTURE.md out of date: {line[:80]}"


def test_schema_on_disk_has_every_comment_and_is_idempotent(tmp_path):
    db = tmp_path / "w.duckdb"
    warehouse.connect(db, REGISTRIES.values()).close()
    con = warehouse.connect(db, REGISTRIES.values())  # second open: nothing to create
    try:
        tables = {r[0]: r[1] for r in con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall()}
        assert set(warehouse.TABLES) <= set(tables)
        assert {f"{r}_rows" for r in REGISTRIES} <= set(tables)
        assert all(tables.values())
        uncommented = con.execute(
            "SELECT count(*) FROM duckdb_columns() WHERE NOT internal AND schema_name = 'main' AND coalesce(comment, '') = ''"
        ).fetchone()[0]
        assert uncommented == 0
    finally:
        con.close()


def test_links_has_the_contract_columns():
    cols = set(warehouse.TABLES["links"].column_names)
    assert {"run_id", "registry", "source_file", "source_row", "so_dinh_danh", "status", "method",
            "match_probability", "match_weight", "owner_index", "excel_row", "pop_rec_id"} <= cols


def test_insert_refuses_unknown_columns_and_rolls_back(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        ok = pl.DataFrame({"run_id": ["r1"], "registry": ["pension"], "source_row": [1], "status": ["matched"]})
        warehouse.write_results(con, {"links": ok})
        with pytest.raises(ValueError, match="bogus"):
            warehouse.write_results(con, {"links": ok.with_columns(pl.lit("r2").alias("run_id")),
                                          "alerts": pl.DataFrame({"bogus": [1]})})
        assert con.execute("SELECT list(run_id) FROM links").fetchone()[0] == ["r1"]
    finally:
        con.close()


def test_run_ledger(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        warehouse.start_run(con, "r1", "land", {"x": 1}, {"duckdb": duckdb.__version__})
        assert con.execute("SELECT status FROM runs").fetchone()[0] == "running"
        warehouse.finish_run(con, "r1", status="failed", error="tệp rỗng", input_files=[{"file": "a.csv", "sha256": "0" * 64}])
        status, error, finished = con.execute("SELECT status, error, finished_at FROM runs").fetchone()
        assert (status, error) == ("failed", "tệp rỗng") and finished is not None
    finally:
        con.close()


def test_links_effective_uses_hash_joins_and_an_old_view_is_replaced(tmp_path):
    """links_effective must not plan a nested-loop join (84 s per report query at 100k links);
    a warehouse holding an earlier definition of a view gets this version's when opened."""
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db, REGISTRIES.values())
    plan = "\n".join(r[1] for r in con.execute("EXPLAIN SELECT status, count(*) FROM links_effective GROUP BY status").fetchall())
    assert "NESTED_LOOP_JOIN" not in plan and "BLOCKWISE_NL_JOIN" not in plan
    assert "HASH_JOIN" in plan
    con.execute("CREATE OR REPLACE VIEW links_effective AS SELECT * FROM links")  # an older release's view
    assert warehouse._stale_views(con) == ["links_effective"]
    con.close()
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        assert warehouse._stale_views(con) == []
        cols = [r[0] for r in con.execute("DESCRIBE links_effective").fetchall()]
        assert "review_decision" in cols
    finally:
        con.close()
