"""Ingestion: turn the files officers really have into one text frame with canonical columns.

Why so forgiving: registry files come from commune offices as CSV in UTF-8 or Windows-1258,
Excel sheets with title rows above the header, two-row merged headers, an STT column and a
"Tổng cộng" row at the bottom. We read every cell as text (numbers and dates are rendered the
way the officer sees them; the normalizers parse them), find the header row by matching the
spec's aliases (case, diacritics, spaces and punctuation ignored), and keep three row numbers on
every row: `source_file`, `source_row` (1 = first data row) and `excel_row` (what the officer
sees). Non-data rows (blank rows, the totals row) are dropped and *reported*, never silently.

Legacy TCVN3/VNI text inside a file is converted per value by the normalizer; ingestion only
decodes bytes. Anything wrong with the file itself raises `InputError` in Vietnamese.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path

import polars as pl

from matching.normalize.dates import parse_date
from matching.normalize.encodings import (
    all_words_valid,
    tcvn3_to_unicode,
    vni_to_unicode,
)
from matching.normalize.fold import compact_key, fold
from matching.reference.letters import VIET_LETTERS
from pipelines.errors import (
    DamagedFileError,
    EncryptedWorkbookError,
    InputError,
    header_cells_text,
    safe_excerpt,
)
from pipelines.spec import ColumnSpec

HEADER_SCAN_ROWS = 30  # title rows above the header are rarely more than a handful


@dataclass
class IngestResult:
    """The frame (all text, canonical column names + row numbers) and what we noticed reading it."""

    frame: pl.DataFrame
    info: dict = field(default_factory=dict)  # file, sha256, format, encoding, rows, header_row, ...
    notes: list[str] = field(default_factory=list)  # Vietnamese, for the run summary; no personal data
    skipped: pl.DataFrame | None = None  # lines that are not data: SKIPPED_COLUMNS, one row per line


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------- decoding -----------------

# How a line's bytes were read, in Vietnamese for the run's notes.
ENCODING_LABELS = {
    "utf-8": "UTF-8",
    "cp1258": "Windows-1258",
    "legacy": "phông chữ cũ TCVN3/VNI (đọc từng byte)",
}
LEGACY_BYTES = "latin-1 (legacy font bytes)"


@dataclass
class Decoded:
    """A file's text and how each physical line was read (1 = first line).

    `encoding` names the file's reading when one applies to every line, else
    "mixed: …"; `runs` lists (first line, last line, encoding key) — ASCII-only lines join the
    run they sit in; `unreadable` holds the lines that no reading turns into valid Vietnamese."""

    text: str
    encoding: str
    runs: list[tuple[int, int, str]] = field(default_factory=list)
    unreadable: set[int] = field(default_factory=set)


def decode_lines(data: bytes) -> Decoded:
    """Decode a text file line by line, each line with its own encoding.

    Why per line: commune lists are pasted together — the first half saved as UTF-8, the second
    as Windows-1258, a few lines typed with a TCVN3 or VNI font — and deciding once for the whole
    file turns every name of the other halves into mojibake. A file that is valid UTF-8 (or has a
    UTF-16 BOM) is read whole, the fast path. Otherwise each line that is not UTF-8 is read as
    Windows-1258 when that gives valid Vietnamese syllables, else as legacy-font bytes (Latin-1;
    the normalizer converts TCVN3/VNI per value) when every value repairs, else it is flagged
    unreadable (the better of the two readings is kept, never silently)."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            text = data[len(codecs.BOM_UTF8):].decode("utf-8")
            return Decoded(unicodedata.normalize("NFC", text), "utf-8-sig")
        except UnicodeDecodeError:
            data = data[len(codecs.BOM_UTF8):]
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return Decoded(unicodedata.normalize("NFC", data.decode("utf-16")), "utf-16")
        except UnicodeDecodeError:
            pass
    else:
        try:
            return Decoded(unicodedata.normalize("NFC", data.decode("utf-8")), "utf-8")
        except UnicodeDecodeError:
            pass
    parts: list[str] = []
    keys: list[str | None] = []  # None: ASCII only, fits any reading
    unreadable: set[int] = set()
    block: list[tuple[int, bytes]] = []  # consecutive lines that are neither ASCII nor UTF-8

    def flush() -> None:
        # a block whose Windows-1258 reading has only Vietnamese words is decided at once (the
        # per-line rule would give the same answer for each of its lines, only slower)
        text = unicodedata.normalize("NFC", b"\n".join(raw for _, raw in block).decode("cp1258", errors="replace"))
        if not _penalty(text):
            parts.extend(text.split("\n"))
            keys.extend(["cp1258"] * len(block))
        else:
            for n, raw in block:
                line, key, ok = _decode_line(raw)
                parts.append(line)
                keys.append(key)
                if not ok:
                    unreadable.add(n)
        block.clear()

    for n, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.isascii():
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                block.append((n, raw))
                if len(block) >= 512:
                    flush()
                continue
            key = "utf-8"
        else:
            line, key = raw.decode("ascii"), None
        if block:
            flush()
        parts.append(unicodedata.normalize("NFC", line) if key else line)
        keys.append(key)
    if block:
        flush()
    if parts and parts[-1] == "":  # the final newline
        keys.pop()
    runs: list[tuple[int, int, str]] = []
    for n, key in enumerate(keys, start=1):
        if key is None and runs:
            runs[-1] = (runs[-1][0], n, runs[-1][2])
        elif runs and runs[-1][2] == key:
            runs[-1] = (runs[-1][0], n, key)
        elif key is not None:
            runs.append((runs[-1][1] + 1 if runs else 1, n, key))
    used = list(dict.fromkeys(k for _, _, k in runs))
    names = {"utf-8": "utf-8", "cp1258": "cp1258", "legacy": LEGACY_BYTES}
    encoding = names[used[0]] if len(used) == 1 else ("mixed: " + ", ".join(names[k] for k in used) if used else "utf-8")
    return Decoded("\n".join(parts), encoding, runs, unreadable)


