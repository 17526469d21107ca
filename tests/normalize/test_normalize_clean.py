"""`doisoat clean`: the file comes back with <col>_clean beside each original and a problems column;
rows are never dropped or reordered. Real files written and read back (CSV and .xlsx)."""

import csv

import openpyxl
import polars as pl
import pytest

from pipelines.clean import clean_file, clean_frame
from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.spec import ColumnSpec

HEADER = [
    "STT",
    "Mã đối tượng",
    "Họ và tên",
    "Ngày sinh",
    "Giới tính",
    "Số CCCD",
    "Địa chỉ",
    "Loại đối tượng",
    "Mức trợ cấp",
    "Hình thức chi trả",
    "Số tài khoản",
    "Ngân hàng",
]
ROWS = [
    [
        "1",
        "A1",
        "NguyÔn V¨n An",
        "05/03/1945",
        "Nam",
        "31045558124",
        "P. Đằng Hải, Q. Hải An, TP. Hải Phòng",
        "NCC",
        "1.500.000",
        "Tiền mặt",
        "",
        "",
    ],
    [
        "2",
        "A2",
        "Trần Thị Hoà",
        "1950",
        "nữ",
        "001150000123",
        "Phường Ba Đình, Hà Nội",
        "BTXH",
        "900000",
        "Tài khoản",
        "123",
        "VCB",
    ],
    ["", "", "", "", "", "", "", "", "", "", "", ""],
    [
        "3",
        "A3",
        "Lê Văn Cường",
        "31/02/1960",
        "Nam",
        "031060000111",
        "Hà Nội",
        "BTXH",
        "900000",
        "Tài khoản",
        "9",
        "BIDV",
    ],
]


def _write_csv(path):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["DANH SÁCH ĐỐI TƯỢNG BẢO TRỢ XÃ HỘI"])
        w.writerow([])
        w.writerow(HEADER)
        w.writerows(ROWS)


def _read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def test_clean_csv(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _write_csv(src)
    stats = clean_file(src, "social_welfare", out)
    assert stats["rows"] == 4 and stats["rows_with_problems"] == 3
    rows = _read_csv(out)
    header, body = rows[0], rows[1:]
    assert len(body) == 4
    # every original column kept in order, <canonical>_clean right after the normalized ones
    assert [h for h in header if not h.endswith("_clean") and h not in ("problems", "van_de")] == HEADER
    assert header[header.index("Họ và tên") + 1] == "ho_ten_clean"
    assert header[header.index("Ngày sinh") + 1] == "ngay_sinh_clean"
    assert header[header.index("Số CCCD") + 1] == "so_cccd_clean"
    assert header[-2:] == ["problems", "van_de"]
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["Mã đối tượng"]] for r in body] == ["A1", "A2", "", "A3"]  # order kept, blank row kept
    assert [r[col["Họ và tên"]] for r in body] == [r[2] for r in ROWS]  # originals untouched
    assert [r[col["ho_ten_clean"]] for r in body] == ["Nguyễn Văn An", "Trần Thị Hòa", "", "Lê Văn Cường"]
    assert [r[col["ngay_sinh_clean"]] for r in body] == ["1945-03-05", "1950", "", ""]
    assert body[0][col["so_cccd_clean"]] == "031045558124"
    assert body[0][col["muc_tro_cap_clean"]] == "1500000"
    assert "ho_ten:legacy_tcvn3" in body[0][col["problems"]]
    assert "ngay_sinh:date_impossible" in body[3][col["problems"]]
    assert body[2][col["problems"]] == ""
    assert "Họ và tên: Mã cũ TCVN3 (ABC)" in body[0][col["van_de"]]


