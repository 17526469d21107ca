"""Files built like the ones communes really send (issue 10), for tests and for before/after runs.

Why a module and not inline fixtures: the same commune list (title rows, merged two-row header,
STT, a "Tổng cộng" row, a signature block, beneficiaries whose surname is Tống) and the same
mixed-encoding CSV are used by the tests and by the measured runs quoted in the report
(`python tests/ingest/office_files.py OUT_DIR` writes them from data/sample)."""

from __future__ import annotations

import sys
import unicodedata
from pathlib import Path

import polars as pl
import xlsxwriter
from e2e_support import to_cp1258, to_tcvn3
from unidecode import unidecode

from matching.reference.legacy_fonts import VNI_PAIRS, VNI_SINGLE
from matching.reference.letters import VIET_LETTERS

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "data" / "sample"

# Real surnames/given names whose folded text starts like "tổng số" / "tổng cộng" / "cộng tổng".
TONG_NAMES = ("Tống Sơn Tùng", "Tống Công Minh", "Công Tống Hà")
WELFARE_LABELS = [
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
WELFARE_COLUMNS = [
    "ma_doi_tuong",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "so_cccd",
    "dia_chi",
    "loai_doi_tuong",
    "muc_tro_cap",
    "hinh_thuc_chi_tra",
    "so_tai_khoan",
    "ngan_hang",
]


def welfare_rows(n: int, src: Path = SAMPLE / "social_welfare.csv") -> list[list[str | None]]:
    df = pl.read_csv(src, infer_schema=False).head(n)
    return [list(r) for r in df.select(WELFARE_COLUMNS).iter_rows()]


def commune_workbook(
    path: Path,
    rows: list[list[str | None]],
    *,
    tong_rows: dict[int, str] | None = None,
    signature: bool = True,
    totals: bool = True,
) -> dict:
    """A commune's .xlsx: title, subtitle, blank, a two-row merged header (account columns
    grouped under "Tài khoản nhận"), STT, data rows (IDs as text), a "Tổng cộng" row with the sum,
    then a signature block: place-and-date line, "NGƯỜI LẬP BIỂU … TM. ỦY BAN NHÂN DÂN",
    "(Ký, ghi rõ họ tên)", blank lines and the two signers' names.

    `tong_rows` renames data rows (index → name) to the Tống names. Returns the Excel row numbers
    of the data rows, the totals row and the footer lines."""
    rows = [r[:] for r in rows]
    for i, name in (tong_rows or {}).items():
        rows[i][1] = name
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Danh sách")
    ws.merge_range(0, 0, 0, 11, "DANH SÁCH ĐỐI TƯỢNG HƯỞNG TRỢ CẤP XÃ HỘI HẰNG THÁNG")
    ws.merge_range(1, 0, 1, 11, "Xã Tân Phú — Tháng 11 năm 2025")
    for j, h in enumerate(["STT"] + WELFARE_LABELS[:9]):
        ws.merge_range(3, j, 4, j, h)
    ws.merge_range(3, 10, 3, 11, "Tài khoản nhận")
    ws.write(4, 10, "Số tài khoản")
    ws.write(4, 11, "Ngân hàng")
    first = 5
    for i, r in enumerate(rows):
        ws.write_number(first + i, 0, i + 1)
        for j, v in enumerate(r):
            if v is None:
                continue
            if j == 7:
                ws.write_number(first + i, 1 + j, float(v))
            else:
                ws.write_string(first + i, 1 + j, v)
    out = {"data": list(range(first + 1, first + 1 + len(rows))), "totals": None, "footer": []}
    r = first + len(rows)
    if totals:
        ws.merge_range(r, 0, r, 2, "Tổng cộng")
        ws.write_number(r, 8, sum(float(x[7] or 0) for x in rows))
        out["totals"] = r + 1
        r += 1
    if signature:
        r += 1  # blank
        ws.merge_range(r, 7, r, 11, "Tân Phú, ngày 15 tháng 11 năm 2025")
        out["footer"].append(r + 1)
        r += 1
        ws.merge_range(r, 1, r, 3, "NGƯỜI LẬP BIỂU")
        ws.merge_range(r, 7, r, 11, "TM. ỦY BAN NHÂN DÂN")
        out["footer"].append(r + 1)
        r += 1
        ws.merge_range(r, 1, r, 3, "(Ký, ghi rõ họ tên)")
        ws.merge_range(r, 7, r, 11, "CHỦ TỊCH")
        out["footer"].append(r + 1)
        r += 4  # room for the signatures
        ws.merge_range(r, 1, r, 3, "Nguyễn Thị Hoa")
        ws.merge_range(r, 7, r, 11, "Trần Văn Bảy")
        out["footer"].append(r + 1)
    wb.close()
    return out


# ---------------------------------------------------------------- encodings ----------------

_VNI_FROM_UNICODE: dict[str, str] = {}
for _pair, _u in VNI_PAIRS.items():
    # lower-case pairs for lower-case letters, "Aù"-style mixed pairs for capitals (Title Case)
    if (_u.islower() and _pair.islower()) or (_u.isupper() and _pair[0].isupper() and not _pair[1:].isupper()):
        _VNI_FROM_UNICODE.setdefault(_u, _pair)
for _single, _u in VNI_SINGLE.items():
    _VNI_FROM_UNICODE.setdefault(_u, _single)


def to_tcvn3_bytes(text: str) -> bytes:
    """Bytes of text typed with a TCVN3 (.VnTime) font."""
    return to_tcvn3(text).encode("latin-1")


def to_vni_bytes(text: str) -> bytes:
    """Bytes of text typed with a VNI-Windows font (letter + mark character)."""
    return "".join(_VNI_FROM_UNICODE.get(ch, ch) for ch in unicodedata.normalize("NFC", text)).encode("latin-1")


def typeable(text: str) -> str:
    """What an 8-bit office could type: Vietnamese letters and ASCII (the sample's stray
    characters such as "ŭ" or "Ð" did not exist there)."""
    text = unicodedata.normalize("NFC", text).replace("Ð", "Đ")
    return "".join(ch if ch.isascii() or ch in VIET_LETTERS else unidecode(ch) for ch in text)


ENCODERS = {
    "utf-8": lambda s: s.encode("utf-8"),
    "cp1258": lambda s: to_cp1258(typeable(s)),
    "tcvn3": lambda s: to_tcvn3_bytes(typeable(s)),
    "vni": lambda s: to_vni_bytes(typeable(s)),
}


def csv_line(values: list[str | None]) -> str:
    return ",".join(
        '"' + (v or "").replace('"', '""') + '"' if v and ("," in v or '"' in v) else (v or "") for v in values
    )


def mixed_encoding_csv(
    path: Path, rows: list[list[str | None]], parts: list[tuple[str, int]], *, canonical_header: bool = False
) -> dict[str, list[int]]:
    """A CSV pasted together from several lists: the header and the first part in the first
    encoding, then each part's lines in its own encoding (`parts`: [(encoding, n_rows)]).
    Returns the line numbers (1 = header) written in each encoding."""
    lines = [ENCODERS[parts[0][0]](csv_line(WELFARE_COLUMNS if canonical_header else WELFARE_LABELS))]
    where: dict[str, list[int]] = {}
    i = 0
    for enc, n in parts:
        for r in rows[i : i + n]:
            lines.append(ENCODERS[enc](csv_line(r)))
            where.setdefault(enc, []).append(len(lines))
        i += n
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    return where


def main(out_dir: str) -> None:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rows = welfare_rows(50)
    commune_workbook(out / "xa_tan_phu.xlsx", rows, tong_rows={4: TONG_NAMES[0], 16: TONG_NAMES[1], 32: TONG_NAMES[2]})
    commune_workbook(out / "xa_tan_phu_khong_ky.xlsx", rows, signature=False)
    commune_workbook(
        out / "xa_tan_phu_tong.xlsx",
        rows,
        tong_rows={4: TONG_NAMES[0], 16: TONG_NAMES[1], 32: TONG_NAMES[2]},
        signature=False,
    )
    commune_workbook(out / "xa_tan_phu_chu_ky.xlsx", rows, signature=True)
    all_rows = welfare_rows(500)
    mixed_encoding_csv(out / "hai_danh_sach.csv", all_rows, [("utf-8", 250), ("cp1258", 250)])
    mixed_encoding_csv(
        out / "hai_danh_sach_ascii.csv", all_rows, [("utf-8", 250), ("cp1258", 250)], canonical_header=True
    )
    mixed_encoding_csv(out / "bon_bang_ma.csv", all_rows, [("utf-8", 200), ("cp1258", 200), ("tcvn3", 50), ("vni", 50)])
    for p in sorted(out.iterdir()):
        print(p)


if __name__ == "__main__":
    main(sys.argv[1])