def _decode_line(raw: bytes) -> tuple[str, str | None, bool]:
    """(text, encoding key or None for ASCII, readable) of one line.

    The reading (Windows-1258, or legacy-font bytes converted as TCVN3 or VNI) with the lowest
    penalty wins, Windows-1258 on a tie: a word costs 1 when it is made of Vietnamese letters but
    is not a syllable (ethnic-minority names such as "Đắk Lắk", "Hlơi" — or VNI marks read as
    Windows-1258, "Nguyeăn"), and 10 when it holds a character Vietnamese text never has (µ, Ç,
    Ø, a stray combining mark, a byte no code page maps). The line is unreadable when even the
    winning reading has such a character."""
    if raw.isascii():
        return raw.decode("ascii"), None, True
    try:
        return unicodedata.normalize("NFC", raw.decode("utf-8")), "utf-8", True
    except UnicodeDecodeError:
        pass
    win = unicodedata.normalize("NFC", raw.decode("cp1258", errors="replace"))
    win_costs = [_word_penalty(w) for w in _words(win)]
    if not any(win_costs):
        return win, "cp1258", True
    words = _words(raw.decode("latin-1"))
    tcvn3_costs = [_legacy_penalty(w)[0] for w in words]
    vni_costs = [_legacy_penalty(w)[1] for w in words]
    best = min(tcvn3_costs, vni_costs, key=sum)
    if sum(best) < sum(win_costs):
        return raw.decode("latin-1"), "legacy", 10 not in best
    return win, "cp1258", 10 not in win_costs


# Words split at ASCII that is not a letter (one simple character class: fast on long files)
_NOT_LETTERS = re.compile(r"[\x00-\x40\x5b-\x60\x7b-\x7f]+")
_WORD = re.compile(r"[^\W\d_]+")


def _words(text: str) -> list[str]:
    return [w for w in _NOT_LETTERS.split(text) if w]


@functools.lru_cache(maxsize=1 << 18)
def _word_penalty(word: str) -> int:
    """0: ASCII or a Vietnamese syllable; 1: Vietnamese letters only; 10: anything else."""
    if word.isascii() or all_words_valid(word):
        return 0
    if "\ufffd" not in word and all(ch.isascii() or ch in VIET_LETTERS for ch in word):
        return 1
    return 10


@functools.lru_cache(maxsize=1 << 18)
def _legacy_penalty(word: str) -> tuple[int, int]:
    """The penalty of a word read as Latin-1 bytes once converted as TCVN3 and as VNI."""
    if word.isascii():
        return 0, 0
    return (_word_penalty(unicodedata.normalize("NFC", tcvn3_to_unicode(word))),
            _word_penalty(unicodedata.normalize("NFC", vni_to_unicode(word))))


def _penalty(text: str) -> int:
    """Sum of word penalties (each distinct word is judged once: names and places repeat)."""
    return sum(_word_penalty(w) for w in _words(text))


def line_ranges(lines: Sequence[int], limit: int = 8) -> str:
    """"3–5, 9, 12–40" for the run's notes (line numbers only, never content)."""
    out: list[str] = []
    for n in sorted(lines):
        if out and out[-1][1] == n - 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    text = ", ".join(f"{a}–{b}" if a != b else str(a) for a, b in out[:limit])
    return text + (f" và {len(out) - limit} đoạn khác" if len(out) > limit else "")


def encoding_notes(name: str, decoded: Decoded) -> list[str]:
    """What the run tells the officer about how the file's lines were read (no content)."""
    notes: list[str] = []
    keys = {k for _, _, k in decoded.runs}
    if len(keys) > 1:
        notes.append(f"Tệp {name}: các dòng được đọc theo bảng mã riêng của từng dòng: " + "; ".join(
            f"dòng {a}–{b}: {ENCODING_LABELS[k]}" if a != b else f"dòng {a}: {ENCODING_LABELS[k]}" for a, b, k in decoded.runs
        ) + ".")
    elif keys == {"cp1258"}:
        notes.append(f"Tệp {name}: đọc theo bảng mã Windows-1258.")
    elif keys == {"legacy"}:
        notes.append(f"Tệp {name}: tệp lưu theo phông chữ cũ (TCVN3/VNI), đã đọc từng byte để chuyển sang Unicode.")
    if decoded.unreadable:
        notes.append(
            f"Tệp {name}: {len(decoded.unreadable):,} dòng không đọc được thành chữ tiếng Việt hợp lệ với bảng mã nào "
            f"(dòng {line_ranges(decoded.unreadable)}); các dòng này được đánh dấu '{UNREADABLE_TEXT}' để kiểm tra lại tệp gốc."
        )
    return notes


UNREADABLE_TEXT = "dòng không đọc được bảng mã"
LINE_PROBLEM = "dong:text_undecodable"  # problems entry of a row whose line no encoding reads


# ---------------------------------------------------------------- cell grids ---------------


