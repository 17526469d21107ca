"""Reviewers' decisions carry forward (issue 14): a question answered once is not asked again while
both sides are unchanged, and comes back, with the earlier decision beside it, when one changed.

Month 1: a strict threshold leaves review rows; a reviewer accepts some candidates and rejects
others through the real workbook and `doisoat review`. Month 2: the same registry and extract —
no decided record is asked again: accepted pairs are linked (method `decision`), rejected pairs
never. Month 3: the file changed one accepted record's name (and its rows moved): that question
comes back, `carried_decisions` says why."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest

from pipelines.cli import main
from pipelines.flow import reconcile
from pipelines.labels import (
    CHANGES_SHEET,
    REVIEW_CANDIDATE_HEADER,
    REVIEW_DECISION_HEADER,
    REVIEW_KEY_HEADER,
    REVIEW_SHEET,
)
from pipelines.registries import get_spec

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
RANK_HEADER = "Người gần giống thứ"


def _strict():
    spec = get_spec("social_welfare")
    return dataclasses.replace(
        spec, match=dataclasses.replace(spec.match, match_threshold=0.999999999, review_threshold=0.05)
    )


def _decide(workbook: Path, out: Path, accept: set[int], reject: set[int]) -> None:
    """Accept the first candidate of `accept` rows, reject the first candidate of `reject` rows."""
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    header_row = next(r for r in range(1, 10) if REVIEW_DECISION_HEADER in [c.value for c in ws[r]])
    headers = [c.value for c in ws[header_row]]
    dcol, kcol, rcol = (headers.index(h) + 1 for h in (REVIEW_DECISION_HEADER, REVIEW_KEY_HEADER, RANK_HEADER))
    for r in range(header_row + 1, ws.max_row + 1):
        key = ws.cell(r, kcol).value
        if key is None or int(ws.cell(r, rcol).value) != 1:
            continue
        if int(key) in accept:
            ws.cell(r, dcol).value = "Đồng ý"
        elif int(key) in reject:
            ws.cell(r, dcol).value = "Bác bỏ"
    wb.save(out)
    assert REVIEW_CANDIDATE_HEADER in headers


def _query(db: Path, sql: str, params: list) -> pl.DataFrame:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params).pl()
    finally:
        con.close()


@pytest.fixture(scope="module")
def months(tmp_path_factory):
    root = tmp_path_factory.mktemp("carry")
    db, spec = root / "w.duckdb", _strict()
    first = reconcile(spec, SAMPLE / "population.csv", SAMPLE / "social_welfare.csv", db, root / "out1")
    review = _query(
        db,
        "SELECT l.source_row, l.pop_rec_id, r.ma_doi_tuong FROM links l "
        "JOIN social_welfare_rows r ON r.run_id = l.run_id AND r.source_row = l.source_row "
        "WHERE l.run_id = ? AND l.status = 'review' ORDER BY l.source_row",
        [first.run_id],
    )
    rows = review["source_row"].to_list()
    assert len(rows) >= 10, "the strict threshold must leave review rows"
    accept, reject = set(rows[0:6]), set(rows[6:9])
    filled = root / "filled.xlsx"
    _decide(root / "out1" / first.run_id / "social_welfare.xlsx", filled, accept, reject)
    assert main(["review", str(filled), "--db", str(db), "--out", str(root / "out1"), "--reviewer", "Cán bộ A"]) == 0
    second = reconcile(spec, SAMPLE / "population.csv", SAMPLE / "social_welfare.csv", db, root / "out2")
    # month 3: the first accepted record's name corrected at the commune, and two rows swapped places
    changed_row = min(accept)
    frame = pl.read_csv(SAMPLE / "social_welfare.csv", infer_schema=False)
    i = changed_row - 1  # source_row counts data rows from 1
    name = frame["ho_ten"][i]
    corrected = name[:-1] + ("a" if name[-1] != "a" else "o")  # one letter corrected: still a close candidate
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) == i).then(pl.lit(corrected)).otherwise(pl.col("ho_ten")).alias("ho_ten")
    )
    order = list(range(frame.height))
    order[-1], order[-2] = order[-2], order[-1]
    third_file = root / "social_welfare_thang3.csv"
    frame[order].write_csv(third_file)
    third = reconcile(spec, SAMPLE / "population.csv", third_file, db, root / "out3")
    keys = dict(zip(review["source_row"], review["ma_doi_tuong"]))
    return db, first, second, third, accept, reject, review, keys, changed_row


def test_decided_questions_are_not_asked_again(months):
    db, first, second, _, accept, reject, review, _, _ = months
    links = _query(db, "SELECT * FROM links WHERE run_id = ?", [second.run_id])
    by_row = {r["source_row"]: r for r in links.iter_rows(named=True)}
    chosen = dict(zip(review["source_row"], review["pop_rec_id"]))
    for row in accept:
        assert (by_row[row]["status"], by_row[row]["method"]) == ("matched", "decision"), row
        assert by_row[row]["pop_rec_id"] == chosen[row]
    for row in reject:
        assert by_row[row]["pop_rec_id"] != chosen[row] or by_row[row]["status"] == "unmatched", row
    carried = _query(db, "SELECT * FROM carried_decisions WHERE run_id = ?", [second.run_id])
    assert set(carried["state"]) == {"applied"}
    assert set(carried.filter(pl.col("decision") == "accept")["source_row"]) == accept
    assert set(carried.filter(pl.col("decision") == "reject")["source_row"]) == reject
    assert set(carried["from_run_id"]) == {first.run_id} and set(carried["reviewer"]) == {"Cán bộ A"}
    # everything the reviewer did not decide is as the first month
    before = _query(db, "SELECT source_row, status, pop_rec_id FROM links WHERE run_id = ?", [first.run_id])
    undecided = before.filter(~pl.col("source_row").is_in(list(accept | reject)))
    after = links.select("source_row", "status", "pop_rec_id").filter(
        pl.col("source_row").is_in(undecided["source_row"])
    )
    assert undecided.sort("source_row").equals(after.sort("source_row"))


def test_a_changed_record_is_asked_again_with_the_earlier_decision(months):
    db, _, _, third, accept, _, _, keys, changed_row = months
    carried = _query(db, "SELECT * FROM carried_decisions WHERE run_id = ?", [third.run_id])
    rows = _query(
        db,
        "SELECT l.source_row, l.status, l.method, r.ma_doi_tuong FROM links l JOIN social_welfare_rows r "
        "ON r.run_id = l.run_id AND r.source_row = l.source_row WHERE l.run_id = ?",
        [third.run_id],
    )
    by_key = {r["ma_doi_tuong"]: r for r in rows.iter_rows(named=True)}
    changed = by_key[keys[changed_row]]
    assert changed["method"] != "decision"
    state = carried.filter(pl.col("source_row") == changed["source_row"])
    assert state["state"].to_list() == ["record_changed"] and state["decision"].to_list() == ["accept"]
    # the other accepted records are recognized by their key wherever their row is now
    for row in accept - {changed_row}:
        assert by_key[keys[row]]["method"] == "decision"
    assert (carried["state"] == "applied").sum() == len(carried) - 1
    # the officer's workbook says so: a note on the summary, the earlier decision beside the question
    assert any("áp dụng lại" in n and "hỏi lại" in n for n in third.notes), third.notes
    assert changed["status"] == "review"  # the corrected record is still a close candidate
    wb = openpyxl.load_workbook(third.reports["excel"], read_only=True)
    lines = list(wb[REVIEW_SHEET].iter_rows(values_only=True))
    header = next(r for r in lines if r and REVIEW_DECISION_HEADER in r)
    earlier = [r[header.index("Quyết định trước đây")] for r in lines[lines.index(header) + 1 :]]
    why = [r[header.index("Vì sao hỏi lại")] for r in lines[lines.index(header) + 1 :]]
    assert "Đồng ý" in earlier and "Hỏi lại: hồ sơ trong sổ đã thay đổi" in why


def test_what_changed_since_last_month(months):
    """The `changes` view (Biến động so với lần trước): the same file again shows no record change;
    a corrected name is one changed record however the rows were re-sorted; coverage then and now."""
    db, first, second, third, _, reject, _, keys, changed_row = months
    month2 = _query(db, "SELECT * FROM changes WHERE run_id = ?", [second.run_id])
    assert set(month2["previous_run_id"]) <= {first.run_id}
    assert not month2.filter(pl.col("change").str.starts_with("record_")).height
    assert set(month2.filter(pl.col("change") == "link_changed")["source_row"]) <= reject
    month3 = _query(db, "SELECT * FROM changes WHERE run_id = ?", [third.run_id])
    records = month3.filter(pl.col("change").str.starts_with("record_"))
    assert records.select("change", "record_key").rows() == [("record_changed", f"k:{keys[changed_row]}#0")]
    coverage = _query(
        db, "SELECT * FROM coverage_changes WHERE run_id = ? AND level = 'all' AND metric = 'linked'", [third.run_id]
    )
    assert coverage["previous_run_id"].to_list() == [second.run_id]
    assert coverage["previous_value"][0] is not None and coverage["value"][0] is not None
    # the officer's workbook lists the changed record on its own sheet; the HTML report counts it
    wb = openpyxl.load_workbook(third.reports["excel"], read_only=True)
    lines = [r for r in wb[CHANGES_SHEET].iter_rows(values_only=True) if r and "Hồ sơ được sửa tại nguồn" in r]
    assert len(lines) == 1 and keys[changed_row] in lines[0]
    html = Path(third.reports["html"]).read_text(encoding="utf-8")
    assert "Biến động so với lần trước" in html and f"So với lần chạy <code>{second.run_id}</code>" in html
