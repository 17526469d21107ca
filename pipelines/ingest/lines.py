"""What is not data: blank lines, totals, signature blocks, column-number rows, repeated headers.

Why: commune lists carry a "Tổng cộng" row, a signature block and a "(1) (2) (3)" line around
the people. Each such line is skipped with a reason (`SKIP_REASONS`, → warehouse `skipped_rows`)
and its text kept only masked (`mask_text`: digits and words that are not form labels hidden),
so nothing is dropped silently and no personal data is stored with it. Recognisers are written
so a person is never taken for a footer: the surname Tống is not "Tổng".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import polars as pl

from matching.normalize.fold import compact_key, fold
from pipelines.ingest.decoding import line_ranges

# Why a line under (or above) the header is not a data row, as officers read it. Every line of an
# input is either a header line, a data row (→ `links`) or one of these (→ `skipped_rows`).
SKIP_REASONS = {
    "above_header": "tiêu đề/ghi chú phía trên bảng",
    "blank": "dòng trống",
    "totals": "dòng tổng cộng",
    "footer": "chữ ký/cuối biểu",
    "repeated_header": "dòng tiêu đề lặp lại",
    "column_numbers": "dòng đánh số cột",
    "other_sheet": "trang không có bảng dữ liệu",
}

# "Tổng cộng", "Tổng số", "Cộng tổng", "Cộng", "Tổng" — compared with their diacritics, so the
# surname Tống and the name Công never look like them; typed without diacritics ("TONG CONG"),
# the words after the label must be a unit, an amount word or a number, not a given name.
_TOTALS_HEADS = {("tổng", "cộng"), ("tổng", "số"), ("cộng", "tổng"), ("tổng",), ("cộng",)}
_TOTALS_AFTER = {
    "thôn",
    "xã",
    "phường",
    "tổ",
    "ấp",
    "bản",
    "khu",
    "xóm",
    "làng",
    "buôn",
    "đội",
    "toàn",
    "chung",
    "tiền",
    "người",
    "hộ",
    "đối",
    "cả",
    "cộng",
    "số",
    "danh",
    "trang",
    "lũy",
    "kế",
}
_TOTALS_AFTER_ASCII = {compact_key(w) for w in _TOTALS_AFTER}
# The fast CSV path's screen (a polars regex on a row's first filled cell, lower case): broader
# than `is_totals_label` on purpose — any row it flags sends the file to the forgiving reader.
TOTALS_SCREEN = r"^(t[ổô]ng|c[ộô]ng|tong|cong)\b"
_TEXT_WORDS = re.compile(r"[^\W_]+")
# Signature block under a commune list: place-and-date line, signers' titles, "(Ký, ghi rõ họ tên)".
_FOOTER_PREFIXES = (
    "nguoilap",
    "thutruong",
    "tmuyban",
    "tmubnd",
    "ktchutich",
    "ktgiamdoc",
    "ktthutruong",
    "kttruong",
    "uybannhandan",
    "ubnd",
    "kyghiro",
    "kyvaghiro",
    "kytenvaghiro",
    "kyhoten",
    "kyten",
    "kydongdau",
    "kyxacnhan",
    "chutich",
    "phochutich",
    "ketoan",
    "xacnhancua",
    "giamdoc",
    "phogiamdoc",
    "truongphong",
    "lanhdao",
    "daky",
    "noinhan",
    "canbolap",
    "nguoiduyet",
    "nguoikiemtra",
    "truongthon",
    "congchuc",
)
_PLACE_DATE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")
_ID_SHAPE = re.compile(r"\d{9}|\d{11,12}")  # CMND, CCCD, CCCD whose leading zero Excel dropped
_ID_SEPARATORS = re.compile(r"[\s.'`‘’-]")
_COLUMN_NUMBER = re.compile(r"\(?(\d{1,2})\)?")
_WORD = re.compile(r"[^\W\d_]+")
# Words kept when a skipped line's text is shown (labels, never names or numbers).
_KEEP_WORDS = set(
    "tổng cộng số tiền người hộ đối tượng danh sách stt tt thôn xã phường thị trấn huyện quận tỉnh thành phố tổ ấp "
    "bản khu xóm ngày tháng năm lập biểu thủ trưởng đơn vị tm kt ủy ban nhân dân ubnd ký ghi rõ họ tên đóng dấu "
    "chủ tịch phó kế toán xác nhận của giám đốc phòng cán bộ đã nơi nhận chú lãnh đạo duyệt kiểm tra công chức "
    "lao động thương binh và hội mức trợ cấp kèm theo báo cáo hằng chi trả đồng vnđ hòa chủ nghĩa việt nam độc lập "
    "tự do hạnh phúc trang tiếp".split()
)


def _ascii_words(text: str) -> str:
    return " ".join(re.findall(r"[0-9a-z]+", fold(text)))


def is_place_date(text: str) -> bool:
    """A "Tân Phú, ngày 15 tháng 11 năm 2025" line (the signature block's first line), not a date of birth."""
    return bool(_PLACE_DATE.search(_ascii_words(text)))


def is_totals_label(text: str | None) -> bool:
    """A "Tổng cộng"-like label, not a person named Tống Sơn Tùng or Công Tống Hà."""
    if not text:
        return False
    words = _TEXT_WORDS.findall(unicodedata.normalize("NFC", text).lower())
    plain = text.isascii()
    if plain:
        words = [compact_key(w) for w in words]
    heads = {tuple(compact_key(w) for w in h) for h in _TOTALS_HEADS} if plain else _TOTALS_HEADS
    for k in (2, 1):
        if tuple(words[:k]) in heads:
            rest = words[k:]
            return not rest or rest[0].isdigit() or rest[0] in (_TOTALS_AFTER_ASCII if plain else _TOTALS_AFTER)
    return False


def is_footer_line(cells: Sequence[str | None]) -> bool:
    """A signature-block line: place-and-date, a signer's title, "(Ký, ghi rõ họ tên)"."""
    for c in [c for c in cells if c][:4]:
        if compact_key(c).startswith(_FOOTER_PREFIXES) or is_place_date(c):
            return True
    return False


def is_column_numbers(cells: Sequence[str | None]) -> bool:
    """The "(1) (2) (3) …" line many forms put under the header."""
    vals = [c for c in cells if c]
    if len(vals) < 3:
        return False
    nums = []
    for v in vals:
        m = _COLUMN_NUMBER.fullmatch(v)
        if not m:
            return False
        nums.append(int(m[1]))
    return nums == list(range(nums[0], nums[0] + len(nums)))


def id_shaped(value: str | None) -> bool:
    return bool(value) and bool(_ID_SHAPE.fullmatch(_ID_SEPARATORS.sub("", value)))


def kept_words(header_rows: Sequence[Sequence[str | None]]) -> set[str]:
    """The header's own words (lower case): a skipped line repeating them shows them unmasked."""
    return {w.lower() for r in header_rows for c in r if c for w in _WORD.findall(c)}


def mask_text(cells: Sequence[str | None], keep: set[str] = frozenset(), limit: int = 160) -> str:
    """A skipped line's text with its structure but no personal data: digits become '#', words
    that are not form labels become '…' ("…, ngày ## tháng ## năm ####")."""
    text = " | ".join(c for c in cells if c)
    text = re.sub(r"\d", "#", text)
    text = _WORD.sub(
        lambda m: m.group(0) if m.group(0).lower() in _KEEP_WORDS or m.group(0).lower() in keep else "…", text
    )
    return text if len(text) <= limit else text[: limit - 1] + "…"


def skipped_notes(where: str, skipped: Sequence[dict], header_row: int, last_data_row: int | None) -> list[str]:
    """One line per reason with row ranges (blank lines after the table are layout: counted only)."""
    by: dict[str, list[int]] = {}
    for d in skipped:
        by.setdefault(d["reason"], []).append(d["excel_row"])
    notes = []
    for reason, rows in by.items():
        if reason == "blank":
            inner = [r for r in rows if last_data_row is not None and header_row < r < last_data_row]
            if inner:
                notes.append(f"Tệp {where}: bỏ {len(inner)} dòng trống giữa dữ liệu (dòng {line_ranges(inner)}).")
            continue
        if reason == "totals":
            notes.append(f"Tệp {where}: bỏ dòng tổng cộng ở dòng {line_ranges(rows)} (không phải dòng dữ liệu).")
            continue
        notes.append(
            f"Tệp {where}: {len(rows)} dòng {SKIP_REASONS[reason]} (dòng {line_ranges(rows)}) không phải dòng dữ liệu."
        )
    return notes


SKIPPED_COLUMNS = {
    "source_file": pl.Utf8,
    "sheet": pl.Utf8,
    "excel_row": pl.Int64,
    "reason_code": pl.Utf8,
    "reason": pl.Utf8,
    "text_masked": pl.Utf8,
}
