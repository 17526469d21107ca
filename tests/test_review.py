"""Reviewers' decisions, round trip: a real run writes its workbook, a reviewer fills the
"Cần xem xét" sheet from the sample truth, `doisoat review` records it, and the warehouse,
coverage and regenerated reports follow the decisions while `links` keeps the matcher's outcome."""

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
    REVIEW_CANDIDATE_HEADER,
    REVIEW_DECISION_HEADER,
    REVIEW_KEY_HEADER,
    REVIEW_NOTE_HEADER,
    REVIEW_SHEET,
)
from pipelines.registries import get_spec
from pipelines.review import FINDING_TABLES, parse_decision, recompute_findings
from pipelines.warehouse import connect

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"
RANK_HEADER = "Người gần giống thứ"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Đồng ý", "accept"),
        ("đồng ý", "accept"),
        ("DONG Y", "accept"),
        (" Đúng ", "accept"),
        ("accept", "accept"),
        ("Bác bỏ", "reject"),
        ("bac bo", "reject"),
        ("Không phải", "reject"),
        ("Sai.", "reject"),
        (None, None),
        ("", None),
        ("   ", None),
    ],
)
def test_parse_decision(text, expected):
    assert parse_decision(text) == expected


@pytest.mark.parametrize("text", ["có lẽ", "?", "1", "đồng ý một phần"])
def test_parse_decision_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError):
        parse_decision(text)


@pytest.fixture(scope="module")
def reviewed_run(tmp_path_factory):
    """The sample's welfare registry with a match threshold so strict that every probabilistic
    link needs review: dozens of review rows whose truth is known."""
    root = tmp_path_factory.mktemp("review")
    spec = get_spec("social_welfare")
    strict = dataclasses.replace(
        spec, match=dataclasses.replace(spec.match, match_threshold=0.999999999, review_threshold=0.05)
    )
    summary = reconcile(
        strict, SAMPLE / "population.csv", SAMPLE / "social_welfare.csv", root / "w.duckdb", root / "out"
    )
    return root, summary


def _fill(workbook: Path, out: Path, decide) -> dict[int, str]:
    """Write decide(source_row, candidate pop_rec_id, candidate rank) into the decision column of
    every line (a review record has one line per candidate); returns the record-level decisions."""
    wb = openpyxl.load_workbook(workbook)
    ws = wb[REVIEW_SHEET]
    header_row = next(r for r in range(1, 10) if REVIEW_DECISION_HEADER in [c.value for c in ws[r]])
    headers = [c.value for c in ws[header_row]]
    dcol, ncol, kcol, ccol, rcol = (
        headers.index(h) + 1
        for h in (REVIEW_DECISION_HEADER, REVIEW_NOTE_HEADER, REVIEW_KEY_HEADER, REVIEW_CANDIDATE_HEADER, RANK_HEADER)
    )
    written: dict[int, str] = {}
    for r in range(header_row + 1, ws.max_row + 1):
        key = ws.cell(r, kcol).value
        if key is None:
            continue
        value = decide(int(key), int(ws.cell(r, ccol).value), int(ws.cell(r, rcol).value))
        ws.cell(r, dcol).value = value
        if value is not None:
            ws.cell(r, ncol).value = f"kiểm tra hồ sơ dòng {key}"
            if written.get(int(key)) != "Đồng ý":
                written[int(key)] = value
    wb.save(out)
    return written


def _sheet_decisions(workbook: Path) -> dict[int, set]:
    wb = openpyxl.load_workbook(workbook, read_only=True)
    rows = list(wb[REVIEW_SHEET].iter_rows(values_only=True))
    wb.close()
    at = next(i for i, r in enumerate(rows) if r and REVIEW_DECISION_HEADER in r)
    header = list(rows[at])
    d, k = header.index(REVIEW_DECISION_HEADER), header.index(REVIEW_KEY_HEADER)
    out: dict[int, set] = {}
    for r in rows[at + 1 :]:
        if r[k] is not None:
            out.setdefault(int(r[k]), set()).add(r[d])
    return out


