"""Incremental runs give what full runs give (issue 14, the contract).

Three "months" of the welfare registry against three CSDLQG extracts, the later two made by
`pipelines/sample/next_month.py` (`doisoat sample --next-month`) with known changes: rows added,
removed and corrected at source, the file re-sorted, a new row naming an already-linked person by
that person's exact ID (a would-be thief); persons dead, moved, with a corrected name, with a new ID
(the old one gone), and new persons. Warehouse A runs month 1 and then months 2 and 3
incrementally (the default); warehouse B is A's copy after month 1 and runs months 2 and 3 with
`full=True` (every record through the ID passes and blocking again, same frozen model). Links,
mismatches, missing fields, duplicates, alerts and coverage must be
identical month by month — and the incremental runs must really have skipped the kept records.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.flow import reconcile
from pipelines.registries import get_spec
from pipelines.sample.next_month import next_month, unlisted_id_rows

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
SPEC = get_spec("social_welfare")
FINDINGS = ("mismatches", "missing_fields", "duplicates", "alerts", "coverage")


def _csv(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def _query(db: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    root = tmp_path_factory.mktemp("incremental")
    a, b = root / "a.duckdb", root / "b.duckdb"
    pop, reg = _csv(SAMPLE / "population.csv"), _csv(SAMPLE / "social_welfare.csv")
    facts: dict = {}
    runs: dict[str, list[str]] = {"a": [], "b": []}
    first = reconcile(SPEC, SAMPLE / "population.csv", SAMPLE / "social_welfare.csv", a, root / "out", reports=False)
    runs["a"].append(first.run_id)
    runs["b"].append(first.run_id)
    shutil.copy(a, b)
    c = root / "c.duckdb"  # month 1's model but none of its links: month 2 matched with no memory of them
    shutil.copy(a, c)
    con = duckdb.connect(str(c))
    con.execute("DELETE FROM links WHERE run_id = ?", [first.run_id])
    con.close()
    unlisted = unlisted_id_rows(SAMPLE)
    for month in (2, 3):
        pop, reg, facts[month] = next_month(pop, reg, month, unlisted_id_rows=unlisted if month == 2 else None)
        pop_file, reg_file = root / f"population_{month}.csv", root / f"social_welfare_{month}.csv"
        pop.write_csv(pop_file)
        reg.write_csv(reg_file)
        for name, db, full in (("a", a, False), ("b", b, True)):
            run = reconcile(SPEC, pop_file, reg_file, db, root / "out", reports=False, full=full)
            runs[name].append(run.run_id)
        if month == 2:
            runs["c"] = [first.run_id, reconcile(SPEC, pop_file, reg_file, c, root / "out", reports=False).run_id]
    return {"a": a, "b": b, "c": c, "runs": runs, "facts": facts}


def _links(db: Path, run_id: str, runs: list[str]) -> pl.DataFrame:
    month = {r: i + 1 for i, r in enumerate(runs)}
    return (
        _query(db, "SELECT * FROM links WHERE run_id = ?", [run_id])
        .with_columns(
            pl.col("link_from_run").replace_strict(month, default=None, return_dtype=pl.Int64),
            pl.col("match_probability").round(9),
            pl.col("match_weight").round(6),
        )
        .drop("run_id", "pop_rec_id")
        .sort("source_row", "owner_index")
    )


def _table(db: Path, table: str, run_id: str) -> pl.DataFrame:
    frame = _query(db, f"SELECT * FROM {table} WHERE run_id = ?", [run_id]).drop("run_id", "pop_rec_id", strict=False)
    floats = [c for c, t in frame.schema.items() if t == pl.Float64]
    return frame.with_columns(pl.col(floats).round(9)).sort(frame.columns)


def test_incremental_months_equal_full_months(months):
    a, b, runs = months["a"], months["b"], months["runs"]
    for month in (1, 2):  # months 2 and 3
        ra, rb = runs["a"][month], runs["b"][month]
        la, lb = _links(a, ra, runs["a"]), _links(b, rb, runs["b"])
        assert la.height == lb.height > 500
        assert la.equals(lb), f"month {month + 1}: links differ"
        for table in FINDINGS:
            assert _table(a, table, ra).equals(_table(b, table, rb)), f"month {month + 1}: {table} differ"


def test_the_modes_and_the_work_they_skipped(months):
    a, b, runs = months["a"], months["b"], months["runs"]
    ledger_a = _query(a, "SELECT run_id, mode, previous_run_id, model_run_id, row_counts FROM runs ORDER BY started_at")
    ledger_b = _query(b, "SELECT run_id, mode, model_run_id FROM runs ORDER BY started_at")
    assert ledger_a["mode"].to_list() == ["first", "incremental", "incremental"]
    assert ledger_b["mode"].to_list() == ["first", "full", "full"]
    first = runs["a"][0]
    assert set(ledger_a["model_run_id"].to_list()) == {first} == set(ledger_b["model_run_id"].to_list())
    assert ledger_a["previous_run_id"].to_list()[1:] == runs["a"][:2]
    for month in (1, 2):
        blocked = {}
        for name, db in (("a", a), ("b", b)):
            models = _query(
                db, "SELECT blocking, trained_in_run_id FROM match_models WHERE run_id = ?", [runs[name][month]]
            )
            assert models["trained_in_run_id"].to_list() == [first]
            pairs = pl.read_json(models["blocking"][0].encode())
            blocked[name] = pairs.filter(~pl.col("rule").is_in(["kept", "id_exact", "cmnd9", "id_one_edit"]))[
                "pairs"
            ].sum()
        assert blocked["a"] * 3 < blocked["b"], blocked  # kept records were not blocked again
    # only the first run stored term frequencies (the frozen model's)
    tf_runs = _query(a, "SELECT DISTINCT run_id FROM term_frequencies")["run_id"].to_list()
    assert tf_runs == [first]


def test_links_are_stable_and_changes_are_rechecked(months):
    a, runs, facts = months["a"], months["runs"], months["facts"]
    last = runs["a"][-1]
    kept = _query(
        a,
        "SELECT count(*) AS n FROM links WHERE run_id = ? AND status = 'matched' AND link_from_run = ?",
        [last, runs["a"][0]],
    )["n"][0]
    assert kept > 300  # most month-1 links carried through two months
    # a new row with the exact ID of an already-linked person is that record's duplicate, not its thief
    thieves = facts[2]["rows_listing_a_listed_person"]
    assert thieves
    for thief, victim in thieves:
        rows = _query(
            a,
            "SELECT r.ma_doi_tuong, l.status, l.duplicate_of, l.source_row FROM links l "
            "JOIN social_welfare_rows r ON r.run_id = l.run_id AND r.source_row = l.source_row "
            "WHERE l.run_id = ? AND r.ma_doi_tuong IN (?, ?)",
            [last, thief, victim],
        )
        by_key = {r["ma_doi_tuong"]: r for r in rows.iter_rows(named=True)}
        assert by_key[victim]["status"] == "matched"
        assert by_key[thief]["status"] == "duplicate"
        assert by_key[thief]["duplicate_of"] == by_key[victim]["source_row"]
    # no link to a person who changed was carried: each was re-checked in the month it changed
    carried_changed = _query(
        a,
        "SELECT count(*) AS n FROM links WHERE run_id = ? AND link_from_run <> run_id AND so_dinh_danh IN "
        "(SELECT unnest(?::VARCHAR[]))",
        [runs["a"][1], facts[2]["changed_person_ids"]],
    )["n"][0]
    assert carried_changed == 0
    counts = json.loads(_query(a, "SELECT row_counts FROM runs WHERE run_id = ?", [runs["a"][1]])["row_counts"][0])
    assert 1 <= counts["previous_links_person_missing"] <= facts[2]["persons_new_id"]  # re-issued IDs
    assert counts["previous_links_person_changed"] >= 6  # dead, moved, renamed
    assert counts["previous_links_record_gone"] >= 1
    assert 1 <= counts["previous_links_record_changed"] <= len(facts[2]["rows_dob_corrected"])
    assert counts["links_kept"] > 400
    # the dead still paid are found in the incremental month
    alerts = _query(a, "SELECT count(*) AS n FROM alerts WHERE run_id = ?", [runs["a"][1]])["n"][0]
    assert alerts >= 3


def test_kept_links_are_the_links_a_run_without_memory_makes(months):
    """What stability changes, and nothing else: month 2 matched again with month 1's model but
    without its links differs from the incremental month 2 only where a link would have moved —
    the would-be thief and the record it would have robbed."""
    a, c, runs, facts = months["a"], months["c"], months["runs"], months["facts"]
    cols = ["source_row", "owner_index", "status", "so_dinh_danh", "method", "duplicate_of"]
    la = _links(a, runs["a"][1], runs["a"]).select(cols)
    lc = _links(c, runs["c"][1], runs["c"]).select(cols)
    differ = la.join(lc, on=["source_row", "owner_index"], suffix="_fresh").filter(
        pl.any_horizontal(pl.col(x).ne_missing(pl.col(f"{x}_fresh")) for x in cols[2:])
    )
    keys = _query(a, "SELECT source_row, ma_doi_tuong FROM social_welfare_rows WHERE run_id = ?", [runs["a"][1]])
    involved = {k for pair in facts[2]["rows_listing_a_listed_person"] for k in pair}
    assert set(differ.join(keys, on="source_row")["ma_doi_tuong"].to_list()) == involved, differ


def test_kept_evidence_is_stored_once_and_read_in_full(months):
    """Issue 14 item 7: an incremental month stores the evidence of its unchanged kept links as a
    pointer to the run that stored it (pipelines/warehouse/evidence.py), and the view
    link_evidence gives back, under this month's rows, the evidence the full run (B, every record
    scored from scratch with the same model) computed for the same pair."""
    a, b, runs = months["a"], months["b"], months["runs"]
    key = ["source_row", "owner_index", "so_dinh_danh", "pop_rec_id", "comparison", "level", "w"]
    for month in (1, 2):  # months 2 and 3
        ra, rb = runs["a"][month], runs["b"][month]
        pointers = _query(a, "SELECT * FROM link_evidence_kept WHERE run_id = ?", [ra])
        kept = _query(
            a,
            "SELECT count(*) AS n FROM links WHERE run_id = ? AND status = 'matched' AND link_from_run <> run_id",
            [ra],
        )["n"][0]
        assert pointers.height > 0.9 * kept and kept > 400
        assert set(pointers["from_run_id"].to_list()) <= set(runs["a"][:month])
        chained = _query(  # a pointer names a run holding the rows itself, never another pointer
            a,
            "SELECT count(*) AS n FROM link_evidence_kept k JOIN link_evidence_kept k2 "
            "ON k2.run_id = k.from_run_id AND k2.rec_id = k.from_rec_id WHERE k.run_id = ?",
            [ra],
        )["n"][0]
        assert chained == 0
        stored = _query(a, "SELECT count(*) AS n FROM link_evidence_stored WHERE run_id = ?", [ra])["n"][0]
        shown = _query(a, "SELECT count(*) AS n FROM link_evidence WHERE run_id = ?", [ra])["n"][0]
        assert stored * 3 < shown
        sql = (
            "SELECT source_row, owner_index, so_dinh_danh, pop_rec_id, comparison, level, "
            "round(partial_weight, 9) AS w FROM link_evidence WHERE run_id = ?"
        )
        from_pointers = (
            _query(a, sql + " AND rec_id IN (SELECT rec_id FROM link_evidence_kept WHERE run_id = ?)", [ra, ra])
            .select(key)
            .sort(key)
        )
        assert from_pointers.height >= 3 * pointers.height
        full = _query(b, sql, [rb]).join(from_pointers.select(key[:3]).unique(), on=key[:3]).select(key).sort(key)
        assert from_pointers.equals(full), f"month {month + 1}: kept evidence differs from the full run's"
