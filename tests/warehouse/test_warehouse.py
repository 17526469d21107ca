"""The warehouse schema is data: every table and column commented, documented, and written
atomically. Real DuckDB files on disk."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pytest

from matching.person_schema import OPTIONAL, SCHEMA
from pipelines import warehouse
from pipelines.registries import REGISTRIES, get_spec
from pipelines.warehouse.schema import _stale_views

ROOT = Path(__file__).resolve().parents[2]


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
            "SELECT count(*) FROM duckdb_columns() "
            "WHERE NOT internal AND schema_name = 'main' AND coalesce(comment, '') = ''"
        ).fetchone()[0]
        assert uncommented == 0
    finally:
        con.close()


def test_person_schema_columns_are_the_engines():
    """population and registry_persons hold the person schema of matching/person_schema.py (its one
    home): every column, with the DuckDB type of its polars type."""
    duck = {pl.Int64: "BIGINT", pl.Int16: "SMALLINT", pl.String: "VARCHAR"}
    persons = {n: t for n, t, _ in warehouse.TABLES["registry_persons"].columns}
    assert {n: persons.get(n) for n in SCHEMA} == {n: duck[t] for n, t in SCHEMA.items()}
    population = {n: t for n, t, _ in warehouse.TABLES["population"].columns}
    stored_as = {
        "rec_id": "pop_rec_id",
        "ho_ten": "ho_ten_clean",
        "gioi_tinh": "gioi_tinh_clean",
        "ref_key": "so_dinh_danh",
    }
    assert {n: population.get(stored_as.get(n, n)) for n in SCHEMA | OPTIONAL} == {
        n: duck[t] for n, t in (SCHEMA | OPTIONAL).items()
    }


def test_links_has_the_contract_columns():
    cols = set(warehouse.TABLES["links"].column_names)
    assert {
        "run_id",
        "registry",
        "source_file",
        "source_row",
        "so_dinh_danh",
        "status",
        "method",
        "match_probability",
        "match_weight",
        "owner_index",
        "excel_row",
        "pop_rec_id",
    } <= cols


def _on_disk(db: Path, sql: str):
    """Read the warehouse file back from disk with a fresh connection (every writer is closed)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@contextmanager
def _run(db: Path, run_id: str):
    """As the pipeline does: hold the warehouse for the run and write its `running` ledger row first."""
    with warehouse.exclusive(db, command="run", run_id=run_id):
        con = warehouse.connect(db)
        try:
            warehouse.start_run(con, run_id, "pension", {}, {})
        finally:
            con.close()
        yield


def test_insert_refuses_unknown_columns_and_rolls_back(tmp_path):
    db = tmp_path / "w.duckdb"
    ok = pl.DataFrame({"run_id": ["r1"], "registry": ["pension"], "source_row": [1], "status": ["matched"]})
    with _run(db, "r1"):
        assert warehouse.write_run(db, "r1", {"links": ok}, {}) == {"links": 1}
    with _run(db, "r2"), pytest.raises(ValueError, match="bogus"):
        warehouse.write_run(
            db,
            "r2",
            {"links": ok.with_columns(pl.lit("r2").alias("run_id")), "alerts": pl.DataFrame({"bogus": [1]})},
            {},
        )
    assert _on_disk(db, "SELECT list(run_id) FROM links") == [(["r1"],)]
    assert _on_disk(db, "SELECT run_id, status FROM runs ORDER BY run_id") == [("r1", "succeeded"), ("r2", "running")]


