"""Ingestion reads the files officers really have: real files written to disk and read back."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from e2e_support import to_cp1258, to_tcvn3

from matching.normalize.encodings import repair_legacy_text
from matching.normalize.fold import compact_key as fold
from pipelines.errors import InputError
from pipelines.ingest import load_column_map, read_table
from pipelines.registries import get_spec

WELFARE = get_spec("social_welfare")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ROWS = [
    [
        "DT001",
        "Nguyễn Văn An",
        "05/03/1950",
        "Nam",
        "001050012345",
        "Xã Tân Phú, Tỉnh Đồng Nai",
        "Người cao tuổi",
        "500000",
        "Tài khoản",
        "0123456789",
        "Agribank",
    ],
    [
        "DT002",
        "Trần Thị Bình",
        "1948",
        "Nữ",
        "",
        "Phường Hà Đông, Thành phố Hà Nội",
        "Người khuyết tật",
        "750000",
        "Tiền mặt",
        "",
        "",
    ],
    [
        "DT003",
        "Lê Văn Cường",
        "12/11/1960",
        "Nam",
        "031060001234",
        "",
        "Người cao tuổi",
        "500000",
        "Tài khoản",
        "111222333",
        "BIDV",
    ],
]
HEADERS = [
    "Mã đối tượng",
    "Họ và tên",
    "Ngày, tháng, năm sinh",
    "Giới tính",
    "Số CMND/CCCD",
    "Địa chỉ",
    "Loại đối tượng",
    "Mức trợ cấp",
    "Hình thức chi trả",
    "Số tài khoản",
    "Ngân hàng",
]


def _write_csv(path, headers, rows, encoding="utf-8"):
    lines = [",".join(f'"{h}"' for h in headers)] + [",".join(f'"{v}"' for v in r) for r in rows]
    text = "\r\n".join(lines) + "\r\n"
    path.write_bytes(to_cp1258(text) if encoding == "cp1258" else text.encode(encoding))
    return path


def test_fold_ignores_case_diacritics_spaces_and_punctuation():
    assert fold("HO VA TEN") == fold("Họ và tên") == fold(" họ_và-tên ")
    assert fold("Ngày, tháng, năm sinh") == "ngaythangnamsinh"
    assert fold("Số ĐDCN") == "soddcn"


def test_utf8_csv_with_bom_and_canonical_rows(tmp_path):
    path = tmp_path / "tro_cap.csv"
    path.write_bytes(b"\xef\xbb\xbf" + _write_csv(tmp_path / "x.csv", HEADERS, ROWS).read_bytes())
    res = read_table(path, WELFARE.columns)
    f = res.frame
    assert f.height == 3
    assert f["ho_ten"].to_list() == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert f["so_cccd"].to_list() == ["001050012345", None, "031060001234"]
    assert f["source_row"].to_list() == [1, 2, 3]
    assert f["excel_row"].to_list() == [2, 3, 4]
    assert set(f["source_file"]) == {"tro_cap.csv"}
    assert res.info["encoding"].startswith("utf-8")
    assert len(res.info["sha256"]) == 64


def test_windows_1258_csv_is_decoded(tmp_path):
    path = _write_csv(tmp_path / "cp1258.csv", HEADERS, ROWS, encoding="cp1258")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    res = read_table(path, WELFARE.columns)
    assert res.frame["ho_ten"].to_list()[0] == "Nguyễn Văn An"
    assert res.frame["dia_chi"].to_list()[1] == "Phường Hà Đông, Thành phố Hà Nội"
    assert "1258" in res.info["encoding"]


def test_tcvn3_text_is_kept_for_the_normalizer(tmp_path):
    rows = [r[:] for r in ROWS]
    rows[0][1] = "NguyÔn V¨n An"  # TCVN3 text saved as Unicode by an old office file
    path = _write_csv(tmp_path / "tcvn3.csv", HEADERS, rows)
    res = read_table(path, WELFARE.columns)
    assert res.frame["ho_ten"][0] == "NguyÔn V¨n An"


def _excel_with_title_merged_header_and_totals(path):
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Danh sách")
    ws.merge_range(0, 0, 0, 11, "DANH SÁCH ĐỐI TƯỢNG HƯỞNG TRỢ CẤP XÃ HỘI HẰNG THÁNG")
    ws.write(1, 0, "Xã Tân Phú - Tháng 10/2026")
    # row 3 blank, header on rows 4-5: "STT" and most cells span both rows, "Tài khoản" groups two
    top = ["STT"] + HEADERS[:9]
    for j, h in enumerate(top):
        ws.merge_range(3, j, 4, j, h)
    ws.merge_range(3, 10, 3, 11, "Tài khoản nhận")
    ws.write(4, 10, "Số tài khoản")
    ws.write(4, 11, "Ngân hàng")
    for i, r in enumerate(ROWS):
        ws.write_number(5 + i, 0, i + 1)
        for j, v in enumerate(r):
            if j == 4 and v:
                ws.write_number(5 + i, 1 + j, int(v))  # ID saved as a number: leading zero lost
            else:
                ws.write(5 + i, 1 + j, v)
    ws.write(8, 0, "Tổng cộng")
    ws.write_number(8, 8, 1750000)
    wb.close()
    return path


def test_excel_title_rows_merged_two_row_header_stt_and_totals(tmp_path):
    path = _excel_with_title_merged_header_and_totals(tmp_path / "danh_sach.xlsx")
    res = read_table(path, WELFARE.columns)
    f = res.frame
    assert f.height == 3, "the totals row is not a data row"
    assert f["ho_ten"].to_list() == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert f["so_cccd"].to_list() == ["1050012345", None, "31060001234"]
    assert f["so_tai_khoan"].to_list() == ["0123456789", None, "111222333"]
    assert f["ngan_hang"].to_list() == ["Agribank", None, "BIDV"]
    assert f["excel_row"].to_list() == [6, 7, 8]
    assert f["source_row"].to_list() == [1, 2, 3]
    assert res.info["header_row"] == 4 and res.info["header_rows"] == 2
    assert {"excel_row": 9, "reason": "totals"} in res.info["dropped_rows"]
    assert any("tổng cộng" in n and "9" in n for n in res.notes)


def test_missing_required_column_lists_found_and_expected(tmp_path):
    headers = [h for h in HEADERS if h != "Ngày, tháng, năm sinh"]
    rows = [r[:2] + r[3:] for r in ROWS]
    path = _write_csv(tmp_path / "thieu_cot.csv", headers, rows)
    with pytest.raises(InputError) as err:
        read_table(path, WELFARE.columns)
    msg = str(err.value)
    assert "thieu_cot.csv" in msg
    assert "không tìm thấy các cột bắt buộc" in msg and "'Ngày sinh'" in msg
    assert "'Họ và tên'" in msg  # a column that was found


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf\r\n", b"\n\n"])
def test_empty_file_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "rong.csv"
    path.write_bytes(content)
    with pytest.raises(InputError, match="rong.csv.*rỗng"):
        read_table(path, WELFARE.columns)


def test_header_only_file_is_refused(tmp_path):
    path = _write_csv(tmp_path / "chi_tieu_de.csv", HEADERS, [])
    with pytest.raises(InputError, match="không có dòng dữ liệu"):
        read_table(path, WELFARE.columns)


def test_unknown_format_and_missing_file(tmp_path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(InputError, match="định dạng"):
        read_table(tmp_path / "a.pdf", WELFARE.columns)
    with pytest.raises(InputError, match="không tìm thấy tệp"):
        read_table(tmp_path / "none.csv", WELFARE.columns)


def test_unaccented_upper_case_headers_and_yaml_mapping(tmp_path):
    headers = [h.upper() for h in HEADERS]
    headers = [fold(h) if i % 2 else h for i, h in enumerate(headers)]
    headers[5] = "NOI O CUA DOI TUONG"  # unknown to the spec: mapped by YAML
    path = _write_csv(tmp_path / "hoa.csv", headers, ROWS)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("dia_chi:\n  - Nơi ở của đối tượng\n", encoding="utf-8")
    res = read_table(path, WELFARE.columns, column_map=load_column_map(mapping))
    assert res.frame["dia_chi"][0] == "Xã Tân Phú, Tỉnh Đồng Nai"
    with pytest.raises(InputError, match="Địa chỉ"):
        read_table(path, WELFARE.columns)


def test_parquet(tmp_path):
    df = pl.DataFrame({c.name: [r[j] or None for r in ROWS] for j, c in enumerate(WELFARE.columns)})
    path = tmp_path / "x.parquet"
    df.write_parquet(path)
    res = read_table(path, WELFARE.columns)
    assert res.frame["ho_ten"].to_list() == df["ho_ten"].to_list()
    assert res.frame["excel_row"].to_list() == [2, 3, 4]


def test_legacy_xls_with_title_rows_merged_header_and_totals():
    """A real BIFF8 .xls (the Excel sheet above, saved as "Excel 97-2003" by LibreOffice)."""
    res = read_table(FIXTURES / "danh_sach_bao_tro.xls", WELFARE.columns)
    f = res.frame
    assert res.info["format"] == "xls" and res.info["header_rows"] == 2
    assert f["ho_ten"].to_list() == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert f["so_cccd"].to_list() == ["1050012345", None, "31060001234"]
    assert f["ngan_hang"].to_list() == ["Agribank", None, "BIDV"]
    assert f["excel_row"].to_list() == [6, 7, 8]
    assert {"excel_row": 9, "reason": "totals"} in res.info["dropped_rows"]


def test_raw_tcvn3_bytes_are_not_wrecked_by_windows_1258(tmp_path):
    """An old office file saved byte for byte from a .VnTime font: read as Latin-1 so the
    normalizer can convert every value (Windows-1258 would turn Þ, Ò, Ì, ì, ò into tone marks)."""
    names = ["Hoàng Thị Lan", "Trần Văn Tiến", "Vũ Thị Kiều", "Lê Thị Hồng", "Đỗ Văn Bình"]
    rows = [[f"DT{i}", n, "01/01/1950", "Nữ", "", "Xã Tân Phú", "", "1", "", "", ""] for i, n in enumerate(names)]
    path = tmp_path / "tcvn3_bytes.csv"
    lines = [",".join(HEADERS)] + [",".join(r) for r in rows]
    path.write_bytes(to_tcvn3("\r\n".join(lines) + "\r\n").encode("latin-1"))  # headers too
    res = read_table(path, WELFARE.columns)
    assert res.info["encoding"].startswith("latin-1")
    assert [repair_legacy_text(v)[0] for v in res.frame["ho_ten"]] == names


def test_a_second_column_with_the_same_meaning_is_reported(tmp_path):
    headers = HEADERS + ["Số CCCD"]
    rows = [r + ["999"] for r in ROWS]
    res = read_table(_write_csv(tmp_path / "hai_cot.csv", headers, rows), WELFARE.columns)
    assert res.frame["so_cccd"][0] == "001050012345"  # the left-most column wins
    assert any("'Số CCCD'" in n and "trùng nghĩa" in n for n in res.notes)


@pytest.mark.parametrize("name", ["hong.xlsx", "hong.xls", "hong.parquet"])
def test_unreadable_file_is_refused_naming_it(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"day khong phai la tep Excel")
    with pytest.raises(InputError, match=name.replace(".", r"\.")):
        read_table(path, WELFARE.columns)


def _multi_sheet_workbook(path, with_data=True):
    wb = xlsxwriter.Workbook(str(path))
    cover = wb.add_worksheet("Hướng dẫn")
    cover.write(0, 0, "Danh sách đối tượng bảo trợ xã hội năm 2026 — mỗi xã một trang")
    wb.add_worksheet("Trống")
    if with_data:
        a = wb.add_worksheet("Xã Tân Phú")
        a.write(0, 0, "DANH SÁCH ĐỐI TƯỢNG - XÃ TÂN PHÚ")
        a.write_row(2, 0, HEADERS)
        for i, row in enumerate(ROWS[:2]):
            a.write_row(3 + i, 0, row)
        b = wb.add_worksheet("Phường Hà Đông")
        b.write_row(0, 0, HEADERS)
        b.write_row(1, 0, ROWS[2])
        b.write_row(2, 0, ["", "Tổng cộng", "", "", "", "", "", "500000"])
    wb.close()


def test_every_sheet_with_the_header_is_read_and_named(tmp_path):
    """Offices keep a cover sheet and one sheet per commune: all data sheets are read, in order,
    each row naming its sheet and the row the officer sees there; other sheets are reported."""
    path = tmp_path / "btxh.xlsx"
    _multi_sheet_workbook(path)
    res = read_table(path, WELFARE.columns)
    f = res.frame
    assert f["ho_ten"].to_list() == ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    assert f["source_file"].to_list() == ["btxh.xlsx [Xã Tân Phú]"] * 2 + ["btxh.xlsx [Phường Hà Đông]"]
    assert f["source_row"].to_list() == [1, 2, 3]
    assert f["excel_row"].to_list() == [4, 5, 2]
    assert [(s["sheet"], s["rows"]) for s in res.info["sheets"]] == [("Xã Tân Phú", 2), ("Phường Hà Đông", 1)]
    assert res.info["sheets_skipped"] == ["Hướng dẫn", "Trống"]
    assert {"excel_row": 3, "reason": "totals", "sheet": "Phường Hà Đông"} in res.info["dropped_rows"]
    notes = " ".join(res.notes)
    assert "bỏ qua trang 'Hướng dẫn'" in notes and "đọc 2 trang" in notes and "Trống" not in notes


def test_workbook_without_any_data_sheet_is_refused_listing_sheets(tmp_path):
    path = tmp_path / "bia.xlsx"
    _multi_sheet_workbook(path, with_data=False)
    with pytest.raises(InputError) as err:
        read_table(path, WELFARE.columns)
    msg = str(err.value)
    assert "bia.xlsx" in msg and "'Hướng dẫn'" in msg and "'Trống'" in msg and "Họ và tên" in msg