def test_clean_xlsx_via_cli(tmp_path, capsys):
    src, out = tmp_path / "in.xlsx", tmp_path / "out.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Danh sách"])
    ws.append(HEADER)
    for r in ROWS:
        if any(r):
            ws.append([float(v) if h == "Số CCCD" else v for h, v in zip(HEADER, r)])  # IDs saved as numbers
    wb.save(src)
    assert main(["clean", str(src), "--registry", "social_welfare", "--out", str(out)]) == 0
    assert "3 dòng" in capsys.readouterr().out
    back = openpyxl.load_workbook(out).active
    values = [list(r) for r in back.iter_rows(values_only=True)]
    header, body = values[0], values[1:]
    col = {h: i for i, h in enumerate(header)}
    assert len(body) == 3
    # 001150000123 saved as a number lost two zeros: 10 digits could be a BHXH code, so it is
    # not "restored" (only certain repairs are made)
    assert [r[col["so_cccd_clean"]] for r in body] == ["031045558124", "1150000123", "031060000111"]
    assert [r[col["ho_ten_clean"]] for r in body] == ["Nguyễn Văn An", "Trần Thị Hòa", "Lê Văn Cường"]
    assert "so_cccd:id_leading_zero_restored" in body[0][col["problems"]]


def test_population_registry_and_errors(tmp_path):
    src = tmp_path / "pop.csv"
    src.write_text(
        "so_dinh_danh,ho_ten,ngay_sinh,gioi_tinh\n031063558124,nguyễn văn an,05/03/1963,Nam\n", encoding="utf-8"
    )
    stats = clean_file(src, "population", tmp_path / "pop_out.csv")
    assert stats["rows"] == 1 and stats["rows_with_problems"] == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError):
        clean_file(bad, "social_welfare", tmp_path / "x.csv")
    with pytest.raises(InputError):
        clean_file(src, "population", tmp_path / "x.txt")


def test_clean_land_owners_year_and_area(tmp_path):
    src, out = tmp_path / "land.csv", tmp_path / "land_out.csv"
    header = [
        "Số GCN",
        "Tờ bản đồ số",
        "Thửa đất số",
        "Diện tích (m2)",
        "Chủ sử dụng",
        "Năm sinh",
        "Số CMND",
        "Địa chỉ thường trú",
        "Địa chỉ thửa đất",
    ]
    rows = [
        [
            "BA 123",
            "5",
            "12",
            "120,5",
            "Ông Nguyễn Văn An và bà Trần Thị Bình",
            "1950",
            "12345678",
            "Xã Cẩm Giàng, Thành phố Hải Phòng",
            "Thôn 2",
        ],
        ["BA 124", "5", "13", "1.200", "UBND xã Tân Hòa", "", "", "", "Thôn 3"],
        ["BA 125", "6", "1", "0", "Hộ ông Lê Văn Cường", "01/01/1940", "012345678", "Hà Nội", "Thôn 4"],
    ]
    with open(src, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    stats = clean_file(src, "land", out)
    assert stats["rows"] == 3
    body = _read_csv(out)
    col = {h: i for i, h in enumerate(body[0])}
    body = body[1:]
    assert [r[col["chu_su_dung_clean"]] for r in body] == [
        "Nguyễn Văn An; Trần Thị Bình",
        "UBND xã Tân Hòa",
        "Lê Văn Cường",
    ]
    assert [r[col["nam_sinh_clean"]] for r in body] == ["1950", "", "1940"]
    assert [r[col["dien_tich_clean"]] for r in body] == ["120.5", "1200", "0"]
    assert [r[col["so_giay_to_clean"]] for r in body] == ["012345678", "", "012345678"]
    assert "dien_tich:not_positive" in body[2][col["problems"]]
    assert "so_giay_to:id_leading_zero_restored" in body[0][col["problems"]]
    assert "dia_chi_thua_dat_clean" not in col  # text columns are written back as they are


def test_clean_keeps_a_foreign_name_column_as_written():
    """`clean` normalizes by the spec's columns, language included: a guest column is not
    "repaired" into Vietnamese, the host column beside it is."""
    columns = (
        ColumnSpec("ho_ten", "name", role="ho_ten", language="other"),
        ColumnSpec("chu_co_so", "name"),
    )
    frame = pl.DataFrame({"Họ tên khách": ["harry max", "John O'Neil"], "Chủ cơ sở": ["Nguyeenx Vawn An", "x"]})
    out = clean_frame(frame, {"Họ tên khách": "ho_ten", "Chủ cơ sở": "chu_co_so"}, columns)
    assert out["ho_ten_clean"].to_list() == ["Harry Max", "John O'Neil"]
    assert out["chu_co_so_clean"].to_list() == ["Nguyễn Văn An", "X"]
    assert out["Họ tên khách"].to_list() == ["harry max", "John O'Neil"]  # the original kept beside it
