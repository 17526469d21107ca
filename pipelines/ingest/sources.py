"""Files to grids of cell text: CSV, .xlsx, .xls and Parquet, streamed one row at a time.

Why: offices rename files freely (an .xls that is an HTML page, an .xlsx that is an old .xls or
carries a password), so a workbook is sniffed by its bytes before a reader is chosen, and a file
that is not what its name says, is damaged or encrypted becomes an `InputError` in Vietnamese
naming the file (and the sheet and row where a sheet breaks). Every cell is rendered as text the
way the officer sees it; the normalizers parse the values.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterator, Sequence
from itertools import chain
from pathlib import Path

import polars as pl

from pipelines.errors import DamagedFileError, EncryptedWorkbookError, InputError
from pipelines.ingest.decoding import Decoded, decode_lines


def sha256_file(path: Path) -> str:
    """The file's fingerprint, read in 1 MiB chunks: the run ledger records it and the population
    cache is keyed on it."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def row_number(cells: Sequence, i: int) -> int:
    """The row the officer sees: the CSV record's first physical line, else the sheet row."""
    return getattr(cells, "line", None) or i + 1


CSV_FIELD_LIMIT = 1 << 30  # Python's default 128 KB refuses cells officers do paste (long notes)
MAX_RECORD_LINES = 50  # a quoted cell spanning more lines than this is a quote never closed


def _grid_csv(path: Path) -> tuple[Records, str, Decoded]:
    data = path.read_bytes()
    if not data.strip(b"\xef\xbb\xbf\xff\xfe \r\n\t\x00"):
        raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
    decoded = decode_lines(data)
    return Records.parse(path, decoded), decoded.encoding, decoded


# Python's str.strip() removes exactly these characters (str.isspace); polars' strip_chars() without
# an argument does not remove U+001C–U+001F, so the set is spelled out for the columnar cells.
PY_WHITESPACE = "".join(ch for ch in map(chr, range(0x110000)) if ch.isspace())


class Records:
    """A file's records, parsed once, as rows for the header scan and as columns for the rest.

    Why: the per-row Python of a 100,000-row CSV (a `Line` of stripped cells per record, then the
    data columns filled cell by cell) cost 2–3 s where the checks need columns. Python's csv module
    (C) still parses, so a record's cells are exactly what they were; each record is kept as its
    cells joined by a separator no cell holds (`sep`), with the physical line it starts on. The
    header scan iterates `Line` objects as before; `rest()` gives the records not yet iterated as a
    polars frame (`cells_frame`). A parse error is raised when the iteration reaches its record, as
    the streaming reader did."""

    def __init__(self, joined: list[str], widths: list[int], lines: list[int], unreadable: list[bool], sep: str):
        self.joined, self.widths, self.lines, self.unreadable, self.sep = joined, widths, lines, unreadable, sep
        self.pos = 0
        self.error: Exception | None = None  # raised when the iteration reaches record len(joined)

    @classmethod
    def parse(cls, path: Path, decoded: Decoded) -> Records:
        text = decoded.text
        delimiter = sniff_delimiter(text)
        csv.field_size_limit(CSV_FIELD_LIMIT)
        sep = next(ch for ch in ("\x1f", "\x1e", "\x1d", "\x1c", "\x00", "\ufdd0") if ch not in text)
        joined: list[str] = []
        widths: list[int] = []
        starts: list[int] = []
        ends: list[int] = []
        out = cls(joined, widths, starts, [], sep)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        last = 0
        join = sep.join
        try:
            for row in reader:
                first, last = last + 1, reader.line_num
                if last != first and (last - first >= MAX_RECORD_LINES or _swallowed_record(row, delimiter)):
                    out.error = DamagedFileError(
                        f'dấu ngoặc kép (") mở ở dòng {first} không được đóng: các dòng {first}–{last} bị gộp vào '
                        "một ô. Hãy sửa dấu ngoặc kép trong tệp gốc.",
                        file=path.name,
                        row=first,
                    )
                    break
                joined.append(join(row))
                widths.append(len(row))
                starts.append(first)
                ends.append(last)
        except csv.Error as exc:
            out.error = DamagedFileError(f"dòng CSV không đọc được ({exc}).", file=path.name, row=last + 1)
        bad = decoded.unreadable
        if bad:
            out.unreadable = [any(n in bad for n in range(a, b + 1)) for a, b in zip(starts, ends, strict=True)]
        return out

    def __iter__(self) -> Records:
        return self

    def __next__(self) -> Line:
        i = self.pos
        if i >= len(self.joined):
            if self.error is not None:
                raise self.error
            raise StopIteration
        self.pos += 1
        line = Line((v.strip() or None for v in self.joined[i].split(self.sep)) if self.widths[i] else ())
        line.line = self.lines[i]
        line.unreadable = bool(self.unreadable) and self.unreadable[i]
        return line

    def rest(self) -> pl.DataFrame:
        """The records not yet iterated (`cells_frame`), then none: the error, if any, is raised."""
        if self.error is not None:
            raise self.error
        i, self.pos = self.pos, len(self.joined)
        return cells_frame(
            self.joined[i:],
            self.widths[i:],
            self.lines[i:],
            self.unreadable[i:] if self.unreadable else None,
            self.sep,
            strip=True,
        )


