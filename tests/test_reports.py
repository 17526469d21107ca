"""Reports of a crafted run: coverage math, the workbook read back (sheets, counts, IDs as
masked text), the HTML report's content and Data Docs; all from a real DuckDB file."""

from __future__ import annotations

import re

import openpyxl
import polars as pl
import pytest
import reports_warehouse as rw

from pipelines.findings.coverage import coverage_frame, coverage_rows_for_artifact
from pipelines.reports import regenerate_cli, write_reports
from pipelines.reports.excel import write_workbook
from pipelines.reports.masking import mask_id
from pipelines.reports.queries import action_lists


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("wh")
    con = rw.build(root / "w.duckdb")
    paths = write_reports(con, rw.RUN_ID, root / "out")
    yield con, paths, root
    con.close()


def _cov(frame: pl.DataFrame, level: str, metric: str, unit: str | None = None) -> dict:
    f = frame.filter((pl.col("level") == level) & (pl.col("metric") == metric))
    f = f.filter(pl.col("ma_don_vi").is_null() if unit is None else pl.col("ma_don_vi") == unit)
    assert f.height == 1
    return f.row(0, named=True)


def test_coverage_math_on_crafted_run(run):
    con, _, _ = run
    cov = con.execute("SELECT * FROM coverage WHERE run_id = ?", [rw.RUN_ID]).pl()
    expect = {  # numerators over 8 records, from the table in reports_warehouse.py
        "linked": 5,
        "linked_id": 4,
        "linked_probabilistic": 1,
        "verified": 4,
        "complete": 5,
        "review": 1,
        "not_found": 2,
        "duplicate": 1,
        "dead_still_paid": 1,
        "paid_by_account": 3,
    }
    for metric, n in expect.items():
        r = _cov(cov, "all", metric)
        assert (r["numerator"], r["denominator"]) == (n, 8), metric
        assert r["value"] == pytest.approx(n / 8)
    assert _cov(cov, "all", "linked")["gap"] == pytest.approx(1 - 5 / 8)
    assert _cov(cov, "all", "duplicate")["target"] == 0.0
    assert _cov(cov, "all", "duplicate")["gap"] == pytest.approx(1 / 8)  # lower is better
    assert _cov(cov, "all", "review")["target"] is None
    hanoi = _cov(cov, "province", "verified", "01")
    assert (hanoi["numerator"], hanoi["denominator"], hanoi["ten_don_vi"]) == (4, 5, "Thành phố Hà Nội")
    ba_dinh = _cov(cov, "commune", "paid_by_account", "00004")
    assert (ba_dinh["numerator"], ba_dinh["denominator"]) == (2, 3)
    assert ba_dinh["ten_don_vi"].startswith("Phường Ba Đình")
    unplaced = _cov(cov, "commune", "not_found", None)
    assert (unplaced["numerator"], unplaced["denominator"], unplaced["ten_don_vi"]) == (1, 1, "Không xác định")
    # the stored rows equal a fresh computation
    assert coverage_frame(con, rw.RUN_ID).height == cov.height


def test_artifact_rows_are_aggregates_only(run):
    con, _, _ = run
    rows = coverage_rows_for_artifact(con, rw.RUN_ID)
    assert {r["level"] for r in rows} == {"all", "province"}
    text = repr(rows)
    for secret in rw.POP_IDS + ["Nguyễn Văn An"]:
        assert secret not in text


def _sheet_rows(ws) -> list[tuple]:
    """Data rows under the header (row 4) of an action sheet."""
    return [r for r in ws.iter_rows(min_row=5, values_only=True) if any(v is not None for v in r)]


def test_workbook_sheets_and_counts_match_the_warehouse(run):
    con, paths, _ = run
    wb = openpyxl.load_workbook(paths["excel"])
    expected = ["Tổng hợp", "Theo xã"] + [a.sheet for a in action_lists(rw.SPEC)] + ["Dòng không phải dữ liệu"]
    assert wb.sheetnames == expected
    assert all(len(name) <= 31 for name in wb.sheetnames)
    counts = {
        "Sai lệch": "SELECT count(*) FROM mismatches WHERE run_id = ?",
        "Thiếu thông tin": "SELECT count(*) FROM missing_fields WHERE run_id = ?",
        "Trùng lặp": "SELECT count(*) FROM duplicates WHERE run_id = ?",
        "Đã chết vẫn hưởng": "SELECT count(*) FROM alerts WHERE run_id = ? AND kind = 'dead_still_paid'",
        # one line per (review record, candidate): the crafted review row has two candidates
        "Cần xem xét": """SELECT count(*) FROM links l JOIN (SELECT DISTINCT source_row, owner_index, pop_rec_id
                          FROM link_evidence WHERE run_id = $1 AND candidate_rank <= 3) e
                          USING (source_row, owner_index)
                          WHERE l.run_id = $1 AND l.status = 'review'""",
        "Không tìm thấy": "SELECT count(*) FROM links WHERE run_id = ? AND status IN ('unmatched', 'rejected')",
    }
    for sheet, sql in counts.items():
        n = con.execute(sql, [rw.RUN_ID]).fetchone()[0]
        assert n > 0
        assert len(_sheet_rows(wb[sheet])) == n, sheet
        ws = wb[sheet]
        assert ws.freeze_panes == "A5"
        assert ws.auto_filter.ref is not None
        assert ws.cell(4, 1).value == "Tệp nguồn" and ws.cell(4, 2).value == "Dòng trong tệp"


