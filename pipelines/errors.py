"""User-facing errors: what an officer reads instead of a traceback.

Raise `InputError` for anything wrong with a file the user gave us (encoding, missing columns,
empty file, unreadable sheet). The message is Vietnamese for the officer, and names the file,
and where known the row and column. The CLI prints it as "Lỗi: <message> [<code>]" and exits
with status 2: the message is for the officer, the English `code` in brackets is for the engineer
who gets the screenshot (stable, greppable, the same whatever the wording of the message).
Kinds: `InputError` (and `DamagedFileError`, `EncryptedWorkbookError`) for input files;
`WarehouseError` for a `--db` that is not a doisoat warehouse, is damaged or locked;
`OutputError` for an output folder or file that cannot be written (checked before anything is
committed).

Messages travel further than the data files — to stderr, log files, `runs.error`, Prefect logs —
so they never carry a value from an input row (Nghị định 13/2023): only file, sheet, row, column,
and where a sample helps, `safe_excerpt` of it (digit runs such as IDs and dates replaced, length
capped). Every message is passed through `strip_control` so a binary file or a crafted cell
cannot send terminal escape sequences to the officer's console."""

from __future__ import annotations

import re
import traceback
from pathlib import Path

# ANSI/VT escape sequences (CSI, OSC, two-byte ESC x), then any remaining C0/C1 control character
# and the Unicode bidi/zero-width controls that can reorder or hide text in a terminal.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff\ufffd]")
# four or more digits, possibly separated by a space, dot, slash or dash: IDs, CMND, account
# numbers, phone numbers, dates of birth ("01/02/1950", "1950-02-01"), Excel serial dates
_DIGIT_RUN = re.compile(r"\d(?:[ ./\-]?\d){3,}")
REDACTED = "[đã ẩn]"


def strip_control(text: object, keep_newlines: bool = True) -> str:
    """`text` without escape sequences and control characters (tabs become spaces)."""
    s = _ANSI.sub("", str(text))
    s = s.replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")
    if not keep_newlines:
        s = s.replace("\n", " ")
    return _CONTROL.sub("", s)


def redact_numbers(text: str) -> str:
    return _DIGIT_RUN.sub(REDACTED, text)


def safe_excerpt(value: object, limit: int = 40) -> str:
    """A value from a file, fit to quote in a message: one line, no control characters, digit
    runs (IDs, dates) replaced, at most `limit` characters. Use it only for values that are not
    personal by nature (a header cell, a sheet name); never pass a data row through it."""
    s = " ".join(redact_numbers(strip_control(value, keep_newlines=False)).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def header_cells_text(cells: list, matched: int, row: int) -> str:
    """The header cells of a refused header row, for the "columns found" part of the message.

    Quoted only when the row really looks like a header — at least half of its filled cells are
    known column names — and then through `safe_excerpt`. Otherwise the row is most likely data
    (a file without a header row: a whole CSDLQG record; one cell such as "Nam" may happen to
    match) and nothing of it is quoted."""
    filled = [c for c in cells if c not in (None, "")]
    if not filled:
        return "(không có)"
    if 2 * matched < len(filled):
        return (
            f"(không có dòng tiêu đề: dòng {row} có {len(filled)} ô, chỉ {matched} ô là tên cột đã biết — "
            "có thể tệp thiếu dòng tiêu đề; nội dung dòng không được in ra vì có thể là dữ liệu cá nhân)"
        )
    return ", ".join(f"'{safe_excerpt(c)}'" for c in filled)


def safe_text(message: object) -> str:
    """A whole message, control characters stripped (the message itself is ours)."""
    return strip_control(message)


def unexpected_error_text(exc: BaseException) -> str:
    """For `runs.error` and logs: the exception type and where it was raised, not its message —
    library messages quote the offending value (a polars cast error prints the cell)."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" tại {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
    return f"Lỗi nội bộ {type(exc).__name__}{where} (chi tiết không ghi để bảo vệ dữ liệu cá nhân)"


class DoisoatError(Exception):
    """Base class for errors the CLI reports without a traceback.

    `code`: short English identifier (snake_case) of the kind of error; a class default, or
    given per raise (`DoisoatError("...", code="run_not_found")`)."""

    code = "doisoat_error"

    def __init__(self, message: str = "", *, code: str | None = None):
        super().__init__(message)
        if code:
            self.code = code


class InputError(DoisoatError):
    code = "input_invalid"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        sheet: str | None = None,
        code: str | None = None,
    ):
        self.file, self.row, self.column, self.sheet = file, row, column, sheet
        where = ", ".join(
            part
            for part in (
                f"tệp {strip_control(file, keep_newlines=False)}" if file else "",
                f"trang '{strip_control(sheet, keep_newlines=False)}'" if sheet else "",
                f"dòng {row}" if row is not None else "",
                f"cột '{strip_control(column, keep_newlines=False)}'" if column else "",
            )
            if part
        )
        message = strip_control(message)
        super().__init__(f"{where}: {message}" if where else message, code=code)


class DamagedFileError(InputError):
    """The file is not what its name says or is damaged (truncated zip, broken sheet XML, an
    HTML page saved as .xls, a CSV quote never closed)."""

    code = "input_damaged"


class EncryptedWorkbookError(InputError):
    """A password-protected workbook: only Excel with the password can open it."""

    code = "input_encrypted"


class WarehouseError(DoisoatError):
    """The `--db` file cannot be used as the doisoat warehouse."""

    code = "warehouse_unusable"


class OutputError(DoisoatError):
    """An output folder or file cannot be written (checked before anything is committed)."""

    code = "output_unwritable"
