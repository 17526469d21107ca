"""Link evidence is stored once (issue 14 item 7): an incremental run points to an earlier run's
identical rows instead of copying them, and the view `link_evidence` still gives every run's rows
exactly as the run computed them. Real DuckDB files on disk; the three-month end-to-end check is
in tests/test_incremental.py (test_kept_evidence_is_stored_once_and_read_in_full)."""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines import warehouse
from pipelines.registries import REGISTRIES
from pipelines.warehouse.evidence import write_evidence

REG = "social_welfare"
COLUMNS = warehouse.TABLES["link_evidence_stored"].column_names


def _evidence(run_id: str, rows: list[tuple]) -> pl.DataFrame:
    """rows: (source_row, pop_rec_id, so_dinh_danh, rank, {comparison: (level, weight)})."""
    out = []
    for source_row, pop, sdd, rank, levels in rows:
        for comparison, (level, weight) in levels.items():
            out.append((run_id, REG, source_row, 0, source_row * 10, pop, sdd, rank, comparison, level, weight))
    schema = dict(
        zip(
            COLUMNS,
            (pl.String, pl.String, pl.Int64, pl.Int16, pl.Int64, pl.Int64, pl.String, pl.Int16)
            + (pl.String, pl.String, pl.Float64),
            strict=True,
        )
    )
    return pl.DataFrame(out, schema=schema, orient="row")


def _links(run_id: str, rows: list[tuple]) -> pl.DataFrame:
    """rows: (source_row, pop_rec_id, so_dinh_danh, link_from_run)."""
    return pl.DataFrame(
        {
            "run_id": run_id,
            "registry": REG,
            "source_file": "f.csv",
            "source_row": [r[0] for r in rows],
            "excel_row": [r[0] + 1 for r in rows],
            "owner_index": 0,
            "rec_id": [r[0] * 10 for r in rows],
            "pop_rec_id": [r[1] for r in rows],
            "so_dinh_danh": [r[2] for r in rows],
            "status": "matched",
            "method": "probabilistic",
            "entity": "person",
            "link_from_run": [r[3] for r in rows],
        }
    )


def _persons(run_id: str, keys: dict[int, str]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "run_id": run_id,
            "registry": REG,
            "rec_id": [r * 10 for r in keys],
            "source_row": list(keys),
            "owner_index": pl.Series([0] * len(keys), dtype=pl.Int16),
            "record_key": list(keys.values()),
        }
    )


SAME = {"ho_ten": ("exact", 8.5), "ngay_sinh": ("exact", 9.25), "gioi_tinh": ("exact", 0.75)}
OTHER_DATE = {"ho_ten": ("exact", 8.5), "ngay_sinh": ("year_only", 2.0), "gioi_tinh": ("exact", 0.75)}


def _write(db, run_id, persons, links, evidence, previous):
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        with warehouse.transaction(con):
            warehouse.insert_frame(con, "registry_persons", persons)
            warehouse.insert_frame(con, "links", links)
            return write_evidence(con, run_id, REG, evidence, previous)
    finally:
        con.close()


def _view(db, run_id: str) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute("SELECT * FROM link_evidence WHERE run_id = ?", [run_id]).pl().sort(COLUMNS)
    finally:
        con.close()


def test_only_identical_kept_evidence_becomes_a_pointer_and_the_view_gives_it_back(tmp_path):
    db = tmp_path / "w.duckdb"
    # month 1: three records, each with its person; record C had a runner-up candidate too
    m1 = _evidence("m1", [(1, 11, "A1", 1, SAME), (2, 12, "B1", 1, SAME), (3, 13, "C1", 1, SAME)])
    m1 = pl.concat([m1, _evidence("m1", [(3, 14, "C2", 2, OTHER_DATE)])])
    assert _write(
        db,
        "m1",
        _persons("m1", {1: "k:A#0", 2: "k:B#0", 3: "k:C#0"}),
        _links("m1", [(1, 11, "A1", "m1"), (2, 12, "B1", "m1"), (3, 13, "C1", "m1")]),
        m1,
        None,
    ) == (m1.height, 0)
    # month 2, re-sorted file and new extract rows: all three links kept; A's evidence identical,
    # B's date level differs (not identical: stored), C identical; D is new (stored)
    m2 = _evidence(
        "m2",
        [(7, 21, "A1", 1, SAME), (8, 22, "B1", 1, OTHER_DATE), (9, 23, "C1", 1, SAME), (5, 30, "D1", 1, SAME)],
    )
    stored, pointed = _write(
        db,
        "m2",
        _persons("m2", {7: "k:A#0", 8: "k:B#0", 9: "k:C#0", 5: "k:D#0"}),
        _links("m2", [(7, 21, "A1", "m1"), (8, 22, "B1", "m1"), (9, 23, "C1", "m1"), (5, 30, "D1", "m2")]),
        m2,
        "m1",
    )
    assert (stored, pointed) == (2 * len(SAME), 2)  # B and D stored; A and C pointed to month 1
    assert _view(db, "m2").equals(m2.sort(COLUMNS))  # the rows the run computed, not month 1's row numbers
    # month 3: A and C point to month 1 again (never to month 2, which holds no rows for them)
    m3 = _evidence("m3", [(1, 31, "A1", 1, SAME), (2, 33, "C1", 1, SAME)])
    stored, pointed = _write(
        db,
        "m3",
        _persons("m3", {1: "k:A#0", 2: "k:C#0"}),
        _links("m3", [(1, 31, "A1", "m1"), (2, 33, "C1", "m1")]),
        m3,
        "m2",
    )
    assert (stored, pointed) == (0, 2)
    assert _view(db, "m3").equals(m3.sort(COLUMNS))
    con = duckdb.connect(str(db), read_only=True)
    try:
        pointers = con.execute("SELECT DISTINCT from_run_id FROM link_evidence_kept WHERE run_id = 'm3'").fetchall()
        assert pointers == [("m1",)]
        assert con.execute("SELECT count(*) FROM link_evidence_stored WHERE run_id = 'm3'").fetchone()[0] == 0
    finally:
        con.close()
    assert _view(db, "m1").equals(m1.sort(COLUMNS))  # month 1 unchanged


def test_a_warehouse_of_the_earlier_release_keeps_its_evidence(tmp_path):
    """Before, the evidence was the table link_evidence: opened by this version it becomes
    link_evidence_stored with its rows, and link_evidence the view over it."""
    db = tmp_path / "w.duckdb"
    warehouse.connect(db, REGISTRIES.values()).close()
    old = _evidence("r0", [(1, 11, "A1", 1, SAME)])
    con = duckdb.connect(str(db))
    con.execute("DROP VIEW link_evidence")
    con.execute("DROP TABLE link_evidence_kept")
    con.execute("ALTER TABLE link_evidence_stored RENAME TO link_evidence")
    con.register("old", old.to_arrow())
    con.execute("INSERT INTO link_evidence SELECT * FROM old")
    con.close()
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        kinds = dict(
            con.execute(
                "SELECT table_name, 'table' FROM duckdb_tables() WHERE table_name LIKE 'link_evidence%' "
                "UNION ALL SELECT view_name, 'view' FROM duckdb_views() WHERE view_name = 'link_evidence'"
            ).fetchall()
        )
        assert kinds == {"link_evidence_stored": "table", "link_evidence_kept": "table", "link_evidence": "view"}
        assert con.execute("SELECT * FROM link_evidence").pl().sort(COLUMNS).equals(old.sort(COLUMNS))
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'link_evidence_stored'")
        assert comment.fetchone()[0] == warehouse.TABLES["link_evidence_stored"].comment
    finally:
        con.close()