def test_workbook_ids_are_masked_text_with_leading_zeros(run):
    _, paths, _ = run
    wb = openpyxl.load_workbook(paths["excel"])
    ws = wb["Sai lệch"]
    header = [c.value for c in ws[4]]
    row = _sheet_rows(ws)[0]
    sdd = row[header.index("Số định danh trong CSDLQG")]
    assert sdd == "*********022"
    assert ws.cell(5, header.index("Số định danh trong CSDLQG") + 1).data_type == "s"
    assert row[header.index("Dòng trong tệp")] == 6  # excel_row, for fixing the file at the source
    everything = " ".join(
        str(v) for s in wb.worksheets for r in s.iter_rows(values_only=True) for v in r if v is not None
    )
    for raw in rw.POP_IDS + ["0011223344"]:
        assert raw not in everything


def test_workbook_unmasked_on_request(run, tmp_path):
    con, _, _ = run
    path = tmp_path / "unmasked.xlsx"
    write_workbook(con, rw.SPEC, rw.RUN_ID, coverage_frame(con, rw.RUN_ID), path, unmasked=True)
    wb = openpyxl.load_workbook(path)
    ws = wb["Đã chết vẫn hưởng"]
    header = [c.value for c in ws[4]]
    row = _sheet_rows(ws)[0]
    assert row[header.index("Số định danh trong CSDLQG")] == "031040000033"
    assert row[header.index("Số CCCD/CMND (trong sổ)")] == "012345678"  # leading zero kept
    assert row[header.index("Ngày mất (CSDLQG)")] == "01/02/2025"


def test_workbook_columns_show_what_each_cell_would(run):
    """The action sheets convert a column per distinct value (excel._display_column); the result
    must be, cell for cell, what _display gives for that cell, masked and unmasked."""
    from pipelines.reports import excel
    from pipelines.reports.queries import fetch

    con, _, _ = run
    compared = 0
    for action in action_lists(rw.SPEC):
        frame = fetch(con, rw.SPEC, action, rw.RUN_ID)
        for col in frame.columns:
            kind = excel.COLUMNS.get(col, (col, "text"))[1]
            for unmasked in (False, True):
                column = excel._display_column(rw.SPEC, frame, col, kind, unmasked)
                cells = [excel._display(rw.SPEC, col, kind, r[col], r, unmasked) for r in frame.iter_rows(named=True)]
                assert column.to_list() == cells, (action.sheet, col, unmasked)
                compared += len(cells)
    assert compared > 100


def test_a_list_longer_than_a_sheet_goes_on_in_continuation_sheets(run, tmp_path, monkeypatch):
    """Excel holds 1,048,576 rows a sheet (xlsxwriter drops the rest silently): a longer action
    list goes on in "<sheet> (2)"… right after it, every row once, in order; the count returned
    is the whole list's. The limit is lowered to 1 row so the crafted run's lists split."""
    from pipelines.reports import excel

    con, paths, _ = run
    whole = openpyxl.load_workbook(paths["excel"])
    monkeypatch.setattr(excel, "MAX_SHEET_ROWS", 1)
    path = tmp_path / "split.xlsx"
    counts = write_workbook(con, rw.SPEC, rw.RUN_ID, coverage_frame(con, rw.RUN_ID), path)
    wb = openpyxl.load_workbook(path)
    split = 0
    for action in action_lists(rw.SPEC):
        rows = _sheet_rows(whole[action.sheet])
        at = wb.sheetnames.index(action.sheet)
        parts = [action.sheet] + [f"{action.sheet} ({k})" for k in range(2, len(rows) + 1)]
        assert wb.sheetnames[at : at + len(parts)] == parts
        assert [r for p in parts for r in _sheet_rows(wb[p])] == rows and counts[action.sheet] == len(rows)
        if len(parts) > 1:
            split += 1
            assert f"Số dòng: {len(rows):,}" in wb[parts[1]]["A2"].value
    assert split >= 2


def test_summary_sheet_shows_targets(run):
    _, paths, _ = run
    ws = openpyxl.load_workbook(paths["excel"])["Tổng hợp"]
    rows = {r[0]: r for r in ws.iter_rows(values_only=True) if r[0]}
    linked = rows["Đã liên kết với CSDLQG"]
    assert linked[1] == pytest.approx(5 / 8) and linked[2] == 1 and linked[3] == pytest.approx(3 / 8)
    assert "Chi trả qua tài khoản" in rows


