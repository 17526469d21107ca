"""User-facing errors: what an officer reads instead of a traceback.

Raise `InputError` for anything wrong with a file the user gave us (encoding, missing columns,
empty file, unreadable sheet). The message is Vietnamese for the officer, and names the file,
and where known the row and column. The CLI prints it and exits with status 2."""

from __future__ import annotations


class DoisoatError(Exception):
    """Base class for errors the CLI reports without a traceback."""


class InputError(DoisoatError):
    def __init__(self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None):
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
        super().__init__(f"{where}: {message}" if where else message)