def cell_text(value: object) -> str | None:
    """Render one spreadsheet cell as the officer sees it; None for empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value:  # NaN
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y") if value.time() == dt.time(0) else value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    return text or None


class Line(list):
    """The cells of one CSV record, with the physical line it starts on (what a text editor
    shows) and whether any of its lines could not be decoded."""

    __slots__ = ("line", "unreadable")


CSV_FIELD_LIMIT = 1 << 30  # Python's default 128 KB refuses cells officers do paste (long notes)
MAX_RECORD_LINES = 50  # a quoted cell spanning more lines than this is a quote never closed


def _grid_csv(path: Path) -> tuple[Iterator[list[str | None]], str, Decoded]:
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf\xff\xfe \r\n\t\x00"):
        raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
    decoded = decode_lines(data)
    text = decoded.text
    sample = text[:20000]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(CSV_FIELD_LIMIT)

    def records() -> Iterator[list[str | None]]:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        last = 0
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise DamagedFileError(f"dòng CSV không đọc được ({exc}).", file=path.name, row=last + 1) from None
            first, last = last + 1, reader.line_num
            if last - first >= MAX_RECORD_LINES or (last > first and _swallowed_record(row, delimiter)):
                raise DamagedFileError(
                    f"dấu ngoặc kép (\") mở ở dòng {first} không được đóng: các dòng {first}–{last} bị gộp vào một ô. "
                    "Hãy sửa dấu ngoặc kép trong tệp gốc.", file=path.name, row=first,
                )
            line = Line(v.strip() or None for v in row)
            line.line = first
            line.unreadable = bool(decoded.unreadable) and any(n in decoded.unreadable for n in range(first, last + 1))
            yield line

    return records(), decoded.encoding, decoded


def _swallowed_record(row: list[str], delimiter: str) -> bool:
    """A cell spanning lines whose next line reads like a whole record: a quote left open merged
    two rows (a line break typed inside an address has no run of separators after it)."""
    return any("\n" in v and v.split("\n", 1)[1].count(delimiter) >= 3 for v in row)


# Compound-file (OLE) signature: old .xls, and every password-protected .xlsx (the encrypted
# package sits inside an OLE container with these stream names).
CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAMS = ("EncryptedPackage".encode("utf-16-le"), "EncryptionInfo".encode("utf-16-le"))


def _sniff_workbook(path: Path, suffix: str) -> str:
    """What the bytes really are: 'zip', 'ole', 'encrypted', 'html', 'text', 'empty' or 'other'.
    Offices rename files freely: an .xls that is an HTML page, an .xlsx that is an old .xls."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if not head.strip():
        return "empty"
    if head.startswith(CFB_MAGIC):
        with open(path, "rb") as fh:
            data = fh.read(1 << 24)
        return "encrypted" if any(s in data for s in _ENCRYPTED_STREAMS) else "ole"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    start = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \r\n\t").lower()
    if start.startswith((b"<", b"<\x00")):
        return "html"
    try:
        head.decode("utf-8")
        return "text"
    except UnicodeDecodeError:
        return "other"


def _not_a_workbook(path: Path, kind: str) -> InputError:
    hints = {
        "empty": ("tệp rỗng, không có dữ liệu", InputError),
        "encrypted": ("tệp Excel có mật khẩu: hãy mở bằng Excel, bỏ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc) "
                      "rồi lưu lại và chạy lại.", EncryptedWorkbookError),
        "html": ("tệp mang đuôi Excel nhưng thực chất là trang HTML/XML (thường do phần mềm khác xuất ra): "
                 "hãy mở bằng Excel và lưu lại dạng .xlsx.", DamagedFileError),
        "text": ("tệp mang đuôi Excel nhưng thực chất là tệp văn bản: nếu là CSV hãy đổi đuôi thành .csv.", DamagedFileError),
        "zip": ("tệp nén không phải sổ Excel (thiếu các phần của sổ .xlsx) hoặc đã bị hỏng.", DamagedFileError),
        "ole": ("tệp Excel dạng cũ (OLE) bị hỏng hoặc không phải sổ Excel.", DamagedFileError),
        "ole_xlsx": ("tệp Excel dạng cũ (.xls) hoặc có mật khẩu; cần sổ .xlsx do doisoat tạo.", DamagedFileError),
    }
    message, cls = hints.get(kind, ("tệp không phải sổ Excel hoặc đã bị hỏng/cắt cụt: hãy mở bằng Excel và lưu lại.", DamagedFileError))
    return cls(message, file=path.name)


def check_workbook(path: Path) -> None:
    """Refuse, with the reason in Vietnamese, a file named .xlsx that is not a zip workbook
    (password-protected, an HTML page, text, an old .xls, empty or junk)."""
    kind = _sniff_workbook(path, path.suffix.lower())
    if kind != "zip":
        raise _not_a_workbook(path, kind if kind != "ole" else "ole_xlsx")


def _rows_xlsx(path: Path, sheet: str) -> Iterator[list[str | None]]:
    """One worksheet, streamed (read-only mode: a large sheet is never held whole). A sheet whose
    XML breaks halfway is an error naming the sheet and the row after the last one read."""
    import openpyxl

    fh = open(path, "rb")  # a file object: openpyxl refuses a workbook renamed .xls by its name
    wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
    n = 0
    try:
        rows = wb[sheet].iter_rows(min_row=1, values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:  # zlib/XML errors inside the sheet part
                raise DamagedFileError(
                    f"nội dung trang bị hỏng, không đọc tiếp được sau dòng {n} ({type(exc).__name__}). "
                    "Hãy mở tệp bằng Excel và lưu lại.", file=path.name, sheet=sheet, row=n + 1,
                ) from None
            n += 1
            yield [cell_text(v) for v in row]
    finally:
        wb.close()
        fh.close()


def _sheets_xlsx(path: Path) -> list[tuple[str, Iterator[list[str | None]]]]:
    import openpyxl

    kind = _sniff_workbook(path, ".xlsx")
    if kind == "ole":  # an old .xls renamed .xlsx
        return _sheets_xls(path)
    if kind != "zip":
        raise _not_a_workbook(path, kind)
    try:
        with open(path, "rb") as fh:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
            names = [ws.title for ws in wb.worksheets]
            wb.close()
    except Exception as exc:  # zip/XML errors: the file is not a readable workbook
        raise DamagedFileError(
            f"không mở được tệp Excel: tệp bị hỏng, bị cắt cụt hoặc không phải sổ .xlsx ({type(exc).__name__}). "
            "Hãy mở bằng Excel và lưu lại.", file=path.name,
        ) from None
    return [(name, _rows_xlsx(path, name)) for name in names]


def _rows_xls(book, index: int) -> Iterator[list[str | None]]:
    import xlrd

    sheet = book.sheet_by_index(index)
    for r in range(sheet.nrows):
        row: list[str | None] = []
        for c in range(sheet.ncols):
            cell = sheet.cell(r, c)
            if cell.ctype == xlrd.XL_CELL_DATE:
                try:
                    row.append(cell_text(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode)))
                except (ValueError, OverflowError, xlrd.xldate.XLDateError):
                    row.append(cell_text(cell.value))
            else:
                row.append(cell_text(cell.value))
        yield row