def _db(root: Path):
    return duckdb.connect(str(root / "w.duckdb"), read_only=True)


def test_round_trip_follows_the_truth(reviewed_run, capsys):
    root, summary = reviewed_run
    run_id = summary.run_id
    truth = pl.read_csv(SAMPLE / "truth" / "social_welfare.csv", schema_overrides={"so_dinh_danh": pl.Utf8})
    truth_id = dict(zip(truth["source_row"], truth["so_dinh_danh"]))
    con = _db(root)
    review = con.execute(
        "SELECT source_row, so_dinh_danh FROM links WHERE run_id = ? AND status = 'review'", [run_id]
    ).pl()
    cands = con.execute(
        "SELECT DISTINCT source_row, pop_rec_id, so_dinh_danh, candidate_rank FROM link_evidence "
        "WHERE run_id = ? AND candidate_rank <= 3",
        [run_id],
    ).pl()
    links_before = con.execute("SELECT * FROM links WHERE run_id = ? ORDER BY source_row", [run_id]).pl()
    cov_before = dict(
        con.execute("SELECT metric, numerator FROM coverage WHERE run_id = ? AND level = 'all'", [run_id]).fetchall()
    )
    con.close()
    assert review.height >= 20, "the strict threshold must leave many rows for review"
    candidate = dict(zip(review["source_row"], review["so_dinh_danh"]))
    pop_sdd = dict(zip(cands["pop_rec_id"], cands["so_dinh_danh"]))
    # decide all but the last three from the truth; those stay pending
    keep_pending = set(sorted(candidate)[-3:])
    right = {r for r in candidate if truth_id.get(r) in set(cands.filter(pl.col("source_row") == r)["so_dinh_danh"])}
    # the reviewer is not sure of every fourth one and rejects it (the sample's candidates are
    # nearly all right, and the reject path must be exercised too)
    unsure = set(sorted(candidate)[::4])
    right -= unsure
    assert right and unsure - keep_pending

    def decide(r, pop, rank):
        if r in keep_pending:
            return None
        if r in right:
            return "Đồng ý" if pop_sdd.get(pop) == truth_id[r] else None
        return "Bác bỏ" if rank == 1 else None

    workbook = root / "out" / run_id / "social_welfare.xlsx"
    filled = root / "filled.xlsx"
    written = _fill(workbook, filled, decide)
    code = main(
        ["review", str(filled), "--db", str(root / "w.duckdb"), "--out", str(root / "out"), "--reviewer", "Cán bộ A"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    n_acc = sum(1 for v in written.values() if v == "Đồng ý")
    n_rej = len(written) - n_acc
    assert n_acc > 0 and n_rej > 0
    assert f"{n_acc:,} đồng ý, {n_rej:,} bác bỏ, {len(keep_pending):,} chưa quyết định" in printed

    con = _db(root)
    try:
        decisions = con.execute("SELECT * FROM review_decisions WHERE run_id = ?", [run_id]).pl()
        assert decisions.height == len(written)
        assert (
            set(decisions["reviewer"]) == {"Cán bộ A"} and decisions["decision_file_sha256"].str.len_chars().min() == 64
        )
        eff = con.execute("SELECT * FROM links_effective WHERE run_id = ? ORDER BY source_row", [run_id]).pl()
        # links keeps what the matcher decided
        assert (
            con.execute("SELECT * FROM links WHERE run_id = ? ORDER BY source_row", [run_id]).pl().equals(links_before)
        )
        for rec in eff.filter(pl.col("review_decision").is_not_null()).iter_rows(named=True):
            if rec["review_decision"] == "accept":
                assert rec["status"] in ("matched", "duplicate") and rec["method"] == "review_accepted"
                assert rec["so_dinh_danh"] == truth_id[rec["source_row"]]
            else:
                assert (
                    rec["status"] == "unmatched" and rec["so_dinh_danh"] is None and rec["reason"] == "review_rejected"
                )
        assert eff.filter(pl.col("status") == "review").height == len(keep_pending)
        assert eff.height == links_before.height  # still exactly one outcome per record
        cov = dict(
            con.execute(
                "SELECT metric, numerator FROM coverage WHERE run_id = ? AND level = 'all'", [run_id]
            ).fetchall()
        )
        assert cov["linked"] == cov_before["linked"] + n_acc
        assert cov["review"] == len(keep_pending)
        assert cov["not_found"] == cov_before["not_found"] + n_rej
        # accepted records are checked like any link: their missing fields now get CSDLQG's value
        accepted = eff.filter(pl.col("method") == "review_accepted")["source_row"].to_list()
        supplied = con.execute(
            "SELECT count(*) FROM missing_fields "
            "WHERE run_id = ? AND so_dinh_danh IS NOT NULL AND list_contains(?, source_row)",
            [run_id, accepted],
        ).fetchone()[0]
        missing_any = con.execute(
            "SELECT count(*) FROM missing_fields WHERE run_id = ? AND list_contains(?, source_row)", [run_id, accepted]
        ).fetchone()[0]
        assert supplied == missing_any
    finally:
        con.close()

    # the regenerated workbook shows the decisions, and rejected rows are in "Không tìm thấy"
    shown = _sheet_decisions(workbook)
    assert {r: ({"Đồng ý", "Bác bỏ"} & v or {None}).pop() for r, v in shown.items()} == {
        r: written.get(r) for r in candidate
    }
    wb = openpyxl.load_workbook(workbook, read_only=True)
    not_found = [r for r in wb["Không tìm thấy"].iter_rows(values_only=True) if r and "Người xem xét bác bỏ" in str(r)]
    assert len(not_found) == n_rej
    wb.close()
    html = (root / "out" / run_id / "social_welfare_audit.html").read_text(encoding="utf-8")
    assert "Cán bộ A" in html and f"{n_acc:,} được xác nhận là cùng một người, {n_rej:,} bị bác bỏ" in html

    # importing the same workbook again records nothing new; changing one decision adds history
    assert (
        main(
            [
                "review",
                str(filled),
                "--db",
                str(root / "w.duckdb"),
                "--out",
                str(root / "out"),
                "--reviewer",
                "Cán bộ A",
            ]
        )
        == 0
    )
    assert "(0 ghi mới" in capsys.readouterr().out
    flip = next(r for r in sorted(written) if r in unsure)  # rejected before; now accepted (best candidate)
    refilled = root / "refilled.xlsx"
    _fill(
        filled,
        refilled,
        lambda r, pop, rank: ("Bác bỏ" if written[r] == "Đồng ý" else "Đồng ý") if r == flip and rank == 1 else None,
    )
    assert (
        main(
            [
                "review",
                str(refilled),
                "--db",
                str(root / "w.duckdb"),
                "--out",
                str(root / "out"),
                "--reviewer",
                "Cán bộ B",
            ]
        )
        == 0
    )
    capsys.readouterr()
    con = _db(root)
    try:
        history = con.execute(
            "SELECT decision, reviewer FROM review_decisions WHERE run_id = ? AND source_row = ? ORDER BY decided_at",
            [run_id, flip],
        ).fetchall()
        assert len(history) == 2 and history[-1][1] == "Cán bộ B"
        latest = con.execute(
            "SELECT review_decision FROM links_effective WHERE run_id = ? AND source_row = ?", [run_id, flip]
        ).fetchone()[0]
        assert latest == history[-1][0] != history[0][0]
    finally:
        con.close()


def test_bad_workbooks_are_refused_with_file_row_and_column(reviewed_run, tmp_path, capsys):
    root, summary = reviewed_run
    workbook = root / "out" / summary.run_id / "social_welfare.xlsx"
    db = str(root / "w.duckdb")
    con = _db(root)
    before = con.execute("SELECT count(*) FROM review_decisions").fetchone()[0]
    con.close()

    bad = tmp_path / "bad_value.xlsx"
    first = [None]

    def one_bad(r, pop, rank):
        if rank != 1:
            return None
        if first[0] is None:
            first[0] = r
            return "có lẽ"
        return "Đồng ý"

    _fill(workbook, bad, one_bad)
    assert main(["review", str(bad), "--db", db, "--out", str(tmp_path), "--reviewer", "X"]) == 2
    err = capsys.readouterr().err
    assert "bad_value.xlsx" in err and "dòng 5" in err and REVIEW_DECISION_HEADER in err and "có lẽ" in err

    wrong_key = tmp_path / "wrong_key.xlsx"
    _fill(workbook, wrong_key, lambda r, pop, rank: "Đồng ý" if rank == 1 else None)
    wb = openpyxl.load_workbook(wrong_key)
    ws = wb[REVIEW_SHEET]
    kcol = [c.value for c in ws[4]].index(REVIEW_KEY_HEADER) + 1
    ws.cell(5, kcol).value = 1  # source_row 1 is a matched row, not a review row
    wb.save(wrong_key)
    assert main(["review", str(wrong_key), "--db", db, "--out", str(tmp_path), "--reviewer", "X"]) == 2
    err = capsys.readouterr().err
    assert "wrong_key.xlsx" in err and "dòng 5" in err and "không phải bản ghi cần xem xét" in err

    not_ours = tmp_path / "other.xlsx"
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"
    wb.save(not_ours)
    assert main(["review", str(not_ours), "--db", db, "--out", str(tmp_path), "--reviewer", "X"]) == 2
    assert "Cần xem xét" in capsys.readouterr().err

    text = tmp_path / "notes.xlsx"
    text.write_text("không phải Excel", encoding="utf-8")
    assert main(["review", str(text), "--db", db, "--out", str(tmp_path), "--reviewer", "X"]) == 2
    assert "notes.xlsx" in capsys.readouterr().err

    con = _db(root)
    assert con.execute("SELECT count(*) FROM review_decisions").fetchone()[0] == before  # nothing written
    con.close()


def test_recompute_without_decisions_reproduces_the_run(tmp_path):
    """The findings recomputed from the warehouse equal what the pipeline wrote, for every registry."""
    import contextlib
    import io

    from pipelines.flow import run_demo_cli

    with contextlib.redirect_stdout(io.StringIO()):
        assert (
            run_demo_cli(
                Path(__file__).resolve().parent / "fixtures" / "tiny",
                tmp_path / "w.duckdb",
                tmp_path / "out",
                unmasked=False,
            )
            == 0
        )
    con = connect(tmp_path / "w.duckdb")
    try:
        runs = con.execute("SELECT run_id, registry FROM runs WHERE status = 'succeeded'").fetchall()
        assert len(runs) == 5
        for run_id, registry in runs:
            tables = FINDING_TABLES + ("coverage",)
            before = {
                t: con.execute(f'SELECT * FROM "{t}" WHERE run_id = ? ORDER BY ALL', [run_id]).pl() for t in tables
            }
            con.execute("BEGIN TRANSACTION")
            recompute_findings(con, run_id, registry)
            after = {
                t: con.execute(f'SELECT * FROM "{t}" WHERE run_id = ? ORDER BY ALL', [run_id]).pl() for t in tables
            }
            con.execute("ROLLBACK")
            for t in tables:
                assert before[t].equals(after[t]), (registry, t)
    finally:
        con.close()


def test_older_warehouse_gets_new_columns_and_views(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE review_decisions (run_id VARCHAR, registry VARCHAR, source_row BIGINT, owner_index SMALLINT, "
        "so_dinh_danh VARCHAR, reviewer VARCHAR, decision VARCHAR, decided_at TIMESTAMPTZ, note VARCHAR)"
    )
    con.execute("INSERT INTO review_decisions (run_id, decision) VALUES ('r1', 'accept')")
    con.close()
    con = connect(db)
    try:
        cols = {
            r[0]
            for r in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = 'review_decisions'"
            ).fetchall()
        }
        assert {"source_file", "decision_file", "decision_file_sha256"} <= cols
        assert con.execute("SELECT decision FROM review_decisions").fetchall() == [("accept",)]
        assert con.execute("SELECT count(*) FROM links_effective").fetchone()[0] == 0
        comment = con.execute("SELECT comment FROM duckdb_views() WHERE view_name = 'links_effective'").fetchone()[0]
        assert "reviewers' decisions" in comment
    finally:
        con.close()


def test_reviewer_can_choose_a_runner_up_candidate(reviewed_run, tmp_path, capsys):
    """Ties are real (same name, same commune, birth year only): the reviewer picks the second
    candidate; the effective link follows that choice, and two 'Đồng ý' in one record is refused."""
    root, summary = reviewed_run
    run_id = summary.run_id
    con = _db(root)
    two = con.execute(
        """SELECT e.source_row, e.pop_rec_id, e.so_dinh_danh FROM link_evidence e
           JOIN links l ON l.run_id = e.run_id AND l.source_row = e.source_row AND l.owner_index = e.owner_index
           WHERE e.run_id = ? AND l.status = 'review' AND e.candidate_rank = 2 ORDER BY e.source_row LIMIT 1""",
        [run_id],
    ).fetchone()
    con.close()
    assert two is not None, "some review record must have a second candidate"
    row, pop2, sdd2 = two
    workbook = root / "out" / run_id / "social_welfare.xlsx"

    both = tmp_path / "both.xlsx"
    _fill(workbook, both, lambda r, pop, rank: "Đồng ý" if r == row else None)
    assert main(["review", str(both), "--db", str(root / "w.duckdb"), "--out", str(tmp_path), "--reviewer", "X"]) == 2
    assert "chỉ chọn một người" in capsys.readouterr().err

    second = tmp_path / "second.xlsx"
    _fill(workbook, second, lambda r, pop, rank: ("Đồng ý" if rank == 2 else "Bác bỏ") if r == row else None)
    assert (
        main(["review", str(second), "--db", str(root / "w.duckdb"), "--out", str(tmp_path), "--reviewer", "Cán bộ C"])
        == 0
    )
    capsys.readouterr()
    con = _db(root)
    try:
        eff = con.execute(
            "SELECT status, method, so_dinh_danh, pop_rec_id FROM links_effective WHERE run_id = ? AND source_row = ?",
            [run_id, row],
        ).fetchone()
        assert eff[1] == "review_accepted" and eff[2] == sdd2 and eff[3] == pop2 and eff[0] in ("matched", "duplicate")
        stored = con.execute(
            "SELECT decision, pop_rec_id, so_dinh_danh FROM review_decisions WHERE run_id = ? AND source_row = ? "
            "ORDER BY decided_at DESC LIMIT 1",
            [run_id, row],
        ).fetchone()
        assert stored == ("accept", pop2, sdd2)
    finally:
        con.close()
    assert "Đồng ý" in _sheet_decisions(tmp_path / run_id / "social_welfare.xlsx")[row]

    tampered = tmp_path / "tampered.xlsx"
    _fill(workbook, tampered, lambda r, pop, rank: "Đồng ý" if r == row and rank == 1 else None)
    wb = openpyxl.load_workbook(tampered)
    ws = wb[REVIEW_SHEET]
    headers = [c.value for c in ws[4]]
    d, c = headers.index(REVIEW_DECISION_HEADER) + 1, headers.index(REVIEW_CANDIDATE_HEADER) + 1
    line = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, d).value == "Đồng ý")
    ws.cell(line, c).value = 999_999_999
    wb.save(tampered)
    assert (
        main(["review", str(tampered), "--db", str(root / "w.duckdb"), "--out", str(tmp_path), "--reviewer", "X"]) == 2
    )
    err = capsys.readouterr().err
    assert f"dòng {line}" in err and REVIEW_CANDIDATE_HEADER in err
