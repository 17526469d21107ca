"""Findings an officer can trust (issue 10, items 4-6): the ID is part of "đúng", the CSDLQG
extract is checked too, and every output of a run tells the same story.

Real parts only: a crafted CSDLQG extract and registry files written to disk (the welfare list
as an .xlsx with a merged title row and a "Tổng cộng" row, an ID typed as a number), the real
pipeline into a DuckDB file, the workbook read back with openpyxl and the HTML parsed as text."""

from __future__ import annotations

import datetime as dt
import json
import re
from html import unescape
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
import xlsxwriter

from pipelines.errors import InputError
from pipelines.flow import reconcile
from pipelines.formats import VN_TZ, dmy, vn_time
from pipelines.normalize import load_population
from pipelines.registries import get_spec
from pipelines.reports.masking import mask_id

POPULATION = """so_dinh_danh,so_cmnd_cu,ho_ten,ngay_sinh,gioi_tinh,ho_ten_cha,ho_ten_me,ma_tinh,ten_tinh,ma_xa,ten_xa,dia_chi_thuong_tru,ma_ho,ngay_mat
001050012345,012345678,Nguyễn Văn An,05/03/1950,Nam,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H1,
001148001111,,Trần Thị Bình,01/01/1948,Nữ,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H1,
031060001234,,Lê Văn Cường,12/11/1960,Nam,,,31,Thành phố Hải Phòng,11311,Phường Hồng Bàng,"Phường Hồng Bàng, Thành phố Hải Phòng",H3,
079185002222,,Phạm Thị Dung,20/02/1985,Nữ,,,79,Thành phố Hồ Chí Minh,26734,Phường Sài Gòn,"Phường Sài Gòn, Thành phố Hồ Chí Minh",H4,
001070003333,011111111,Hoàng Văn Em,07/07/1970,Nam,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H5,
031072004444,022222222,Vũ Văn Giang,03/04/1972,Nam,,,31,Thành phố Hải Phòng,11311,Phường Hồng Bàng,"Phường Hồng Bàng, Thành phố Hải Phòng",H6,
036090005555,,Đỗ Văn Hải,01/02/1990,Nam,,,79,Thành phố Hồ Chí Minh,26734,Phường Sài Gòn,"Phường Sài Gòn, Thành phố Hồ Chí Minh",H7,
036090005555,,Ngô Văn Khoa,05/06/1990,Nam,,,79,Thành phố Hồ Chí Minh,26734,Phường Sài Gòn,"Phường Sài Gòn, Thành phố Hồ Chí Minh",H8,
001195006666,,Bùi Văn Long,01/01/1995,Nam,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H9,
001181007777,,Đinh Thị Mai,02/02/1975,Nữ,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H10,
001065008888,,Trịnh Văn Nam,10/10/1965,Nam,,,01,Thành phố Hà Nội,00004,Phường Ba Đình,"Phường Ba Đình, Thành phố Hà Nội",H11,01/01/1960
"""  # noqa: E501  (a CSV extract, one CSDLQG row per line: wrapping would change the data)
# rows of the extract (excel_row = data row + 1) with a known problem
POP_ISSUES = {
    ("duplicate_id", 8),
    ("duplicate_id", 9),  # one so_dinh_danh, two people
    ("id_sex_mismatch", 10),  # digit 4 odd (female) for a man
    ("id_birth_year_mismatch", 11),  # digits 5-6 say 1981, born 1975
    ("death_before_birth", 12),
}