def _sheets_xls(path: Path) -> list[tuple[str, Iterator[list[str | None]]]]:
    import xlrd

    kind = _sniff_workbook(path, ".xls")
    if kind == "zip":  # an .xlsx renamed .xls
        return _sheets_xlsx(path)
    if kind != "ole":
        raise _not_a_workbook(path, kind)
    try:
        book = xlrd.open_workbook(str(path))
    except Exception as exc:
        if "encrypt" in str(exc).lower():
            raise _not_a_workbook(path, "encrypted") from None
        raise DamagedFileError(
            f"không mở được tệp Excel (.xls): tệp bị hỏng hoặc không phải sổ Excel ({type(exc).__name__}).", file=path.name
        ) from None
    return [(book.sheet_by_index(i).name, _rows_xls(book, i)) for i in range(book.nsheets)]


def _grid_parquet(path: Path) -> Iterator[list[str | None]]:
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise InputError(f"không đọc được tệp Parquet: tệp hỏng hoặc không phải Parquet ({type(exc).__name__})", file=path.name) from None
    df = df.select(pl.all().cast(pl.Utf8))
    return chain([list(df.columns)], ([cell_text(v) for v in row] for row in df.iter_rows()))


def read_sheets(path: Path) -> tuple[list[tuple[str | None, Iterator[list[str | None]]]], str, str, Decoded | None]:
    """([(sheet name or None, rows of cells read lazily)], format, encoding, how a text file's
    lines were decoded or None) for any supported file.

    Rows stream: only the first rows are held for header detection, so a population extract of
    millions of rows never exists as a Python grid of every cell. CSV and Parquet have one
    unnamed sheet; a workbook has one entry per worksheet, in workbook order. A file that is
    not what its name says, is damaged or has a password is an `InputError` naming it."""
    if not path.exists():
        raise InputError("không tìm thấy tệp", file=str(path))
    if path.is_dir():
        raise InputError("đây là một thư mục, không phải tệp", file=str(path))
    if path.stat().st_size == 0:
        raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt", ".tsv"):
            grid, encoding, decoded = _grid_csv(path)
            return [(None, grid)], "csv", encoding, decoded
        if suffix in (".xlsx", ".xlsm"):
            return _sheets_xlsx(path), "xlsx", "xlsx", None
        if suffix == ".xls":
            return _sheets_xls(path), "xls", "xls", None
        if suffix == ".parquet":
            return [(None, _grid_parquet(path))], "parquet", "parquet", None
    except PermissionError:
        raise InputError("không có quyền đọc tệp", file=path.name) from None
    except MemoryError:
        raise InputError("tệp quá lớn để đọc vào bộ nhớ", file=path.name) from None
    raise InputError(f"định dạng tệp '{suffix}' chưa hỗ trợ (dùng .csv, .xlsx, .xls hoặc .parquet)", file=path.name)


def read_grid(path: Path) -> tuple[Iterator[list[str | None]], str, str]:
    """(rows of the first sheet, format, encoding): for `doisoat clean`, which writes one sheet back."""
    sheets, fmt, encoding, _decoded = read_sheets(path)
    return (sheets[0][1] if sheets else iter([])), fmt, encoding


# ---------------------------------------------------------------- header -------------------


def alias_index(columns: Sequence[ColumnSpec], column_map: dict[str, str] | None = None) -> dict[str, str]:
    """Folded header text → canonical column name (canonical names, spec aliases, user mapping)."""
    index: dict[str, str] = {}
    for col in columns:
        for alias in (col.name, col.label_vi, *col.aliases):
            if alias:
                index.setdefault(compact_key(alias), col.name)
    for header, canonical in (column_map or {}).items():
        index[compact_key(header)] = canonical  # the user's mapping wins over built-in aliases
    return index


def _header_keys(label: str) -> list[str]:
    """The header as typed, and as it reads when it was typed with a TCVN3 or VNI font; matching
    against the known aliases makes the legacy readings safe to try."""
    return [compact_key(label), compact_key(tcvn3_to_unicode(label)), compact_key(vni_to_unicode(label))]


def _match_row(labels: Sequence[str | None], index: dict[str, str]) -> dict[int, str]:
    found: dict[int, str] = {}
    used: set[str] = set()
    for j, label in enumerate(labels):
        # headers typed with a TCVN3/VNI font ("Hä vµ tªn") are converted before matching
        canonical = next((index[k] for k in _header_keys(label) if k in index), None) if label else None
        if canonical and canonical not in used:
            found[j] = canonical
            used.add(canonical)
    return found


def _two_row_labels(top: Sequence[str | None], bottom: Sequence[str | None]) -> list[str | None]:
    """Combine a merged two-row header: a group title over sub-columns, or one cell spanning both rows.

    The bottom cell names the column when present, else the top cell (merged vertically); a
    bottom label that alone matches nothing is tried as "top bottom" by the caller."""
    width = max(len(top), len(bottom))
    return [(bottom[j] if j < len(bottom) and bottom[j] else (top[j] if j < len(top) else None)) for j in range(width)]


