"""Issue 10, items 1 and 2, on files built like the ones communes send (tests/ingest/office_files.py):
an .xlsx with title rows, a merged two-row header, STT, a "Tổng cộng" row and a signature block,
beneficiaries whose surname is Tống; a CSV pasted together from UTF-8, Windows-1258 and
TCVN3/VNI lists. Real files on disk, a real DuckDB warehouse, the workbook read back."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
from office_files import (
    TONG_NAMES,
    commune_workbook,
    mixed_encoding_csv,
    typeable,
    welfare_rows,
)

from matching.normalize.encodings import tcvn3_to_unicode, vni_to_unicode
from pipelines.flow import reconcile
from pipelines.ingest import mask_text, read_table
from pipelines.ingest.lines import is_totals_label
from pipelines.labels import problems_vi
from pipelines.normalize import normalize_registry
from pipelines.registries import get_spec

WELFARE = get_spec("social_welfare")
TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


@pytest.mark.parametrize(
    "label",
    [
        "Tổng cộng",
        "TỔNG CỘNG",
        "Tổng số",
        "Cộng",
        "Tổng cộng:",
        "Tổng cộng (50 người)",
        "Cộng thôn 3",
        "Tổng số tiền",
        "TONG CONG",
        "Tong so",
    ],
)
def test_totals_labels(label):
    assert is_totals_label(label)


@pytest.mark.parametrize(
    "name", [*TONG_NAMES, "TỐNG SƠN TÙNG", "Tong Son Tung", "Tong Cong Minh", "Cong Tong Ha", "Công Thị Tổng"]
)
def test_names_are_not_totals_labels(name):
    assert not is_totals_label(name)


def test_commune_workbook_keeps_every_person_and_accounts_for_every_line(tmp_path):
    rows = welfare_rows(12)
    tong = {2: TONG_NAMES[0], 5: TONG_NAMES[1], 9: TONG_NAMES[2]}
    layout = commune_workbook(tmp_path / "xa.xlsx", rows, tong_rows=tong)
    res = read_table(tmp_path / "xa.xlsx", WELFARE.columns)
    f = res.frame
    assert f.height == 12, "Tống Sơn Tùng, Tống Công Minh, Công Tống Hà are persons, not totals rows"
    assert f["excel_row"].to_list() == layout["data"]
    assert [f["ho_ten"][i] for i in tong] == list(tong.values())
    skipped = res.skipped
    reasons = dict(zip(skipped["excel_row"].to_list(), skipped["reason_code"].to_list()))
    assert reasons[layout["totals"]] == "totals"
    assert [r for r, c in reasons.items() if c == "footer"] == layout["footer"]
    assert {reasons[1], reasons[2]} == {"above_header"}
    assert set(skipped.filter(pl.col("reason_code") == "footer")["reason"]) == {"chữ ký/cuối biểu"}
    # every line: header (4-5), data, or skipped — exactly once
    header = {4, 5}
    lines = set(f["excel_row"]) | set(skipped["excel_row"]) | header
    assert len(f) + len(skipped) + len(header) == len(lines) == max(lines)
    # masked text: structure, never names or numbers
    text = " ".join(skipped["text_masked"].to_list())
    assert "ngày ## tháng ## năm ####" in text and "NGƯỜI LẬP BIỂU" in text
    for secret in ("Hoa", "Bảy", "Tân Phú", "2025"):
        assert secret not in text


def test_a_totals_or_footer_looking_row_with_an_id_or_a_birth_date_is_data(tmp_path):
    rows = welfare_rows(6)
    rows[2][0] = "Tổng cộng"  # the code column says "Tổng cộng", but the row holds an ID
    rows[3][0], rows[3][4] = "Người lập biểu", None  # a signer's title, but a date of birth
    commune_workbook(tmp_path / "xa.xlsx", rows)
    res = read_table(tmp_path / "xa.xlsx", WELFARE.columns)
    assert res.frame.height == 6
    assert "footer" in res.skipped["reason_code"].to_list()


def test_signature_lines_inside_the_table_stay_data_rows(tmp_path):
    """Footer detection runs only after the last data row: a row that looks like a signature
    line, followed by persons, is a data row (rejected or not, never silently skipped)."""
    rows = welfare_rows(6)
    rows[2] = ["Ghi chú: chuyển từ xã khác"] + [None] * 10
    commune_workbook(tmp_path / "xa.xlsx", rows, signature=False, totals=False)
    res = read_table(tmp_path / "xa.xlsx", WELFARE.columns)
    assert res.frame.height == 6
    assert set(res.skipped["reason_code"]) == {"above_header", "blank"}


def test_mask_text():
    assert mask_text(["Tân Phú, ngày 15 tháng 11 năm 2025"]) == "… …, ngày ## tháng ## năm ####"
    assert mask_text(["Tổng cộng", None, "37500000"]) == "Tổng cộng | ########"


def test_run_stores_skipped_rows_and_shows_them_in_the_workbook(tmp_path):
    layout = commune_workbook(
        tmp_path / "xa.xlsx", welfare_rows(3, TINY / "social_welfare.csv"), tong_rows={1: TONG_NAMES[0]}
    )
    db = tmp_path / "kho.duckdb"
    summary = reconcile(WELFARE, TINY / "population.csv", tmp_path / "xa.xlsx", db, tmp_path / "out")
    # DT3 of the fixture has neither name nor ID: the one rejected row; the signature lines are not
    assert summary.row_counts["input_rows"] == 3 and summary.row_counts["rejected"] == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        stored = con.execute(
            "SELECT excel_row, reason_code, reason FROM skipped_rows WHERE run_id = ? ORDER BY excel_row",
            [summary.run_id],
        ).fetchall()
        comment = con.execute("SELECT comment FROM duckdb_tables() WHERE table_name = 'skipped_rows'").fetchone()[0]
        tong = con.execute(
            "SELECT count(*) FROM links WHERE run_id = ? AND excel_row = ?", [summary.run_id, layout["data"][1]]
        ).fetchone()
    finally:
        con.close()
    assert comment and tong == (1,)
    assert (layout["totals"], "totals", "dòng tổng cộng") in stored
    assert [r for r, c, _ in stored if c == "footer"] == layout["footer"]
    wb = openpyxl.load_workbook(summary.reports["excel"], read_only=True)
    try:
        sheet = [list(r) for r in wb["Dòng không phải dữ liệu"].iter_rows(values_only=True)]
    finally:
        wb.close()
    body = [r for r in sheet[4:] if r[0]]
    assert len(body) == len(stored)
    assert {(r[2], r[3]) for r in body} == {(r, reason) for r, _, reason in stored}


def test_mixed_encoding_csv_is_read_line_by_line(tmp_path):
    rows = welfare_rows(40, SAMPLE / "social_welfare.csv")
    where = mixed_encoding_csv(
        tmp_path / "hai_danh_sach.csv", rows, [("utf-8", 10), ("cp1258", 10), ("tcvn3", 10), ("vni", 10)]
    )
    res = read_table(tmp_path / "hai_danh_sach.csv", WELFARE.columns)
    expected = [unicodedata.normalize("NFC", typeable(r[1]) if i >= 10 else r[1]).strip() for i, r in enumerate(rows)]
    convert = [None] * 20 + [tcvn3_to_unicode] * 10 + [vni_to_unicode] * 10  # the font each line was typed with
    names = [unicodedata.normalize("NFC", c(v)) if c else v for c, v in zip(convert, res.frame["ho_ten"].to_list())]
    assert names == expected
    assert res.info["encoding"] == "mixed: utf-8, cp1258, latin-1 (legacy font bytes)"
    note = next(n for n in res.notes if "bảng mã riêng của từng dòng" in n)
    assert f"dòng 1–{where['utf-8'][-1]}: UTF-8" in note
    assert f"dòng {where['cp1258'][0]}–{where['cp1258'][-1]}: Windows-1258" in note
    assert f"dòng {where['tcvn3'][0]}–{where['vni'][-1]}: phông chữ cũ TCVN3/VNI" in note
    assert "line_problem" not in res.frame.columns  # every line read as valid Vietnamese


def test_a_line_no_encoding_reads_is_flagged_on_its_row(tmp_path):
    rows = welfare_rows(5, SAMPLE / "social_welfare.csv")
    path = mixed_encoding_csv(tmp_path / "x.csv", rows, [("utf-8", 5)]) and tmp_path / "x.csv"
    lines = path.read_bytes().split(b"\r\n")
    lines[3] = lines[3].replace(b",", b"\xa4\xb5\xff\x81,", 2)  # bytes no code page reads as Vietnamese
    path.write_bytes(b"\r\n".join(lines))
    res = read_table(path, WELFARE.columns)
    assert res.frame["line_problem"].to_list() == [None, None, "dong:text_undecodable", None, None]
    assert any("1 dòng không đọc được" in n and "dòng 4" in n for n in res.notes)
    rows_n = normalize_registry(WELFARE, res)
    assert "dong:text_undecodable" in rows_n["problems"][2].to_list()
    assert "không đọc được" in problems_vi("dong:text_undecodable")
