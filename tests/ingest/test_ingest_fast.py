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


def _parquet(path, header: str, rows: list[str]):
    import csv
    import io

    import polars as pl

    names = header.split(",")
    values = list(csv.reader(io.StringIO("\n".join(rows))))
    pl.DataFrame(
        {n: [r[i] for r in values] for i, n in enumerate(names)}, schema={n: pl.String for n in names}
    ).write_parquet(path)
    return path


def test_parquet_fast_path_equals_the_forgiving_reader(tmp_path):
    """An extract exported as all-text Parquet: polars reads it whole, with exactly the forgiving result."""
    from pipelines.ingest import read_parquet_fast

    path = _parquet(tmp_path / "csdlqg.parquet", HEADER, ROWS)
    fast = read_parquet_fast(path, POPULATION_COLUMNS)
    slow = read_table(path, POPULATION_COLUMNS, role="population")
    assert fast is not None
    assert fast.frame.equals(slow.frame)
    assert fast.info == slow.info and fast.notes == slow.notes
    assert fast.frame["ngay_sinh"][1] == "1991-03-04" and fast.frame["ho_ten_me"][1] is None


@pytest.mark.parametrize("case", ["blank_row", "totals_row", "not_nfc", "typed_column"])
def test_parquet_fast_path_steps_aside(tmp_path, case):
    import polars as pl

    from pipelines.ingest import read_parquet_fast

    rows = list(ROWS)
    if case == "blank_row":
        rows.insert(1, ",,,,,,")
    elif case == "totals_row":
        rows.append("Tổng cộng,,,,,,")
    elif case == "not_nfc":
        rows[0] = unicodedata.normalize("NFD", rows[0])
    path = _parquet(tmp_path / "x.parquet", HEADER, rows)
    if case == "typed_column":
        pl.read_parquet(path).with_columns(pl.lit(1).alias("Mã tỉnh")).write_parquet(path)
    assert read_parquet_fast(path, POPULATION_COLUMNS) is None
    read_table(path, POPULATION_COLUMNS, role="population")  # the forgiving path still reads it