def find_header(
    grid: list[list[str | None]], columns: Sequence[ColumnSpec], index: dict[str, str]
) -> tuple[int, int, dict[int, str]]:
    """(header_start, header_height 1 or 2, {column position: canonical name}) with the most matches."""
    best = (0, 1, {})
    for r in range(min(HEADER_SCAN_ROWS, len(grid))):
        candidates = [(1, _match_row(grid[r], index))]
        if r + 1 < len(grid):
            top, bottom = grid[r], grid[r + 1]
            merged = _match_row(_two_row_labels(top, bottom), index)
            # group title + sub-column ("Giấy tờ" / "Số CCCD") also tried as one combined label
            group = None
            combined: list[str | None] = []
            for j in range(max(len(top), len(bottom))):
                t = top[j] if j < len(top) else None
                b = bottom[j] if j < len(bottom) else None
                group = t or (group if b else None)
                combined.append(f"{group} {b}" if group and b else None)
            for j, name in _match_row(combined, index).items():
                if j not in merged and name not in merged.values():
                    merged[j] = name
            candidates.append((2, merged))
        for height, found in candidates:
            # a two-row header must beat the one-row reading by itself, or row 2 is just data
            if len(found) > len(best[2]) or (height == 1 and len(found) == len(best[2]) and best[1] == 2 and best[0] == r):
                best = (r, height, found)
    return best


# ---------------------------------------------------------------- rows ---------------------


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
_TOTALS_AFTER = {"thôn", "xã", "phường", "tổ", "ấp", "bản", "khu", "xóm", "làng", "buôn", "đội", "toàn", "chung",
                 "tiền", "người", "hộ", "đối", "cả", "cộng", "số", "danh", "trang", "lũy", "kế"}
_TOTALS_AFTER_ASCII = {compact_key(w) for w in _TOTALS_AFTER}
_TEXT_WORDS = re.compile(r"[^\W_]+")
# Signature block under a commune list: place-and-date line, signers' titles, "(Ký, ghi rõ họ tên)".
_FOOTER_PREFIXES = (
    "nguoilap", "thutruong", "tmuyban", "tmubnd", "ktchutich", "ktgiamdoc", "ktthutruong", "kttruong", "uybannhandan",
    "ubnd", "kyghiro", "kyvaghiro", "kytenvaghiro", "kyhoten", "kyten", "kydongdau", "kyxacnhan", "chutich", "phochutich",
    "ketoan", "xacnhancua", "giamdoc", "phogiamdoc", "truongphong", "lanhdao", "daky", "noinhan", "canbolap",
    "nguoiduyet", "nguoikiemtra", "truongthon", "congchuc",
)
_PLACE_DATE = re.compile(r"\bngay\b.*\bthang\b.*\bnam\b")
_ID_SHAPE = re.compile(r"\d{9}|\d{11,12}")  # CMND, CCCD, CCCD whose leading zero Excel dropped
_ID_SEPARATORS = re.compile(r"[\s.'`‘’-]")
_COLUMN_NUMBER = re.compile(r"\(?(\d{1,2})\)?")
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


def _is_totals_label(text: str | None) -> bool:
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


def _is_footer_line(cells: Sequence[str | None]) -> bool:
    """A signature-block line: place-and-date, a signer's title, "(Ký, ghi rõ họ tên)"."""
    for c in [c for c in cells if c][:4]:
        if compact_key(c).startswith(_FOOTER_PREFIXES) or _PLACE_DATE.search(_ascii_words(c)):
            return True
    return False


def _is_column_numbers(cells: Sequence[str | None]) -> bool:
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


