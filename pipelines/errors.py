"""User-facing errors: what an officer reads instead of a traceback.

Raise `InputError` (or one of its kinds below) for anything wrong with a file the user gave us
(encoding, missing columns, empty file, unreadable sheet). The message is Vietnamese for the
officer, and names the file, and where known the sheet, row and column. `WarehouseError` is a
`--db` that is not a doisoat warehouse, is damaged or locked; `OutputError` an output folder or
file that cannot be written. The CLI prints any of them as "Lỗi: ..." and exits with status 2.
Messages never carry personal data (no cell values), only positions and counts."""

from __future__ import annotations


class DoisoatError(Exception):
    """Base class for errors the CLI reports without a traceback."""


class InputError(DoisoatError):
    def __init__(
        self, message: str, *, file: str | None = None, row: int | None = None, column: str | None = None,
        sheet: str | None = None,
    ):
        self.file, self.row, self.column, self.sheet = file, row, column, sheet
        where = ", ".join(
            part
            for part in (
                f"tệp {file}" if file else "",
                f"trang '{sheet}'" if sheet else "",
                f"dòng {row}" if row is not None else "",
                f"cột '{column}'" if column else "",
            )
            if part
        )
        super().__init__(f"{where}: {message}" if where else message)


class DamagedFileError(InputError):
    """The file is not what its name says or is damaged (truncated zip, broken sheet XML, an
    HTML page saved as .xls, a CSV quote never closed)."""


class EncryptedWorkbookError(InputError):
    """A password-protected workbook: only Excel with the password can open it."""


class WarehouseError(DoisoatError):
    """The `--db` file cannot be used as the doisoat warehouse."""


class OutputError(DoisoatError):
    """An output folder or file cannot be written (checked before anything is committed)."""