# Welfare rows: (ma_doi_tuong, ho_ten, ngay_sinh, gioi_tinh, so_cccd, dia_chi); an int ID is typed as a number
WELFARE = [
    ("DT1", "Nguyễn Văn An", "05/03/1950", "Nam", "001050012345", "Phường Ba Đình, Thành phố Hà Nội"),  # id_exact
    ("DT2", "Lê Văn Cường", "12/11/1960", "Nam", "031060001235", "Phường Hồng Bàng, Hải Phòng"),  # one digit off
    ("DT3", "Hoàng Văn Em", "07/07/1970", "Nam", "011111111", "Phường Ba Đình, Hà Nội"),  # old CMND CSDLQG confirms
    ("DT4", "Vũ Văn Giang", "03/04/1972", "Nam", "022222223", "Phường Hồng Bàng, Hải Phòng"),  # CMND CSDLQG contradicts
    (
        "DT5",
        "Phạm Thị Dung",
        "1985-02-20",
        "Nữ",
        79185002222,
        "Phường Sài Gòn, TP Hồ Chí Minh",
    ),  # number cell, ISO date
    ("DT6", "", "01/01/1960", "", "", ""),  # nothing to match on: rejected
]


def _welfare_xlsx(path: Path) -> Path:
    spec = get_spec("social_welfare")
    labels = [c.label_vi for c in spec.columns]
    rest = ("Người cao tuổi", "500000", "Tiền mặt", "", "")
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Danh sách")
    ws.merge_range(0, 0, 0, len(labels) - 1, "DANH SÁCH ĐỐI TƯỢNG BẢO TRỢ XÃ HỘI NĂM 2026")
    ws.write_row(2, 0, labels)
    for i, row in enumerate(WELFARE):
        for j, v in enumerate(row + rest):
            if isinstance(v, int):
                ws.write_number(3 + i, j, v)
            else:
                ws.write_string(3 + i, j, v)
    ws.write_row(3 + len(WELFARE), 0, ["Tổng cộng", "6 người"])
    wb.close()
    return path


LAND = """so_giay_chung_nhan,so_to,so_thua,dien_tich,chu_su_dung,nam_sinh,so_giay_to,dia_chi_thuong_tru,dia_chi_thua_dat
CN1,1,10,120.5,Ông Nguyễn Văn An và bà Trần Thị Bình,1950,001050012345,"Phường Ba Đình, Hà Nội",Thửa 10
CN2,2,11,300,Công ty TNHH Minh Phát,,,"Phường Ba Đình, Hà Nội",Thửa 11
CN3,3,12,80,Ông Lê Văn Cường,1960,031060001234,"Phường Hồng Bàng, Hải Phòng",Thửa 12
CN4,4,13,95,Bà Nguyễn Thị Xuân,1977,001177999999,"Phường Ba Đình, Hà Nội",Thửa 13
"""


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("findings")
    (root / "population.csv").write_text(POPULATION, encoding="utf-8")
    (root / "land.csv").write_text(LAND, encoding="utf-8")
    welfare = _welfare_xlsx(root / "bao_tro_2026.xlsx")
    db, out = root / "w.duckdb", root / "out"
    w = reconcile(get_spec("social_welfare"), root / "population.csv", welfare, db, out / "welfare")
    land = reconcile(get_spec("land"), root / "population.csv", root / "land.csv", db, out / "land")
    return root, db, w, land


def _q(db: Path, sql: str, params=()):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _sheet(path: Path, name: str) -> tuple[list[str], list[dict]]:
    """A report sheet as (headers, rows as dicts); the header row is the 4th."""
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = [r for r in book[name].iter_rows(values_only=True)]
    finally:
        book.close()
    headers = [h for h in rows[3] if h is not None]
    return headers, [dict(zip(headers, r)) for r in rows[4:] if any(v is not None for v in r)]


def _all_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [str(v) for ws in book.worksheets for r in ws.iter_rows(values_only=True) for v in r if v is not None]
    finally:
        book.close()


def _text(html_path: Path) -> str:
    html = html_path.read_text(encoding="utf-8")
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


# ---------------------------------------------------------------- item 4: the ID is part of "đúng"