def mask_text(cells: Sequence[str | None], keep: set[str] = frozenset(), limit: int = 160) -> str:
    """A skipped line's text with its structure but no personal data: digits become '#', words
    that are not form labels become '…' ("…, ngày ## tháng ## năm ####")."""
    text = " | ".join(c for c in cells if c)
    text = re.sub(r"\d", "#", text)
    text = _WORD.sub(lambda m: m.group(0) if m.group(0).lower() in _KEEP_WORDS or m.group(0).lower() in keep else "…", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def load_column_map(path: Path | None) -> dict[str, str]:
    """Optional YAML: either {header text: canonical} or {canonical: [header texts]}."""
    if path is None:
        return {}
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except Exception as exc:
        raise InputError(f"không đọc được tệp ánh xạ cột YAML: {exc}", file=Path(path).name) from None
    if not isinstance(raw, dict):
        raise InputError("tệp ánh xạ cột phải là một bảng 'tiêu đề: tên cột chuẩn'", file=Path(path).name)
    mapping: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            mapping.update({str(v): str(key) for v in value})
        else:
            mapping[str(key)] = str(value)
    return mapping


@dataclass
class _Sheet:
    """What one worksheet (or the whole CSV) gave: data columns, row numbers, header facts, and
    every other line with the reason it is not data."""

    name: str | None
    data: dict[str, list]
    excel_rows: list[int]
    unreadable: list[bool]
    notes: list[str]
    skipped: list[dict]
    header_row: int
    header_rows: int
    columns_found: dict[str, str | None]
    unmapped: list[str]
    refused: InputError | None = None


def _row_number(cells: Sequence, i: int) -> int:
    """The row the officer sees: the CSV record's first physical line, else the sheet row."""
    return getattr(cells, "line", None) or i + 1


def _missing_columns_error(where: str, columns: Sequence[ColumnSpec], need: Sequence[str], missing: Sequence[str],
                           header_cells: Sequence[str], matched: int, row: int) -> InputError:
    """The refusal names the required columns; the cells of the row taken for the header are
    quoted only when that row looks like a header (`header_cells_text`): a file without a header
    row would otherwise print a whole record of personal data."""
    labels = {c.name: c.label_vi or c.name for c in columns}
    return InputError(
        "không tìm thấy các cột bắt buộc: "
        + ", ".join(f"'{labels[n]}' ({n})" for n in missing)
        + ". Các cột tìm thấy trong tệp: "
        + header_cells_text(list(header_cells), matched=matched, row=row)
        + ". Các cột cần có: "
        + ", ".join(f"'{labels[n]}'" for n in need)
        + ". Có thể khai báo tiêu đề khác bằng tệp ánh xạ cột (--column-map).",
        file=where,
    )


def locate_header(
    path: Path, sheet: str | None, rows: Iterator[list[str | None]], columns: Sequence[ColumnSpec],
    index: dict[str, str], need: Sequence[str],
) -> tuple[list, list, int, int, dict[int, str], InputError | None] | None:
    """(leading blank rows, grid of the next rows, header start, height, {position: column},
    error) — the header among the first rows after leading blank ones; None for an empty sheet.
    `error` is the missing-required-columns refusal (shared by `doisoat run` and `clean`)."""
    where = path.name if sheet is None else f"{path.name}, trang '{sheet}'"
    lead: list = []
    first = None
    for cells in rows:
        if any(c for c in cells):
            first = cells
            break
        lead.append(cells)
    if first is None:
        return None
    grid = [first, *islice(rows, HEADER_SCAN_ROWS + 1)]
    start, height, found = find_header(grid, columns, index)
    missing = [n for n in need if n not in found.values()]
    error = None
    if missing:
        header_cells = [c for c in (grid[start] if found else grid[0]) if c]
        error = _missing_columns_error(where, columns, need, missing, header_cells, matched=len(found),
                                       row=_row_number(grid[start] if found else grid[0], len(lead) + (start if found else 0)))
    return lead, grid, start, height, found, error


def _read_sheet(
    path: Path, sheet: str | None, rows: Iterator[list[str | None]], columns: Sequence[ColumnSpec],
    index: dict[str, str], need: Sequence[str], *, tolerant: bool = False,
) -> _Sheet | None:
    """Header, data rows and skipped lines of one sheet; None when the sheet is empty.

    Every line gets exactly one outcome: header line, data row, or skipped with a reason
    (`SKIP_REASONS`). A line holding an ID-shaped value or a parseable date of birth is always
    a data row. The signature block is recognised only after the last data row: from a
    signature line on, lines wait; a later line with an ID or a date of birth turns them back
    into data rows. Without the header the sheet is refused (`tolerant`: returned with every
    line skipped as 'other_sheet', for a cover sheet in a workbook)."""
    where = path.name if sheet is None else f"{path.name}, trang '{sheet}'"
    located = locate_header(path, sheet, rows, columns, index, need)
    if located is None:
        return None
    lead, grid, start, height, found, error = located
    offset = len(lead)
    skipped: list[dict] = []
    keep = {w.lower() for r in grid[start : start + height] for c in r if c for w in _WORD.findall(c)}

    def skip(n: int, cells: Sequence[str | None], reason: str) -> None:
        skipped.append({"sheet": sheet, "excel_row": n, "reason": reason, "text_masked": mask_text(cells, keep)})

    for i, cells in enumerate(lead):
        skip(_row_number(cells, i), cells, "blank")
    if error is not None:
        if not tolerant:
            raise error
        for i, cells in enumerate(chain(grid, rows), start=offset):
            skip(_row_number(cells, i), cells, "other_sheet" if any(c for c in cells) else "blank")
        return _Sheet(sheet, {}, [], [], [], skipped, 0, 0, {}, [], refused=error)
    for i, cells in enumerate(grid[:start], start=offset):
        skip(_row_number(cells, i), cells, "above_header" if any(c for c in cells) else "blank")
    unmapped = [
        c for j, c in enumerate(grid[start]) if c and j not in found and compact_key(c) not in ("stt", "tt", "sott")
    ] if height == 1 else []
    twice = [c for c in unmapped if any(k in index for k in _header_keys(c))]

    data: dict[str, list] = {name: [] for name in found.values()}
    excel_rows: list[int] = []
    unreadable: list[bool] = []
    positions = sorted(found)
    kinds = {c.name: c.kind for c in columns}
    name_column = next((c.name for c in columns if c.kind in ("name", "owner")), None)
    id_positions = [j for j in positions if kinds.get(found[j]) == "id"]
    dob_name = next((c.name for c in columns if c.role == "ngay_sinh"), None) or next(
        (c.name for c in columns if c.kind == "year"), None)
    dob_position = next((j for j in positions if found[j] == dob_name), None)
    name_position = next((j for j in positions if found[j] == name_column), None)
    repeat_min = max(2, (len(found) + 1) // 2)

    def protected(cells: Sequence[str | None]) -> bool:
        """Holds an ID-shaped value or a parseable date of birth: a person, never a footer."""
        if any(j < len(cells) and id_shaped(cells[j]) for j in id_positions):
            return True
        if dob_position is not None and dob_position < len(cells) and cells[dob_position]:
            dob = cells[dob_position]
            return parse_date(dob).year is not None and not _PLACE_DATE.search(_ascii_words(dob))
        return False

    def inner_reason(cells: Sequence[str | None]) -> str | None:
        name_value = cells[name_position] if name_position is not None and name_position < len(cells) else None
        if any(_is_totals_label(t) for t in [c for c in cells if c][:3]) and (name_value is None or _is_totals_label(name_value)):
            return "totals"
        if sum(1 for j in positions if j < len(cells) and cells[j] and index.get(compact_key(cells[j])) == found[j]) >= repeat_min:
            return "repeated_header"
        if _is_column_numbers(cells):
            return "column_numbers"
        return None

    def add(n: int, cells: Sequence[str | None]) -> None:
        for j in positions:
            data[found[j]].append(cells[j] if j < len(cells) else None)
        excel_rows.append(n)
        unreadable.append(bool(getattr(cells, "unreadable", False)))

    pending: list[tuple[int, Sequence[str | None]]] = []  # after a signature line: decided later
    seen = len(lead) + start + height
    for i, cells in enumerate(chain(grid[start + height :], rows), start=offset + start + height):
        seen += 1
        n = _row_number(cells, i)
        if not any(c for c in cells):
            skip(n, cells, "blank")
            continue
        safe = protected(cells)
        if not safe and (pending or _is_footer_line(cells)):
            pending.append((n, cells))
            continue
        for pn, pcells in pending:  # a person follows: the waiting lines were inside the table
            reason = inner_reason(pcells)
            skip(pn, pcells, reason) if reason else add(pn, pcells)
        pending.clear()
        reason = None if safe else inner_reason(cells)
        if reason:
            skip(n, cells, reason)
        else:
            add(n, cells)
    for pn, pcells in pending:
        skip(pn, pcells, "footer")
    skipped.sort(key=lambda d: d["excel_row"])
    if seen != height + len(excel_rows) + len(skipped):
        raise AssertionError(f"row accounting broken in {where}: {seen} lines, {len(excel_rows)} data, {len(skipped)} skipped")
    if not excel_rows:
        error = InputError("có dòng tiêu đề nhưng không có dòng dữ liệu nào", file=where)
        if not tolerant:
            raise error
        return _Sheet(sheet, {}, [], [], [], skipped, start + offset + 1, height, {}, [], refused=error)
    notes = [f"Tệp {where}: cột '{safe_excerpt(header)}' trùng nghĩa với một cột đã dùng ở bên trái nên không được đọc." for header in twice]
    header_row = _row_number(grid[start], offset + start)
    return _Sheet(
        name=sheet, data=data, excel_rows=excel_rows, unreadable=unreadable, notes=notes, skipped=skipped,
        header_row=header_row, header_rows=height,
        columns_found={found[j]: grid[start][j] if j < len(grid[start]) and grid[start][j] else None for j in positions},
        unmapped=unmapped,
    )


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
        notes.append(f"Tệp {where}: {len(rows)} dòng {SKIP_REASONS[reason]} (dòng {line_ranges(rows)}) không phải dòng dữ liệu.")
    return notes


SKIPPED_COLUMNS = {"source_file": pl.Utf8, "sheet": pl.Utf8, "excel_row": pl.Int64, "reason_code": pl.Utf8,
                   "reason": pl.Utf8, "text_masked": pl.Utf8}


def read_table(
    path: Path,
    columns: Sequence[ColumnSpec],
    *,
    required: Sequence[str] | None = None,
    column_map: dict[str, str] | None = None,
    role: str = "registry",
) -> IngestResult:
    """Read one file into canonical text columns + source_file/source_row/excel_row.

    `required` defaults to the spec's required columns: a header row missing any of them is
    refused with the columns found and expected. In a workbook every worksheet whose header has
    the required columns is read (offices keep one sheet per commune, or a cover sheet first);
    other sheets are skipped with a note. When rows come from several sheets, `source_file`
    names the sheet too ("file.xlsx [Xã A]") so the officer knows where row N is. Lines that are
    not data are in `IngestResult.skipped` (→ warehouse `skipped_rows`), each with its reason."""
    path = Path(path)
    sheets, fmt, encoding, decoded = read_sheets(path)
    index = alias_index(columns, column_map)
    known = {c.name for c in columns}
    bad = sorted({v for v in (column_map or {}).values() if v not in known})
    if bad:
        raise InputError(f"tệp ánh xạ cột trỏ tới cột không có trong đặc tả: {', '.join(bad)}", file=path.name)
    need = list(required if required is not None else [c.name for c in columns if c.required])

    parts: list[_Sheet] = []
    for sheet, rows in sheets:
        part = _read_sheet(path, sheet, rows, columns, index, need, tolerant=len(sheets) > 1)
        if part is not None:
            parts.append(part)
    read = [p for p in parts if p.refused is None]
    refused = [p for p in parts if p.refused is not None]
    skipped_sheets = [sheet for sheet, _ in sheets if sheet not in {r.name for r in read}]
    if not read:
        if not refused:
            raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
        raise InputError(
            f"không trang nào có dòng tiêu đề với các cột cần có (đã xem {len(sheets)} trang: "
            + ", ".join(f"'{s}'" for s, _ in sheets) + f"). Trang đầu tiên có dữ liệu: {refused[0].refused}",
            file=path.name,
        )

    several = len(read) > 1
    label = (lambda r: f"{path.name} [{r.name}]") if several else (lambda r: path.name)
    notes = [f"Tệp {path.name}: bỏ qua trang '{p.name}' (không có dòng tiêu đề với các cột cần có)." for p in refused]
    if several:
        notes.append(f"Tệp {path.name}: đọc {len(read)} trang: " + ", ".join(f"'{r.name}' ({len(r.excel_rows)} dòng)" for r in read) + ".")
    n = sum(len(r.excel_rows) for r in read)
    frame = pl.DataFrame(
        {
            c.name: pl.Series(c.name, [v for r in read for v in r.data.get(c.name, [None] * len(r.excel_rows))], dtype=pl.Utf8)
            for c in columns
        }
    ).with_columns(
        pl.Series("source_file", [label(r) for r in read for _ in r.excel_rows], dtype=pl.Utf8),
        pl.Series("source_row", range(1, n + 1), dtype=pl.Int64),
        pl.Series("excel_row", [x for r in read for x in r.excel_rows], dtype=pl.Int64),
    )
    if any(u for r in read for u in r.unreadable):
        frame = frame.with_columns(
            pl.Series("line_problem", [LINE_PROBLEM if u else None for r in read for u in r.unreadable], dtype=pl.Utf8)
        )
    skipped = pl.DataFrame(
        {
            "source_file": [f"{path.name} [{p.name}]" if (several or p.refused is not None) and p.name is not None else path.name
                            for p in parts for _ in p.skipped],
            "sheet": [d["sheet"] for p in parts for d in p.skipped],
            "excel_row": [d["excel_row"] for p in parts for d in p.skipped],
            "reason_code": [d["reason"] for p in parts for d in p.skipped],
            "reason": [SKIP_REASONS[d["reason"]] for p in parts for d in p.skipped],
            "text_masked": [d["text_masked"] for p in parts for d in p.skipped],
        },
        schema=SKIPPED_COLUMNS,
    )
    first = read[0]
    info = {
        "role": role,
        "path": str(path),
        "file": path.name,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "format": fmt,
        "encoding": encoding,
        "rows": n,
        "header_row": first.header_row,
        "header_rows": first.header_rows,
        "columns_found": first.columns_found,
        "unmapped_columns": first.unmapped,
        "dropped_rows": [
            {"excel_row": d["excel_row"], "reason": d["reason"], **({"sheet": d["sheet"]} if several else {})}
            for p in parts for d in p.skipped
        ],
    }
    if decoded is not None and decoded.runs and len({k for _, _, k in decoded.runs}) > 1:
        info["line_encodings"] = [{"first_line": a, "last_line": b, "encoding": k} for a, b, k in decoded.runs]
    if decoded is not None and decoded.unreadable:
        info["unreadable_lines"] = len(decoded.unreadable)
    if fmt in ("xlsx", "xls") and (several or skipped_sheets):
        info["sheets"] = [{"sheet": r.name, "rows": len(r.excel_rows), "header_row": r.header_row} for r in read]
        info["sheets_skipped"] = skipped_sheets
    for r in read:
        where = path.name if r.name is None else f"{path.name}, trang '{r.name}'"
        notes += r.notes + skipped_notes(where, r.skipped, r.header_row, r.excel_rows[-1] if r.excel_rows else None)
    if decoded is not None:
        notes += encoding_notes(path.name, decoded)
    return IngestResult(frame=frame, info=info, notes=notes, skipped=skipped)


# ---------------------------------------------------------------- fast path for extracts ---


def read_csv_fast(path: Path, columns: Sequence[ColumnSpec], *, role: str = "population") -> IngestResult | None:
    """The same result as `read_table` for a plain UTF-8 CSV, parsed by polars; None when the file
    needs the forgiving path.

    Why: a CSDLQG extract has hundreds of thousands of rows, and Python's csv module took 11.9 s
    on 200,000 of them where polars takes 0.4 s. The header is found exactly as `read_table`
    finds it (same rows, same aliases); polars only reads the data rows, all as text. Anything
    this path does not reproduce row for row — another encoding, text not in NFC, a title row
    above the header or a two-row header, blank or "Tổng cộng" rows, values spanning lines,
    ragged rows — returns None and the caller falls back to `read_table`, so the result (values,
    `source_row`, `excel_row`, notes) never depends on which path read the file."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.exists() or path.stat().st_size == 0:
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None  # Windows-1258 or legacy font bytes: the forgiving path decodes them
    if not unicodedata.is_normalized("NFC", text):
        return None
    head = text[:20000]
    lines = head.splitlines()[: HEADER_SCAN_ROWS + 2]
    try:
        delimiter = csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    grid = [[v.strip() or None for v in row] for row in csv.reader(lines, delimiter=delimiter)]
    index = alias_index(columns)
    need = [c.name for c in columns if c.required]
    start, height, found = find_header(grid, columns, index)
    if start != 0 or height != 1 or len(grid) < 2 or any(n not in found.values() for n in need):
        return None
    # header facts (columns found, unmapped and repeated headers) from the same code as read_table
    sheet = _read_sheet(path, None, iter(grid[:2]), columns, index, need)
    if sheet is None or sheet.skipped:
        return None
    try:
        raw = pl.read_csv(
            io.BytesIO(text.encode("utf-8")), has_header=False, skip_rows=1, separator=delimiter,
            infer_schema=False, quote_char='"', truncate_ragged_lines=False,
        )
    except Exception:  # noqa: BLE001 - any parse problem: the forgiving path reports it properly
        return None
    records = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
    positions = sorted(found)
    if raw.height != records or raw.width <= positions[-1]:
        return None  # blank lines at the end, values spanning lines: not reproduced here
    frame = raw.select(
        [pl.col(raw.columns[j]).str.strip_chars().replace("", None).alias(found[j]) for j in positions]
    )
    # a blank row or a totals row anywhere: the forgiving path drops and reports it
    cells = raw.select(pl.all().str.strip_chars().replace("", None))
    if cells.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return None
    first_filled = pl.coalesce(pl.all())
    totals = cells.select(first_filled.str.to_lowercase().str.contains(r"^(t[ổô]ng|c[ộô]ng|tong|cong)\b").any()).item()
    if totals:
        return None
    n = frame.height
    frame = frame.select(
        [pl.col(c.name) if c.name in frame.columns else pl.lit(None, dtype=pl.Utf8).alias(c.name) for c in columns]
    ).with_columns(
        pl.lit(path.name).alias("source_file"),
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("source_row"),
        pl.int_range(2, n + 2, dtype=pl.Int64).alias("excel_row"),
    )
    info = {
        "role": role, "path": str(path), "file": path.name, "sha256": hashlib.sha256(data).hexdigest(),
        "bytes": len(data), "format": "csv", "encoding": "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8",
        "rows": n, "header_row": sheet.header_row, "header_rows": sheet.header_rows,
        "columns_found": sheet.columns_found, "unmapped_columns": sheet.unmapped, "dropped_rows": [],
    }
    return IngestResult(frame=frame, info=info, notes=list(sheet.notes))