def test_write_run_is_all_or_nothing_when_it_fails_after_the_rows(tmp_path):
    """The pipeline's write (`write_run`): rows of every table, the coverage computed from them
    inside the transaction and the `succeeded` ledger row commit together; a failure after the
    rows were inserted (here in the coverage step) leaves no row of the run on disk."""
    db = tmp_path / "w.duckdb"

    def frames(run_id: str) -> dict[str, pl.DataFrame]:
        return {
            "links": pl.DataFrame(
                {
                    "run_id": [run_id] * 3,
                    "registry": ["pension"] * 3,
                    "source_row": [1, 2, 3],
                    "status": ["matched", "review", "unmatched"],
                }
            ),
            "mismatches": pl.DataFrame(
                {"run_id": [run_id], "registry": ["pension"], "source_row": [1], "field": ["ho_ten"]}
            ),
        }

    def coverage(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:  # reads the rows just inserted
        return con.execute(
            "SELECT run_id, 'pension' AS registry, 'all' AS level, 'linked' AS metric, "
            "count(*) FILTER (status = 'matched') AS numerator, count(*) AS denominator "
            "FROM links GROUP BY run_id"
        ).pl()

    with _run(db, "r1"):
        written = warehouse.write_run(db, "r1", frames("r1"), {"row_counts": {"input_rows": 3}}, coverage=coverage)
    assert written == {"links": 3, "mismatches": 1, "coverage": 1}
    seen = []

    def failing_coverage(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
        seen.append(con.execute("SELECT count(*) FROM links WHERE run_id = 'r2'").fetchone()[0])
        raise RuntimeError("coverage failed")

    with _run(db, "r2"), pytest.raises(RuntimeError, match="coverage failed"):
        warehouse.write_run(db, "r2", frames("r2"), {"row_counts": {"input_rows": 3}}, coverage=failing_coverage)
    assert seen == [3]  # the run's rows were inserted when it failed
    for table in ("links", "mismatches", "coverage"):
        assert _on_disk(db, f"SELECT run_id, count(*) FROM {table} GROUP BY run_id") == [
            ("r1", 3 if table == "links" else 1)
        ]
    assert _on_disk(db, "SELECT run_id, status, row_counts FROM runs ORDER BY run_id") == [
        ("r1", "succeeded", '{"input_rows": 3}'),
        ("r2", "running", None),
    ]
    assert _on_disk(db, "SELECT numerator, denominator FROM coverage") == [(1, 3)]


def test_run_ledger(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        warehouse.start_run(con, "r1", "land", {"x": 1}, {"duckdb": duckdb.__version__})
        assert con.execute("SELECT status FROM runs").fetchone()[0] == "running"
        warehouse.finish_run(
            con, "r1", status="failed", error="tệp rỗng", input_files=[{"file": "a.csv", "sha256": "0" * 64}]
        )
        status, error, finished = con.execute("SELECT status, error, finished_at FROM runs").fetchone()
        assert (status, error) == ("failed", "tệp rỗng") and finished is not None
    finally:
        con.close()


def test_links_effective_uses_hash_joins_and_an_old_view_is_replaced(tmp_path):
    """links_effective must not plan a nested-loop join (84 s per report query at 100k links);
    a warehouse holding an earlier definition of a view gets this version's when opened."""
    db = tmp_path / "w.duckdb"
    con = warehouse.connect(db, REGISTRIES.values())
    plan = "\n".join(
        r[1] for r in con.execute("EXPLAIN SELECT status, count(*) FROM links_effective GROUP BY status").fetchall()
    )
    assert "NESTED_LOOP_JOIN" not in plan and "BLOCKWISE_NL_JOIN" not in plan
    assert "HASH_JOIN" in plan
    con.execute("CREATE OR REPLACE VIEW links_effective AS SELECT * FROM links")  # an older release's view
    assert _stale_views(con) == ["links_effective"]
    con.close()
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        assert _stale_views(con) == []
        cols = [r[0] for r in con.execute("DESCRIBE links_effective").fetchall()]
        assert "review_decision" in cols
    finally:
        con.close()


def test_insert_parquet_reads_the_files_in_one_statement_with_bound_constants(tmp_path):
    """The normalized extract's parts go in by DuckDB's read_parquet, in file order, the constants
    (run_id) bound; a column the table does not declare is refused, never dropped."""
    parts = []
    for i, ids in enumerate(([1, 2], [3])):
        path = tmp_path / f"part-{i}.parquet"
        pl.DataFrame(
            {"extract_sha256": ["s"] * len(ids), "pop_rec_id": ids, "ho_ten": ["A'B", None][: len(ids)]}
        ).write_parquet(path)
        parts.append(str(path))
    con = warehouse.connect(tmp_path / "w.duckdb")
    try:
        rows = warehouse.ParquetRows(files=tuple(parts), height=3, constants={"run_id": "r'1"})
        assert warehouse.insert_parquet(con, "population", rows) == 3
        got = con.execute("SELECT run_id, pop_rec_id, ho_ten FROM population ORDER BY pop_rec_id").fetchall()
        assert got == [("r'1", 1, "A'B"), ("r'1", 2, None), ("r'1", 3, "A'B")]
        bad = tmp_path / "bad.parquet"
        pl.DataFrame({"pop_rec_id": [4], "not_a_column": ["x"]}).write_parquet(bad)
        with pytest.raises(ValueError, match="not_a_column"):
            warehouse.insert_parquet(con, "population", warehouse.ParquetRows(files=(str(bad),), height=1))
    finally:
        con.close()
