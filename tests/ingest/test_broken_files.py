"""A corpus of broken and odd files, as communes really send them, through `doisoat run`,
`doisoat clean` and `doisoat review` (issue 10, item 3).

Every command either succeeds (exit 0) or says in Vietnamese what is wrong (exit 2, "Lỗi: …"):
never a traceback, never an internal error. For a file that `run` read, no line is lost: every
line of the file is a header line, a data row in `links` or a line in `skipped_rows`, exactly
once. The files are built here, in a temporary folder, from the tiny fixture."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest
import xlsxwriter
from office_files import (
    TONG_NAMES,
    commune_workbook,
    to_cp1258,
    to_tcvn3_bytes,
    to_vni_bytes,
)

from pipelines.cli import main
from pipelines.ingest import decode_lines

TINY = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
HEADER = [
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
        "DT1",
        "Nguyễn Văn An",
        "05/03/1950",
        "Nam",
        "001050012345",
        "Phường Ba Đình, Thành phố Hà Nội",
        "Người cao tuổi",
        "500000",
        "Tài khoản",
        "0123",
        "Agribank",
    ],
    [
        "DT2",
        "Trần Thị Bình",
        "01/01/1948",
        "Nữ",
        "001148001111",
        "Phường Ba Đình, Hà Nội",
        "Người cao tuổi",
        "500000",
        "Tiền mặt",
        "",
        "",
    ],
    [
        "DT3",
        "Lê Văn Cường",
        "12/11/1960",
        "Nam",
        "031060001234",
        "Phường Hồng Bàng, Hải Phòng",
        "Người khuyết tật",
        "750000",
        "Tiền mặt",
        "",
        "",
    ],
    [
        "DT4",
        "Tống Sơn Tùng",
        "02/02/1955",
        "Nam",
        "001055002222",
        "Phường Ba Đình, Hà Nội",
        "Người cao tuổi",
        "500000",
        "Tiền mặt",
        "",
        "",
    ],
]


def _line(values, sep=","):
    return sep.join(f'"{v}"' if (sep in v or '"' in v) else v for v in values)


def _csv(rows, sep=",", header=HEADER):
    return "\r\n".join(_line(r, sep) for r in ([header] if header else []) + rows) + "\r\n"


def _xlsx_bytes(rows=ROWS, header=HEADER) -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet("Danh sách")
    for i, r in enumerate([header] + rows):
        ws.write_row(i, 0, r)
    wb.close()
    return buf.getvalue()


def _damaged_sheet_xml() -> bytes:
    src = zipfile.ZipFile(io.BytesIO(_xlsx_bytes(ROWS * 40)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) * 2 // 3] + b'<row r="9999"><c r="A9999" t="s"><v>0</v></broken'
            z.writestr(item, data)
    return out.getvalue()


def _zip_not_workbook() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("readme.txt", "không phải sổ Excel")
    return out.getvalue()


CFB = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _encrypted() -> bytes:
    """What Excel writes for a password-protected .xlsx: an OLE container with these streams."""
    body = bytearray(4096)
    names = ("EncryptionInfo".encode("utf-16-le"), "EncryptedPackage".encode("utf-16-le"))
    body[1024 : 1024 + len(names[0])] = names[0]
    body[1152 : 1152 + len(names[1])] = names[1]
    return CFB + bytes(504) + bytes(body)


def _two_sheets() -> bytes:
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    cover = wb.add_worksheet("Bìa")
    cover.write(0, 0, "ỦY BAN NHÂN DÂN XÃ TÂN PHÚ")
    cover.write(2, 0, "Báo cáo tháng 11 năm 2025")
    ws = wb.add_worksheet("Xã Tân Phú")
    for i, r in enumerate([HEADER] + ROWS):
        ws.write_row(i, 0, r)
    wb.close()
    return buf.getvalue()


def _mixed_encodings() -> bytes:
    lines = [
        _line(HEADER).encode("utf-8"),
        _line(ROWS[0]).encode("utf-8"),
        to_cp1258(_line(ROWS[1])),
        to_tcvn3_bytes(_line(ROWS[2])),
        to_vni_bytes(_line(ROWS[3])),
    ]
    return b"\r\n".join(lines) + b"\r\n"


def corpus(root: Path) -> dict[str, Path]:
    """Name → file (at least 30). Bytes are built here, never downloaded."""
    good = _csv(ROWS)
    files: dict[str, bytes | str | None] = {
        "truncated.xlsx": _xlsx_bytes()[:900],
        "not_a_zip.xlsx": b"day khong phai so Excel\r\n" * 20,
        "encrypted.xlsx": _encrypted(),
        "ole_junk.xlsx": CFB + bytes(range(256)) * 8,
        "empty.csv": b"",
        "empty.xlsx": b"",
        "junk.csv": bytes((i * 73 + 11) % 256 for i in range(5000)),
        "only_header.csv": _csv([]),
        "no_header.csv": _csv(ROWS * 3, header=None),
        "huge_field.csv": _csv([ROWS[0][:6] + ["x" * 200_000] + ROWS[0][7:], ROWS[1]]),
        "mixed_encodings.csv": _mixed_encodings(),
        "semicolon.csv": _csv(ROWS, sep=";"),
        "tab.csv": _csv(ROWS, sep="\t"),
        "duplicate_headers.csv": _csv([r + [r[1]] for r in ROWS], header=HEADER + ["Họ và tên"]),
        "bom_utf8.csv": b"\xef\xbb\xbf" + good.encode("utf-8"),
        "bom_utf16le.csv": good.encode("utf-16"),
        "bom_utf16be.csv": b"\xfe\xff" + good.encode("utf-16-be"),
        "cp1258.csv": to_cp1258(good),
        "tcvn3.csv": to_tcvn3_bytes(good),
        "html.xls": (
            "<html><body><table><tr><td>Họ và tên</td></tr><tr><td>Nguyễn Văn An</td></tr></table></body></html>"
        ).encode(),
        "spreadsheetml.xls": (
            b'<?xml version="1.0"?><Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"></Workbook>'
        ),
        "damaged_sheet_xml.xlsx": _damaged_sheet_xml(),
        "zip_not_workbook.xlsx": _zip_not_workbook(),
        "xlsx_named.xls": _xlsx_bytes(),
        "csv_named.xlsx": good.encode("utf-8"),
        "unclosed_quote.csv": (
            _csv(ROWS[:1]) + 'DT9,"Phạm Văn Dũng,01/01/1950,Nam\r\n' + _csv(ROWS * 30, header=None)
        ).encode("utf-8"),
        "blank_lines.csv": b"\r\n\r\n\r\n",
        "whitespace.csv": b"   \r\n\t\r\n",
        "nul_bytes.csv": good.replace("Agribank", "Agri\x00bank").encode("utf-8"),
        "ragged_rows.csv": _csv([ROWS[0][:4], ROWS[1] + ["thừa", "thừa nữa"], ROWS[2]]),
        "title_totals_footer.csv": (
            "DANH SÁCH ĐỐI TƯỢNG\r\n\r\n" + _csv(ROWS) + "Tổng cộng,,,,,,,2250000\r\n\r\n"
            ",,,,,,Tân Phú, ngày 15 tháng 11 năm 2025\r\nNGƯỜI LẬP BIỂU,,,,,,TM. ỦY BAN NHÂN DÂN\r\n"
            "\r\nNguyễn Thị Hoa,,,,,,Trần Văn Bảy\r\n"
        ).encode("utf-8"),
        "repeated_header.csv": (_csv(ROWS[:2]) + _csv(ROWS[2:])).encode("utf-8"),
        "cr_only.csv": good.replace("\r\n", "\r").encode("utf-8"),
        "two_sheets.xlsx": _two_sheets(),
        "unsupported.ods": b"PK\x03\x04 not really",
        "junk.parquet": b"PAR1 broken",
        "cover_only.xlsx": _xlsx_bytes(rows=[["Báo cáo tháng 11"]], header=["ỦY BAN NHÂN DÂN XÃ TÂN PHÚ"]),
        "folder.csv": None,
    }
    out: dict[str, Path] = {}
    for name, content in files.items():
        path = root / name
        if content is None:
            path.mkdir()
        else:
            path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        out[name] = path
    commune_workbook(root / "commune.xlsx", [r[:] for r in ROWS], tong_rows={0: TONG_NAMES[1]})
    out["commune.xlsx"] = root / "commune.xlsx"
    return out


def _lines_of(path: Path, sheet: str | None) -> int:
    """Lines of the input as the officer counts them (text-editor lines, or worksheet rows)."""
    if path.suffix in (".xlsx", ".xls"):
        with open(path, "rb") as fh:
            wb = openpyxl.load_workbook(fh, read_only=True)
            try:
                return sum(1 for _ in (wb[sheet] if sheet else wb.worksheets[0]).iter_rows())
            finally:
                wb.close()
    return len(decode_lines(path.read_bytes()).text.splitlines())


def _assert_no_line_lost(db: Path, run_id: str, path: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    try:
        info = json.loads(con.execute("SELECT input_files FROM runs WHERE run_id = ?", [run_id]).fetchone()[0])[0]
        data = con.execute("SELECT DISTINCT source_file, excel_row FROM links WHERE run_id = ?", [run_id]).fetchall()
        skipped = con.execute(
            "SELECT source_file, sheet, excel_row FROM skipped_rows WHERE run_id = ?", [run_id]
        ).fetchall()
    finally:
        con.close()
    sheets = [s["sheet"] for s in info.get("sheets", [])] or [None]
    several = len(sheets) > 1
    for s in info.get("sheets", [{"sheet": None, "header_row": info["header_row"]}]):
        sheet = s["sheet"]
        label = f"{path.name} [{sheet}]" if several else path.name
        rows = [r for f, r in data if f == label]
        skip = [r for f, sh, r in skipped if (sh == sheet if several else sh not in info.get("sheets_skipped", []))]
        header = list(range(s["header_row"], s["header_row"] + info["header_rows"]))
        seen = rows + skip + header
        total = _lines_of(path, sheet if sheet is not None else "")
        assert len(seen) == len(set(seen)), f"{path.name}: a line has two outcomes"
        assert sorted(seen) == list(range(1, total + 1)), f"{path.name} {sheet}: lines without an outcome"
    for sheet in info.get("sheets_skipped", []):  # a cover sheet: every line skipped with its reason
        total = _lines_of(path, sheet)
        assert sorted(r for f, sh, r in skipped if sh == sheet) == list(range(1, total + 1))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    root = tmp_path_factory.mktemp("hong")
    return root, corpus(root)


def test_the_corpus_is_large_enough(broken):
    assert len(broken[1]) >= 30


def _call(capsys, argv: list[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _is_error_line(err: str) -> bool:
    """The officer's error: one line "Lỗi: …" (after the log's Vietnam-time stamp) ending in its [code]."""
    last = err.strip().splitlines()[-1] if err.strip() else ""
    return re.match(r"^(\d\d:\d\d:\d\d\s+)?Lỗi: .+\[[a-z_]+\]$", last) is not None


def test_run_clean_and_review_on_every_broken_file(broken, tmp_path, capsys):
    root, files = broken
    db, out = tmp_path / "kho.duckdb", tmp_path / "bao_cao"
    outcomes: dict[str, tuple[int, int, int]] = {}
    for name, path in files.items():
        code_run, stdout, err_run = _call(
            capsys,
            [
                "run",
                "social_welfare",
                "--population",
                str(TINY / "population.csv"),
                "--input",
                str(path),
                "--db",
                str(db),
                "--out",
                str(out),
            ],
        )
        code_clean, _, err_clean = _call(
            capsys,
            ["clean", str(path), "--registry", "social_welfare", "--out", str(tmp_path / f"sach_{path.stem}.csv")],
        )
        code_review, _, err_review = _call(capsys, ["review", str(path), "--db", str(db), "--reviewer", "Cán bộ A"])
        for cmd, code, err in (
            ("run", code_run, err_run),
            ("clean", code_clean, err_clean),
            ("review", code_review, err_review),
        ):
            assert code in (0, 2), f"{cmd} {name}: exit {code}: {err}"
            assert "Traceback" not in err and "Lỗi nội bộ" not in err and "[internal_error]" not in err, (
                f"{cmd} {name}: {err}"
            )
            if code == 2:
                assert _is_error_line(err), f"{cmd} {name}: {err}"
        outcomes[name] = (code_run, code_clean, code_review)
        if code_run == 0:
            run_id = stdout.split()[2]
            _assert_no_line_lost(db, run_id, path)
    read = {n for n, c in outcomes.items() if c[0] == 0}
    # files that hold the table are read, however they were saved
    assert {
        "mixed_encodings.csv",
        "semicolon.csv",
        "tab.csv",
        "bom_utf8.csv",
        "bom_utf16le.csv",
        "bom_utf16be.csv",
        "cp1258.csv",
        "tcvn3.csv",
        "huge_field.csv",
        "xlsx_named.xls",
        "two_sheets.xlsx",
        "title_totals_footer.csv",
        "repeated_header.csv",
        "cr_only.csv",
        "commune.xlsx",
        "duplicate_headers.csv",
        "nul_bytes.csv",
        "ragged_rows.csv",
    } <= read
    # and the broken ones are refused
    assert {
        "truncated.xlsx",
        "not_a_zip.xlsx",
        "encrypted.xlsx",
        "empty.csv",
        "junk.csv",
        "only_header.csv",
        "no_header.csv",
        "html.xls",
        "damaged_sheet_xml.xlsx",
        "zip_not_workbook.xlsx",
        "unclosed_quote.csv",
        "folder.csv",
        "unsupported.ods",
        "cover_only.xlsx",
    }.isdisjoint(read)
    # clean refuses a file without the header too, instead of taking a person's row for it
    assert outcomes["no_header.csv"][1] == 2


@pytest.mark.parametrize(
    "name, words",
    [
        ("encrypted.xlsx", ["encrypted.xlsx", "tệp Excel có mật khẩu"]),
        ("damaged_sheet_xml.xlsx", ["damaged_sheet_xml.xlsx", "trang 'Danh sách'", "dòng", "bị hỏng"]),
        ("html.xls", ["html.xls", "HTML"]),
        ("truncated.xlsx", ["truncated.xlsx", "bị hỏng"]),
        ("unclosed_quote.csv", ["unclosed_quote.csv", "dòng 3", "ngoặc kép"]),
        ("no_header.csv", ["no_header.csv", "không tìm thấy các cột bắt buộc"]),
    ],
)
def test_errors_name_the_file_sheet_and_row(broken, tmp_path, capsys, name, words):
    path = broken[1][name]
    for argv in (
        [
            "run",
            "social_welfare",
            "--population",
            str(TINY / "population.csv"),
            "--input",
            str(path),
            "--db",
            str(tmp_path / "k.duckdb"),
            "--out",
            str(tmp_path / "o"),
        ],
        ["clean", str(path), "--registry", "social_welfare", "--out", str(tmp_path / "c.csv")],
    ):
        code, _, err = _call(capsys, argv)
        assert code == 2
        for w in words:
            assert w in err, (argv[0], err)
    if path.suffix == ".xlsx":
        code, _, err = _call(capsys, ["review", str(path), "--db", str(tmp_path / "k.duckdb"), "--reviewer", "A"])
        assert code == 2 and name in err


def test_a_db_that_is_not_a_warehouse_and_an_out_that_cannot_be_written(tmp_path, capsys):
    population, welfare = str(TINY / "population.csv"), str(TINY / "social_welfare.csv")
    not_db = tmp_path / "ghi_chu.duckdb"
    not_db.write_text("đây là ghi chú, không phải kho dữ liệu", encoding="utf-8")
    foreign = tmp_path / "khac.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE khach_hang (ten VARCHAR)")
    con.close()
    damaged = tmp_path / "hong.duckdb"
    con = duckdb.connect(str(damaged))
    con.execute("CREATE TABLE runs (run_id VARCHAR)")
    con.close()
    damaged.write_bytes(damaged.read_bytes()[:5000])
    for db, words in (
        (not_db, "không phải kho dữ liệu DuckDB"),
        (foreign, "không phải kho doisoat"),
        (damaged, "--db"),
        (tmp_path, "thư mục"),
    ):
        for argv in (
            [
                "run",
                "social_welfare",
                "--population",
                population,
                "--input",
                welfare,
                "--db",
                str(db),
                "--out",
                str(tmp_path / "o"),
            ],
            ["review", str(tmp_path / "x.xlsx"), "--db", str(db), "--reviewer", "A"],
        ):
            if argv[0] == "review":
                commune_workbook(tmp_path / "x.xlsx", [r[:] for r in ROWS])
            code, _, err = _call(capsys, argv)
            assert code == 2 and _is_error_line(err), (db.name, argv[0], err)
            if argv[0] == "run":
                assert words in err, err
    assert foreign.exists() and duckdb.connect(str(foreign)).execute("SELECT count(*) FROM khach_hang").fetchone() == (
        0,
    )
    # --out is a file: refused before the run writes anything
    blocker = tmp_path / "la_tep"
    blocker.write_text("x")
    db = tmp_path / "kho.duckdb"
    code, _, err = _call(
        capsys,
        [
            "run",
            "social_welfare",
            "--population",
            population,
            "--input",
            welfare,
            "--db",
            str(db),
            "--out",
            str(blocker / "bao_cao"),
        ],
    )
    assert code == 2 and "--out" in err
    if db.exists():
        con = duckdb.connect(str(db), read_only=True)
        assert con.execute("SELECT count(*) FROM links").fetchone() == (0,)
        con.close()
    code, _, err = _call(capsys, ["clean", welfare, "--registry", "social_welfare", "--out", str(blocker / "x.csv")])
    assert code == 2 and "--out" in err
