"""The polars fast path for CSDLQG extracts gives exactly what the forgiving reader gives, and
steps aside (returns None) for every file it would not read row for row the same way."""

from __future__ import annotations

import unicodedata

import pytest
from e2e_support import to_cp1258

from pipelines.ingest import read_csv_fast, read_table
from pipelines.normalize import POPULATION_COLUMNS

HEADER = "Số định danh cá nhân,Họ và tên,Ngày sinh,Giới tính,Mã tỉnh,Ghi chú khác,Họ tên mẹ"
ROWS = [
    "001190000001,Nguyễn Văn An,01/02/1990,Nam,01,x,Trần Thị Bình",
    '001290000002,"Lê Thị Hoa, con",  1991-03-04 ,Nữ,01,,',
    "079085000003,Phạm Đức,1985,Nam,79,,Hoàng Thị Mai",
]


def _write(path, lines, encoding="utf-8", bom=False):
    text = "\r\n".join(lines) + "\r\n"
    data = to_cp1258(text) if encoding == "cp1258" else text.encode(encoding)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


@pytest.mark.parametrize("bom", [False, True])
def test_fast_path_equals_the_forgiving_reader(tmp_path, bom):
    path = _write(tmp_path / "csdlqg.csv", [HEADER, *ROWS], bom=bom)
    fast = read_csv_fast(path, POPULATION_COLUMNS)
    slow = read_table(path, POPULATION_COLUMNS, role="population")
    assert fast is not None
    assert fast.frame.equals(slow.frame)
    assert fast.frame["ho_ten"].to_list() == ["Nguyễn Văn An", "Lê Thị Hoa, con", "Phạm Đức"]
    assert fast.frame["ngay_sinh"][1] == "1991-03-04"  # stripped like the forgiving reader
    assert fast.frame["ho_ten_me"][1] is None  # empty cell is null, not ""
    assert fast.frame["excel_row"].to_list() == [2, 3, 4]
    assert fast.info == slow.info
    assert fast.notes == slow.notes


def test_semicolon_delimiter(tmp_path):
    path = _write(
        tmp_path / "csdlqg.csv",
        [HEADER.replace(",", ";"), *(r.replace('"Lê Thị Hoa, con"', "Lê Thị Hoa").replace(",", ";") for r in ROWS)],
    )
    fast = read_csv_fast(path, POPULATION_COLUMNS)
    assert fast is not None and fast.frame.equals(read_table(path, POPULATION_COLUMNS, role="population").frame)


@pytest.mark.parametrize(
    "case",
    ["cp1258", "nfd", "title_row", "blank_line", "totals", "multiline_value", "not_csv"],
)
def test_fast_path_steps_aside(tmp_path, case):
    lines, encoding, name = [HEADER, *ROWS], "utf-8", "csdlqg.csv"
    if case == "cp1258":
        encoding = "cp1258"
    elif case == "nfd":
        lines = [unicodedata.normalize("NFD", line) for line in lines]
    elif case == "title_row":
        lines = ["DANH SÁCH TRÍCH XUẤT CSDLQG", *lines]
    elif case == "blank_line":
        lines = [HEADER, ROWS[0], ",,,,,,", *ROWS[1:]]
    elif case == "totals":
        lines = [*lines, "Tổng cộng,,,,,,"]
    elif case == "multiline_value":
        lines = [HEADER, ROWS[0], '001290000002,"Lê Thị\nHoa",1991,Nữ,01,,', ROWS[2]]
    elif case == "not_csv":
        name = "csdlqg.txt"
    path = _write(tmp_path / name, lines, encoding=encoding)
    assert read_csv_fast(path, POPULATION_COLUMNS) is None
    # and the forgiving reader still reads it (the case is a real file, not a broken one)
    slow = read_table(path, POPULATION_COLUMNS, role="population")
    assert slow.frame.height == 3
