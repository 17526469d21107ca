"""User-facing errors: what an officer reads instead of a traceback.

Raise `InputError` for anything wrong with a file the user gave us (encoding, missing columns,
empty file, unreadable sheet). The message is Vietnamese for the officer, and names the file,
and where known the row and column. The CLI prints it as "Lỗi: <message> [<code>]" and exits
with status 2: the message is for the officer, the English `code` in brackets is for the engineer
who gets the screenshot (stable, greppable, the same whatever the wording of the message)."""

from __future__ import annotations


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

    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None,
                 code: str | None = None):
        self.file, self.row, self.column = file, row, column
        where = ", ".join(
            part
            for part in (
                f"tệp {file}" if file else "",
                f"dòng {row}" if row is not None else "",
                f"cột '{column}'" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message, code=code)