def test_html_report_content(run):
    _, paths, _ = run
    html = paths["html"].read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html)
    assert "Content-Security-Policy" in html
    assert html.count("<svg") >= 6  # outcome bar, targets, communes, histogram, 2 waterfalls
    assert 'class="threshold"' in html and html.count('class="threshold"') == 2
    assert "a" * 64 in html  # the input file's SHA-256
    for raw in rw.POP_IDS + ["Nguyễn Văn An", "Hoàng Văn Em"]:
        assert raw not in html
    assert "*********077" in html  # the candidate the reviewed row was compared with, masked


def test_html_lookup_holds_every_record_masked(run):
    """The row lookup embeds every record of the run (by the row number seen in Excel) with its
    candidates' comparison levels; IDs in it are masked like the rest of the report."""
    import json

    con, paths, _ = run
    html = paths["html"].read_text(encoding="utf-8")
    blob = re.search(r'<script type="application/json" id="lookup-data">(.*?)</script>', html, re.S).group(1)
    data = json.loads(blob)
    links = con.execute(
        "SELECT excel_row, owner_index, status, method FROM links WHERE run_id = ?", [rw.RUN_ID]
    ).fetchall()
    assert set(data["records"]) == {f"{r}:{o}" for r, o, _, _ in links}
    for r, o, status, method in links:
        assert data["records"][f"{r}:{o}"][:2] == [status, method]
    review = data["records"]["9:0"]  # crafted row 5: review, two candidates compared
    assert [c[0] for c in review[5]] == [1, 2] and review[5][1][2] == "*********077"
    assert {p[0] for p in review[5][0][3]} == {"ho_ten", "ngay_sinh", "gioi_tinh", "id", "dia_chi"}
    assert data["records"]["5:0"][5] == [] and "id_exact" in data["deterministic"]
    assert not data["truncated"]


def _page_data(page) -> dict:
    import json

    html = page.read_text(encoding="utf-8")
    return json.loads(re.search(r'<script type="application/json" id="lookup-data">(.*?)</script>', html, re.S)[1])


def test_html_lookup_of_a_large_run_is_in_side_scripts(run, tmp_path, monkeypatch):
    """Above INLINE_LOOKUP records the page embeds none: every record is in exactly one side
    script of its CHUNK_ROWS input rows, with the same content as the embedded form, IDs masked;
    a report regenerated small leaves no side folder behind. (Limits lowered so the crafted 8-row
    run takes that path; tests/test_html_chromium.py opens such a page in a browser.)"""
    import json

    from pipelines.reports import html as html_report

    con, paths, _ = run
    embedded = _page_data(paths["html"])["records"]
    monkeypatch.setattr(html_report, "INLINE_LOOKUP", 2)
    monkeypatch.setattr(html_report, "CHUNK_ROWS", 4)
    page = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    data = _page_data(page)
    side = page.with_name(page.stem + "_tra_cuu")
    assert data["records"] == {} and data["folder"] == side.name and data["chunk_rows"] == 4
    found = {}
    for k in data["chunks"]:
        text = (side / f"{k}.js").read_text(encoding="utf-8")
        m = re.fullmatch(r"doisoatLookupChunk\((\d+),(\{.*\})\);\n", text, re.S)
        assert m and int(m[1]) == k
        records = json.loads(m[2])
        assert all(int(key.split(":")[0]) // 4 == k for key in records)
        assert not set(records) & set(found)
        found.update(records)
        for secret in rw.POP_IDS + ["Nguyễn Văn An"]:
            assert secret not in text
    assert found == embedded and len(data["chunks"]) >= 2
    assert (side.stat().st_mode & 0o777) == 0o700
    monkeypatch.setattr(html_report, "INLINE_LOOKUP", 5_000)
    page = write_reports(con, rw.RUN_ID, tmp_path / "out")["html"]
    assert _page_data(page)["records"] == embedded and not side.exists()


def test_expectation_results_in_the_audit_report_not_data_docs(run):
    """GX Data Docs are not written (their pages load CDN assets); the audit report shows the
    suite's results itself, counts only."""
    _, paths, _ = run
    assert "data_docs" not in paths and not (paths["html"].parent / "data_docs").exists()
    html = paths["html"].read_text(encoding="utf-8")
    assert "Trường bắt buộc phải có giá trị" in html and "data_docs/index.html" not in html
    for raw in rw.IDS[:6] + ["Nguyễn Văn An"]:
        assert raw not in html


def test_report_cli_regenerates_from_the_warehouse(run, tmp_path, capsys):
    con, _, root = run
    con.execute("CHECKPOINT")
    db = tmp_path / "copy.duckdb"
    db.write_bytes((root / "w.duckdb").read_bytes())
    assert regenerate_cli(rw.RUN_ID, db, tmp_path / "out", unmasked=False) == 0
    out = capsys.readouterr().out
    assert "social_welfare.xlsx" in out and "_audit.html" in out
    assert (tmp_path / "out" / rw.RUN_ID / "social_welfare.xlsx").exists()


def test_mask_id():
    assert mask_id("001050000011") == "*********011"
    assert mask_id("012345678") == "******678"
    assert mask_id(None) is None
