"""Edge cases of the reports: a run with no rows for every registry, and land organizations,
which are not persons and must neither lower coverage nor appear as "not found"."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
import reports_warehouse as rw

from pipelines.findings.coverage import coverage_frame
from pipelines.registries import REGISTRIES
from pipelines.reports import write_reports
from pipelines.reports.queries import action_lists, fetch
from pipelines.warehouse import connect, finish_run, insert_frame, start_run


@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_empty_run_still_gives_every_report(tmp_path, name):
    con = connect(tmp_path / "w.duckdb", REGISTRIES.values())
    run_id = f"{name}-empty"
    start_run(con, run_id, name, {}, {})
    finish_run(con, run_id, status="failed", error="tệp rỗng")
    paths = write_reports(con, run_id, tmp_path / "out")
    wb = openpyxl.load_workbook(paths["excel"])
    assert wb.sheetnames[:2] == ["Tổng hợp", "Theo xã"]
    assert wb.sheetnames[2:] == [a.sheet for a in action_lists(REGISTRIES[name])] + ["Dòng không phải dữ liệu"]
    assert "thất bại" in paths["html"].read_text(encoding="utf-8")


def test_organizations_do_not_count_as_not_found(tmp_path):
    con = rw.build(tmp_path / "w.duckdb")
    before = coverage_frame(con, rw.RUN_ID)
    org = (
        con.execute("SELECT * FROM links WHERE run_id = ? AND source_row = 6", [rw.RUN_ID])
        .pl()
        .with_columns(
            pl.lit(9).cast(pl.Int64).alias("source_row"),
            pl.lit(90).cast(pl.Int64).alias("rec_id"),
            pl.lit("organization").alias("entity"),
            pl.lit("organization").alias("method"),
        )
    )
    insert_frame(con, "links", org)
    after = coverage_frame(con, rw.RUN_ID)
    assert after.equals(before)
    not_found = next(a for a in action_lists(rw.SPEC) if a.code == "not_found")
    assert 9 not in fetch(con, rw.SPEC, not_found, rw.RUN_ID)["source_row"].to_list()


def test_report_of_unknown_run_is_a_clear_vietnamese_error(tmp_path, capsys):
    from pipelines.cli import main

    con = connect(tmp_path / "w.duckdb", REGISTRIES.values())
    con.close()
    assert main(["report", "khong-co", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")]) == 2
    assert "Không có lần chạy 'khong-co'" in capsys.readouterr().err


def test_block_written_rows_are_the_bytes_xlsxwriter_writes(tmp_path):
    """sheet_rows.write_rows writes whole columns as one block of XML: the sheet must be, byte for
    byte, what xlsxwriter's write_string/write_number cell by cell give, for text it escapes in
    Python (control characters, _xHHHH_, edge whitespace), XML characters, blanks, an empty row,
    numbers it writes in exponent form, and text made from numbers. A value of xlsxwriter's other
    paths (a rich-string look-alike, NaN) makes it decline, writing nothing."""
    import math
    import zipfile

    import xlsxwriter

    from pipelines.reports.sheet_rows import write_rows

    texts = [
        "Nguyễn Văn A",
        'a & b <c> "d"',
        "tab\there",
        "\x01ctl",
        "_x0041_ kept",
        " lead",
        "trail\u3000",
        "line\n",
        "",
        None,
        "x\x1fy",
        "\ufffe",
        "12",
    ]
    n = len(texts)
    columns = [
        pl.Series(texts, dtype=pl.String),
        pl.Series([1, None, 3, 10**17, -5, 0, None, 7, 8, None, 11, 12, 13], dtype=pl.Int64),  # int, number format
        pl.Series([0.1 + 0.2, 1e-7, None, -0.0, 2.5, 1e20, 0.0, None, 1 / 3, None, 5.0, 6.0, 7.0]),  # float
        pl.Series([4, 5, None, 6, 7, 8, 9, 10, 11, None, 12, 13, 14], dtype=pl.Int16),  # int shown as text
        pl.Series([None] * n, dtype=pl.String),  # a column never written
    ]
    columns[1][9], columns[2][9] = None, None  # row 10: every cell blank, no <row> at all

    def sheet(path, block: bool) -> bytes:
        wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
        text, num, dec = wb.add_format({"num_format": "@"}), wb.add_format({"num_format": "#,##0"}), wb.add_format()
        ws = wb.add_worksheet("s")
        ws.write_string(0, 0, "title")
        ws.set_row(1, 32)
        ws.write_string(1, 0, "header")
        formats = [None, num, dec, None, None]
        if block:
            assert write_rows(ws, 2, columns, formats, text)
        else:
            for i, row in enumerate(zip(*(c.to_list() for c in columns)), start=2):
                for j, v in enumerate(row):
                    if v is None or v == "":
                        continue
                    if isinstance(v, (int, float)) and formats[j] is not None:
                        ws.write_number(i, j, v, formats[j])
                    else:
                        ws.write_string(i, j, v if isinstance(v, str) else str(v), text)
        ws.write_string(2 + n + 1, 0, "after")
        ws.autofilter(1, 0, 1 + n, 4)
        wb.close()
        with zipfile.ZipFile(path) as z:
            return z.read("xl/worksheets/sheet1.xml") + z.read("xl/styles.xml")

    block, cells = sheet(tmp_path / "block.xlsx", True), sheet(tmp_path / "cells.xlsx", False)
    assert b"_x0001_ctl" in block and b'xml:space="preserve"> lead' in block and b"1E+17" in block
    assert block == cells

    wb = xlsxwriter.Workbook(str(tmp_path / "declined.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("s")
    assert not write_rows(ws, 1, [pl.Series(["<r>rich</r>"])], [None], None)
    assert not write_rows(ws, 1, [pl.Series([math.nan])], [wb.add_format()], None)
    assert ws.dim_rowmin is None  # nothing written
    wb.close()


def test_mask_ids_is_mask_id_for_every_value():
    """masking.mask_ids (a column at once, for the HTML row lookup) gives mask_id's text value by
    value: short and long IDs, edge whitespace (Python's and polars' strip differ on U+001C–U+001F),
    a line break, blanks, None, and integers."""
    from pipelines.reports.masking import mask_id, mask_ids

    values = [
        "079146675204",
        "12345",
        "123456",
        " 012345678 ",
        "\u00a0001122334455\u3000",
        "\x1c123456789\x1f",
        "ab\ncdefg",
        "",
        "  ",
        None,
        "ID-99",
    ]
    assert mask_ids(pl.Series(values)).to_list() == [mask_id(v) for v in values]
    numbers = [123456789, 12, None]
    assert mask_ids(pl.Series(numbers)).to_list() == [mask_id(v) for v in numbers]