def test_a_row_linked_with_a_different_id_is_a_mismatch_and_not_verified(runs):
    _, db, w, _ = runs
    links = dict(_q(db, "SELECT excel_row, method FROM links WHERE run_id = ?", [w.run_id]))
    assert links[5] == "id_one_edit" and links[4] == "id_exact" and links[6] == "cmnd9"
    got = _q(
        db,
        "SELECT excel_row, field, registry_value, csdlqg_value, kind, method FROM mismatches "
        "WHERE run_id = ? AND kind IN ('id', 'cmnd9') ORDER BY excel_row",
        [w.run_id],
    )
    by_row = {r[0]: r[1:] for r in got}
    assert by_row[5] == ("so_cccd", "031060001235", "031060001234", "id", "id_one_edit")
    # a 9-digit CMND CSDLQG contradicts is wrong, whatever way the row was linked
    assert by_row[7][:4] == ("so_cccd", "022222223", "022222222", "cmnd9")
    # the exact ID, the old CMND CSDLQG confirms and the ID typed as a number are right
    assert not {4, 6, 8} & set(by_row)
    alerts = _q(
        db, "SELECT excel_row FROM alerts WHERE run_id = ? AND kind = 'suggested_id_update' ORDER BY 1", [w.run_id]
    )
    assert (6,) in alerts  # outdated, not wrong: still the 12-digit suggestion
    verified = _q(
        db,
        "SELECT numerator, denominator FROM coverage WHERE run_id = ? AND level = 'all' AND metric = 'verified'",
        [w.run_id],
    )
    linked = {r[0] for r in _q(db, "SELECT excel_row FROM links WHERE run_id = ? AND status = 'matched'", [w.run_id])}
    wrong = {r[0] for r in _q(db, "SELECT DISTINCT excel_row FROM mismatches WHERE run_id = ?", [w.run_id])}
    assert 5 in wrong and verified[0][0] == len(linked - wrong)


def test_the_id_mismatch_is_on_the_sai_lech_sheet_with_how_it_was_linked(runs):
    _, _, w, _ = runs
    headers, rows = _sheet(w.reports["excel"], "Sai lệch")
    assert "Cách liên kết" in headers
    row5 = [r for r in rows if r["Dòng trong tệp"] == 5 and r["Trường"] == "Số CCCD/ĐDCN"]
    assert len(row5) == 1
    r = row5[0]
    assert r["Giá trị trong sổ"] == mask_id("031060001235") and r["Giá trị CSDLQG"] == mask_id("031060001234")
    assert r["Loại"] == "Số định danh khác số trong CSDLQG"
    assert r["Cách liên kết"].startswith("Số định danh lệch 1 ký tự")


# ---------------------------------------------------------------- item 5: the extract is checked


def test_extract_problems_in_warehouse_notes_and_reports(runs):
    root, db, w, land = runs
    got = {(issue, row) for issue, row in _q(db, "SELECT issue, excel_row FROM population_issues")}
    assert got == POP_ISSUES
    assert _q(db, "SELECT count(DISTINCT run_id) FROM population_issues") == [(1,)]  # stored once per extract
    comment = _q(db, "SELECT comment FROM duckdb_tables() WHERE table_name = 'population_issues'")[0][0]
    assert comment and "CSDLQG" in comment
    for summary in (w, land):  # the cached extract is reported on every run
        notes = json.loads(_q(db, "SELECT notes FROM runs WHERE run_id = ?", [summary.run_id])[0][0])
        note = next(n for n in notes if "Trích xuất CSDLQG" in n)
        assert "1 số định danh lặp lại (2 dòng)" in note and "ngày mất trước ngày sinh" in note
        assert not re.search(r"\d{9,}", note) and "Khoa" not in note  # counts only
    headers, rows = _sheet(w.reports["excel"], "Vấn đề trích xuất CSDLQG")
    assert {(r["Vấn đề"], r["Dòng trong tệp CSDLQG"]) for r in rows} == {
        ("Số định danh lặp lại ở nhiều dòng", 8),
        ("Số định danh lặp lại ở nhiều dòng", 9),
        ("Chữ số thứ 4 của số định danh không khớp giới tính", 10),
        ("Chữ số 4–6 của số định danh không khớp năm sinh", 11),
        ("Ngày mất trước ngày sinh", 12),
    }
    assert {r["Số định danh trong CSDLQG"] for r in rows if r["Dòng trong tệp CSDLQG"] == 8} == {"*********555"}
    text = _text(w.reports["html"])
    assert "Vấn đề của trích xuất CSDLQG" in text and "*********555" in text
    assert "036090005555" not in w.reports["html"].read_text(encoding="utf-8")


