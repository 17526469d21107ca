"""One password-protected workbook per commune (`--by-commune`), IDs unmasked.

A commune is entitled to its own residents' data and needs the full values to correct its list,
so its workbook holds only the rows whose current commune (`<registry>_rows.ma_xa`) is that
commune, with IDs and suggested CSDLQG values unmasked. Each file is encrypted with the Office
standard (ECMA-376 agile encryption, msoffcrypto-tool) — Excel and LibreOffice ask for the
password and open it; nothing else is needed at the commune. The plaintext workbook is built in
memory and never written to disk. Rows whose commune is unknown go to one "khong_xac_dinh" file
for the province office, so every row of every action sheet is in exactly one commune file.

Passwords: one from `--password-file` (the province chose it), or one generated per commune
(`secrets`, 4 groups of 5 characters from an alphabet without look-alikes: about 99 bits) and
listed in `mat_khau_<registry>.csv` (0600) beside — not inside — the `theo_xa/` folder, so the
folder can be sent while passwords travel another way (phone, SMS). The province-level workbook
stays masked."""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from matching.normalize.fold import fold
from matching.sql import quote_identifier
from pipelines.errors import InputError
from pipelines.findings.coverage import UNKNOWN_UNIT
from pipelines.private_files import (
    restrict,
    restrict_tree,
    write_private_bytes,
    write_private_text,
)
from pipelines.reports.excel import write_workbook
from pipelines.spec import RegistrySpec
from pipelines.warehouse import rows_table_name

FOLDER = "theo_xa"
UNKNOWN_CODE = "khong_xac_dinh"
ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: read out over the phone
MIN_PASSWORD_LENGTH = 12


def generate_password(groups: int = 4, size: int = 5) -> str:
    """Readable but strong: 'k7mqx-3vr9a-...' (32 symbols, 20 characters: 100 bits)."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(size)) for _ in range(groups))


def read_password_file(path: Path) -> str:
    """The first line of the file; refused when missing, empty or too short to protect anything."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except FileNotFoundError:
        raise InputError("không tìm thấy tệp mật khẩu", file=str(path)) from None
    except (OSError, UnicodeDecodeError):
        raise InputError(
            "không đọc được tệp mật khẩu (cần tệp văn bản UTF-8, mật khẩu ở dòng đầu)", file=str(path)
        ) from None
    password = lines[0].strip() if lines else ""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InputError(f"mật khẩu ở dòng đầu của tệp phải dài ít nhất {MIN_PASSWORD_LENGTH} ký tự", file=path.name)
    return password


def encrypt_workbook(plain: bytes, password: str) -> bytes:
    """Office-standard encryption of an .xlsx held in memory."""
    from msoffcrypto.format.ooxml import OOXMLFile  # lazy: 0.24 s of import (cryptography), only for --by-commune

    out = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, out)
    return out.getvalue()


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", fold(text)).strip("_")[:60] or UNKNOWN_CODE


@dataclass
class CommuneFiles:
    folder: Path
    files: list[dict] = field(default_factory=list)  # ma_xa, ten_xa, file, rows
    passwords: Path | None = None


def commune_rows(con: duckdb.DuckDBPyConnection, spec: RegistrySpec, run_id: str) -> pl.DataFrame:
    """source_file, source_row, ma_xa (UNKNOWN_CODE when the row's current commune is unknown)."""

    table = quote_identifier(rows_table_name(spec.name))
    return con.execute(
        f"SELECT source_file, source_row, coalesce(ma_xa, ?) AS ma_xa FROM {table} WHERE run_id = ?",
        [UNKNOWN_CODE, run_id],
    ).pl()


def _commune_coverage(coverage: pl.DataFrame, code: str) -> pl.DataFrame:
    """The commune's coverage rows, also as level 'all' so the summary sheet shows its own rates."""
    own = coverage.filter((pl.col("level") == "commune") & (pl.col("ma_don_vi").fill_null(UNKNOWN_CODE) == code))
    return pl.concat([own.with_columns(pl.lit("all").alias("level")), own])


def write_commune_workbooks(
    con: duckdb.DuckDBPyConnection,
    spec: RegistrySpec,
    run_id: str,
    coverage: pl.DataFrame,
    run_folder: Path,
    password: str | None = None,
) -> CommuneFiles:
    """`run_folder/theo_xa/<registry>_<ma_xa>_<name>.xlsx`, encrypted; generated passwords listed
    in `run_folder/mat_khau_<registry>.csv`."""

    folder = Path(run_folder) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    restrict(folder)
    names = dict(
        coverage.filter(pl.col("level") == "commune")
        .select(pl.col("ma_don_vi").fill_null(UNKNOWN_CODE), "ten_don_vi")
        .unique(subset="ma_don_vi")
        .iter_rows()
    )
    rows = commune_rows(con, spec, run_id)
    result = CommuneFiles(folder=folder)
    listed: list[tuple[str, str, str, str]] = []
    for code in sorted(rows["ma_xa"].unique().to_list()):
        keep = rows.filter(pl.col("ma_xa") == code).select("source_file", "source_row")
        name = names.get(code) or UNKNOWN_UNIT
        path = folder / f"{spec.name}_{code}_{_slug(name.split(',')[0]) if code != UNKNOWN_CODE else UNKNOWN_CODE}.xlsx"
        plain = io.BytesIO()
        write_workbook(
            con, spec, run_id, _commune_coverage(coverage, code), plain, unmasked=True, keep=keep, scope=name
        )
        pw = password or generate_password()
        write_private_bytes(path, encrypt_workbook(plain.getvalue(), pw))
        result.files.append({"ma_xa": code, "ten_xa": name, "file": path, "rows": keep.height})
        listed.append((code, name, path.name, pw))
    if password is None:
        lines = ["ma_xa,ten_xa,tep,mat_khau"] + [",".join(_csv(v) for v in row) for row in listed]
        result.passwords = write_private_text(
            Path(run_folder) / f"mat_khau_{spec.name}.csv", "\ufeff" + "\n".join(lines) + "\n"
        )
    restrict_tree(folder)
    return result


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