def cells_frame(
    joined: Sequence[str],
    widths: Sequence[int],
    lines: Sequence[int],
    unreadable: Sequence[bool] | None,
    sep: str,
    *,
    strip: bool,
) -> pl.DataFrame:
    """Records as columns c0, c1, … (at least c0; text, None for an empty or missing cell; stripped like
    `str.strip` when `strip`), `line` (the row the officer sees), `width` (cells in the record) and
    `unreadable`."""
    n = len(joined)
    width = max(widths, default=1) or 1  # c0 always: a line of no cells is a blank line
    parts = pl.Series("j", joined, dtype=pl.String).str.split(sep)
    cells = []
    for j in range(width):
        cell = parts.list.get(j, null_on_oob=True)
        if strip:
            cell = cell.str.strip_chars(PY_WHITESPACE)
        cells.append(pl.select(pl.when(cell != "").then(cell)).to_series().alias(f"c{j}"))
    return pl.DataFrame(
        [
            *cells,
            pl.Series("line", lines, dtype=pl.Int64),
            pl.Series("width", widths, dtype=pl.Int64),
            pl.Series("unreadable", unreadable if unreadable is not None else [False] * n, dtype=pl.Boolean),
        ]
    )


def sniff_delimiter(text: str) -> str:
    """The separator of a CSV text (comma, semicolon, tab or bar), judged on its first 20,000
    characters; a comma when nothing stands out (a one-column file)."""
    try:
        return csv.Sniffer().sniff(text[:20000], delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


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
        "encrypted": (
            "tệp Excel có mật khẩu: hãy mở bằng Excel, bỏ mật khẩu (Tệp > Thông tin > Bảo vệ sổ làm việc) "
            "rồi lưu lại và chạy lại.",
            EncryptedWorkbookError,
        ),
        "html": (
            "tệp mang đuôi Excel nhưng thực chất là trang HTML/XML (thường do phần mềm khác xuất ra): "
            "hãy mở bằng Excel và lưu lại dạng .xlsx.",
            DamagedFileError,
        ),
        "text": (
            "tệp mang đuôi Excel nhưng thực chất là tệp văn bản: nếu là CSV hãy đổi đuôi thành .csv.",
            DamagedFileError,
        ),
        "zip": ("tệp nén không phải sổ Excel (thiếu các phần của sổ .xlsx) hoặc đã bị hỏng.", DamagedFileError),
        "ole": ("tệp Excel dạng cũ (OLE) bị hỏng hoặc không phải sổ Excel.", DamagedFileError),
        "ole_xlsx": ("tệp Excel dạng cũ (.xls) hoặc có mật khẩu; cần sổ .xlsx do doisoat tạo.", DamagedFileError),
    }
    message, cls = hints.get(
        kind, ("tệp không phải sổ Excel hoặc đã bị hỏng/cắt cụt: hãy mở bằng Excel và lưu lại.", DamagedFileError)
    )
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
    import openpyxl  # lazy: 0.2 s to import (python -X importtime), and CSV runs never need it

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
                    "Hãy mở tệp bằng Excel và lưu lại.",
                    file=path.name,
                    sheet=sheet,
                    row=n + 1,
                ) from None
            n += 1
            yield [cell_text(v) for v in row]
    finally:
        wb.close()
        fh.close()


def _sheets_xlsx(path: Path) -> list[tuple[str, Iterator[list[str | None]]]]:
    import openpyxl  # lazy: 0.2 s to import (python -X importtime), and CSV runs never need it

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
            "Hãy mở bằng Excel và lưu lại.",
            file=path.name,
        ) from None
    return [(name, _rows_xlsx(path, name)) for name in names]


def _rows_xls(book, index: int) -> Iterator[list[str | None]]:
    import xlrd  # lazy: 11–31 ms to import (python -X importtime), and only .xls files need it

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
    import xlrd  # lazy: 11–31 ms to import (python -X importtime), and only .xls files need it

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
            f"không mở được tệp Excel (.xls): tệp bị hỏng hoặc không phải sổ Excel ({type(exc).__name__}).",
            file=path.name,
        ) from None
    return [(book.sheet_by_index(i).name, _rows_xls(book, i)) for i in range(book.nsheets)]


def _grid_parquet(path: Path) -> Iterator[list[str | None]]:
    try:
        df = pl.read_parquet(path)
    except Exception as exc:
        raise InputError(
            f"không đọc được tệp Parquet: tệp hỏng hoặc không phải Parquet ({type(exc).__name__})", file=path.name
        ) from None
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