def test_sixty_repeated_ids_are_reported_not_fatal(tmp_path):
    sample = Path(__file__).resolve().parents[1] / "data" / "sample" / "population.csv"
    pop = pl.read_csv(sample, infer_schema=False)
    pl.concat([pop, pop.head(60)]).write_csv(tmp_path / "pop.csv")
    loaded = load_population(tmp_path / "w.duckdb", tmp_path / "pop.csv")
    dup = loaded.issues.filter(pl.col("issue") == "duplicate_id")
    assert dup["so_dinh_danh"].n_unique() == 60 and dup.height == 120
    from validation.population import population_issue_notes

    assert (
        "60 số định danh lặp lại (120 dòng)" in population_issue_notes(loaded.issues, loaded.frame.height, "pop.csv")[0]
    )


def test_an_extract_without_one_usable_id_is_refused(tmp_path):
    bad = POPULATION.replace("001050012345,", "khong ro,", 1)
    lines = bad.splitlines()
    rows = [lines[0]] + [re.sub(r"^\d{12},", "chưa có,", line) for line in lines[1:]]
    (tmp_path / "pop.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="không có dòng nào có số định danh"):
        load_population(tmp_path / "w.duckdb", tmp_path / "pop.csv")


# ---------------------------------------------------------------- item 6: outputs agree


def _coverage(db: Path, run_id: str, level: str = "all") -> dict:
    out: dict = {}
    for unit, metric, num, den in _q(
        db,
        "SELECT coalesce(ma_don_vi, ''), metric, numerator, denominator FROM coverage WHERE run_id = ? AND level = ?",
        [run_id, level],
    ):
        out.setdefault(unit, {"_n": den})[metric] = num
    return out


def test_land_cards_table_and_workbook_share_one_denominator(runs):
    _, db, _, land = runs
    cov = _coverage(db, land.run_id)[""]
    assert cov["_n"] == 4  # An, Bình (household), Cường, Xuân; the company is not a person
    text = _text(land.reports["html"])
    cards = dict(
        (label.strip(), int(n.replace(",", "")))
        for n, label in re.findall(
            r'<div class="card"><div class="n">([\d,]+)</div><div>([^<]+)</div>',
            land.reports["html"].read_text(encoding="utf-8"),
        )
    )
    assert cards["Bản ghi cá nhân"] == cov["_n"]
    assert cards["Không tìm thấy trong CSDLQG"] + cards["Bị loại (thiếu dữ liệu để đối soát)"] == cov["not_found"] == 1
    assert cards["Tổ chức (không đối soát)"] == 1
    assert "1 bản ghi là tổ chức" in text
    book = openpyxl.load_workbook(land.reports["excel"], read_only=True)
    summary = [r for r in book["Tổng hợp"].iter_rows(values_only=True)]
    book.close()
    linked = next(r for r in summary if r[0] == "Đã liên kết với CSDLQG")
    assert linked[5] == cov["_n"] and linked[4] == cov["linked"]
    assert any(str(r[0]).startswith("Tổ chức (không phải cá nhân") for r in summary if r[0])
    _, not_found = _sheet(land.reports["excel"], "Không tìm thấy")
    assert len(not_found) == cov["not_found"]


def test_household_co_owners_count_in_every_commune_figure(runs):
    _, db, _, land = runs
    assert _q(db, "SELECT count(*) FROM links WHERE run_id = ? AND method = 'household'", [land.run_id]) == [(1,)]
    for level in ("all", "province", "commune"):
        for unit, m in _coverage(db, land.run_id, level).items():
            assert m["linked_id"] + m["linked_probabilistic"] + m["linked_household"] == m["linked"], (level, unit)
    ba_dinh = _coverage(db, land.run_id, "commune")["00004"]
    assert ba_dinh["linked_household"] == 1
    html = land.reports["html"].read_text(encoding="utf-8")
    assert "Đồng sở hữu liên kết qua hộ" in html  # the bar segment


def test_dates_are_dd_mm_yyyy_at_the_registrys_precision_everywhere(runs):
    _, _, w, land = runs
    for path in (w.reports["excel"], land.reports["excel"]):
        iso = [c for c in _all_cells(path) if re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", c)]
        assert iso == [], path.name
    _, rows = _sheet(w.reports["excel"], "Cập nhật số định danh")
    _, mm = _sheet(w.reports["excel"], "Sai lệch")
    dob = {r["Dòng trong tệp"]: r["Ngày sinh (trong sổ)"] for r in mm + rows}
    assert dob[6] == "07/07/1970"
    _, nf = _sheet(land.reports["excel"], "Không tìm thấy")
    assert {r["Ngày sinh (trong sổ)"] for r in nf} == {"1977"}  # land keeps a year: shown as a year
    assert (dmy("1942-01-01"), dmy("1942-01"), dmy("1942"), dmy("01.01.1942")) == (
        "01/01/1942",
        "01/1942",
        "1942",
        "01.01.1942",
    )


def test_masked_id_comes_from_the_normalized_id(runs):
    _, db, w, _ = runs
    assert _q(
        db, "SELECT so_cccd, so_cccd_clean FROM social_welfare_rows WHERE run_id = ? AND excel_row = 8", [w.run_id]
    ) == [("79185002222", "079185002222")]
    cells = _all_cells(w.reports["excel"])
    # 12 digits (leading zero restored) masked to the last three: 9 stars; the raw 11-digit cell would give 8
    assert "*********222" in cells and "********222" not in cells and not any(c.startswith("791") for c in cells)


def test_codes_officers_see_have_vietnamese_labels(runs):
    _, _, w, land = runs
    codes = (
        "no_name_no_id",
        "gioi_tinh_sex",
        "so_cccd_kind",
        "organization_not_person",
        "id_one_edit",
        "csdlqg;civil_deaths",
    )
    for path in (w.reports["excel"], land.reports["excel"]):
        cells = _all_cells(path)
        assert not [c for c in cells if any(code in c for code in codes)], path.name
    _, nf = _sheet(w.reports["excel"], "Không tìm thấy")
    assert any((r["Lý do"] or "").startswith("Không có họ tên và không có số định danh") for r in nf)
    for summary in (w, land):
        text = _text(summary.reports["html"])
        assert not re.search(r"\b(gioi_tinh_sex|so_cccd_kind|so_giay_to_kind|nam_sinh_year|rule|pairs)\b", text)
        assert "Cùng họ tên và năm sinh" in text  # a blocking rule, labelled


def test_comparison_labels_have_one_home():
    import matching.explain as explain
    import matching.labels as ML
    from pipelines import labels as L

    assert L.COMPARISON is ML.COMPARISON and L.COMPARISON_LEVEL is ML.COMPARISON_LEVEL
    assert not hasattr(explain, "COMPARISON_VI") and not hasattr(explain, "LEVEL_VI")


def test_times_are_vietnam_time_with_the_zone_shown(runs):
    _, db, w, _ = runs
    started = _q(db, "SELECT started_at FROM runs WHERE run_id = ?", [w.run_id])[0][0]
    want = started.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M")
    book = openpyxl.load_workbook(w.reports["excel"], read_only=True)
    line = next(
        r[0] for r in book["Tổng hợp"].iter_rows(values_only=True) if r[0] and str(r[0]).startswith("Thời gian")
    )
    book.close()
    assert line == f"Thời gian: {want} (giờ Việt Nam, UTC+7)"
    text = _text(w.reports["html"])
    assert "UTC+7" in text and " UTC " not in text and "(UTC)" not in text
    assert vn_time(dt.datetime(2026, 11, 30, 9, 45, tzinfo=dt.UTC)) == "30/11/2026 16:45 (giờ Việt Nam, UTC+7)"
