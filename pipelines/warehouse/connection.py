"""Opening the warehouse: the key, encryption at rest, spill files, and the command's session.

Why one door: every command (run, demo, report, review, the Prefect flows) opens the warehouse
the same way through `connect` — with a key (DOISOAT_DB_KEY or --key-file) the file is an
encrypted DuckDB database ATTACHed under `doisoat` and made the default, DuckDB's spill files go
to a private folder, the declared schema is applied, and a `running` run whose process is gone is
marked failed. `session` holds, for one CLI command, its key, its spill folder and the run lock.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
import os
import shutil
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from matching.sql import quote_identifier, quote_literal
from pipelines.errors import DoisoatError, WarehouseError
from pipelines.spec import RegistrySpec
from pipelines.warehouse.lock import HOST, exclusive, mark_interrupted_runs
from pipelines.warehouse.schema import check_doisoat, ensure_schema

KEY_ENV = "DOISOAT_DB_KEY"
MIN_KEY_CHARS = 16
ALIAS = "doisoat"  # the encrypted warehouse is ATTACHed under this name, then made the default (USE)


@dataclass
class _Session:
    """What the CLI was told for this command: the key (from --key-file) and the output folder.

    Process-wide on purpose: the key must reach every `connect` of a run (ledger, population
    cache, checks, write, reports) without being threaded through each stage's signature, and
    without ever being put on a command line or into the environment of child processes."""

    key: str | None = None
    spill_root: Path | None = None
    spill_dirs: set[Path] = field(default_factory=set)


_SESSION = _Session()


def read_key_file(path: Path | str) -> str:
    """The key in a file (first line, surrounding blanks dropped); Vietnamese errors, key never echoed."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DoisoatError(f"Không tìm thấy tệp khoá {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DoisoatError(f"Không đọc được tệp khoá {path} ({type(exc).__name__}).") from None
    key = text.strip().splitlines()[0].strip() if text.strip() else ""
    _check_key(key, f"tệp khoá {path}")
    if path.stat().st_mode & 0o077:
        logging.getLogger("doisoat").warning(
            "Tệp khoá %s đang cho người dùng khác đọc được; nên đặt quyền chỉ chủ sở hữu (chmod 600).", path
        )
    return key


def _check_key(key: str, where: str) -> None:
    if len(key) < MIN_KEY_CHARS:
        raise DoisoatError(
            f"Khoá trong {where} quá ngắn (cần ít nhất {MIN_KEY_CHARS} ký tự). Tạo khoá ngẫu nhiên, ví dụ: "
            'python -c "import secrets; print(secrets.token_urlsafe(32))" > khoa.txt'
        )


def warehouse_key() -> str | None:
    """The key of this process: --key-file (set by the CLI session) first, else DOISOAT_DB_KEY."""
    if _SESSION.key is not None:
        return _SESSION.key
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        return None
    _check_key(key, f"biến môi trường {KEY_ENV}")
    return key


def httpfs_extension() -> Path:
    """DuckDB's httpfs build shipped as the PyPI package duckdb-extension-httpfs (same version as duckdb).

    DuckDB 1.5.5 writes an encrypted database only with httpfs loaded (its OpenSSL crypto); the
    extension cannot be downloaded on an offline office machine, so it comes from the package."""
    spec = importlib.util.find_spec("duckdb_extension_httpfs")
    path = None
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if path is None or not path.exists():
        raise DoisoatError(
            f"Cần gói duckdb-extension-httpfs=={duckdb.__version__} để ghi kho dữ liệu mã hoá "
            f"(pip install duckdb-extension-httpfs=={duckdb.__version__})."
        )
    return path


def _open_error(path: Path, exc: duckdb.Error) -> Exception:
    text = str(exc)
    if "without a key" in text:
        return DoisoatError(f"Kho dữ liệu {path} đã mã hoá: cần khoá ({KEY_ENV} hoặc --key-file).")
    if "Wrong encryption key" in text:
        return DoisoatError(f"Khoá không đúng: không mở được kho dữ liệu đã mã hoá {path}.")
    if "is not encrypted" in text:
        return DoisoatError(
            f"Kho dữ liệu {path} chưa mã hoá nhưng đã cho khoá. Bỏ khoá để mở kho như cũ, hoặc chép kho sang "
            "một tệp mã hoá (README, mục 'Dữ liệu cá nhân')."
        )
    if "lock" in text.lower():
        return WarehouseError(
            f"--db {path}: kho dữ liệu đang được một chương trình khác mở; hãy đóng chương trình đó rồi chạy lại."
        )
    return WarehouseError(
        f"--db {path}: không mở được kho dữ liệu: tệp bị hỏng hoặc không phải tệp DuckDB ({type(exc).__name__})."
    )


def _open(path: Path, key: str | None) -> duckdb.DuckDBPyConnection:
    try:
        if key is None:
            return duckdb.connect(str(path))
        con = duckdb.connect()
        try:
            con.execute(f"LOAD {quote_literal(str(httpfs_extension()))}")
            con.execute(f"ATTACH {quote_literal(str(path))} AS {quote_identifier(ALIAS)} (ENCRYPTION_KEY ?)", [key])
            con.execute(f"USE {quote_identifier(ALIAS)}")
        except BaseException:
            con.close()
            raise
        return con
    except duckdb.Error as exc:
        raise _open_error(path, exc) from None


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def connect(db: Path | str, specs: Iterable[RegistrySpec] = ()) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and make sure every table exists.

    With a key (DOISOAT_DB_KEY or --key-file) the file is an encrypted DuckDB database ATTACHed
    under `doisoat` and made the default, so callers' SQL is the same either way. DuckDB's spill
    files go to a private folder in the output folder (removed when the command ends), and a
    `running` run whose process is gone is marked failed here — "at the next open".

    A `--db` that is a folder, not a DuckDB file, a DuckDB database of something else, damaged
    or locked by another program is a `WarehouseError` in Vietnamese, never a DuckDB traceback."""
    if str(db) == ":memory:":
        con = duckdb.connect(":memory:")
        ensure_schema(con, specs)
        return con
    path = Path(db)
    _check_path(path)
    con = _open(path, warehouse_key())
    try:
        con.execute("SET temp_directory = ?", [str(spill_dir(path))])
        check_doisoat(con, db)
        ensure_schema(con, specs)
        mark_interrupted_runs(con, path)
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(
            f"--db {db}: kho dữ liệu bị hỏng, không đọc được cấu trúc bảng ({type(exc).__name__})."
        ) from None
    except BaseException:
        con.close()
        raise
    return con


def _check_path(path: Path) -> None:
    """Refuse a folder, an uncreatable parent, or a file that is not a DuckDB database."""
    if path.is_dir():
        raise WarehouseError(f"--db {path}: đây là một thư mục, cần đường dẫn tới tệp kho dữ liệu (.duckdb).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"--db {path}: không tạo được thư mục chứa kho dữ liệu ({exc.strerror}).") from None
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head[8:12] != DUCKDB_MAGIC:
            raise WarehouseError(
                f"--db {path}: tệp này không phải kho dữ liệu DuckDB của doisoat (hoặc đã bị hỏng). "
                "Hãy chỉ một tệp .duckdb do doisoat tạo, hoặc một đường dẫn mới."
            )


# Spill files: DuckDB writes sort/join overflow to `temp_directory` (by default `.tmp` in the
# current folder when the database is ATTACHed). Keep them in a folder of ours, owner-only, named by
# host and pid so a later command can remove the folder of a killed one.

_SPILL_PREFIX = ".doisoat-tmp-"


def spill_dir(path: Path) -> Path:
    """This process's private spill folder beside warehouse `path` (or in the session's spill root):
    DuckDB's overflow and doisoat's own large intermediates (the normalized extract's parts)."""
    root = _SESSION.spill_root or path.parent
    spill = root / f"{_SPILL_PREFIX}{HOST}-{os.getpid()}"
    if spill not in _SESSION.spill_dirs:
        _remove_stale_spill_dirs(root)
        spill.mkdir(mode=0o700, parents=True, exist_ok=True)
        _SESSION.spill_dirs.add(spill)
    return spill


def _remove_stale_spill_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in root.glob(f"{_SPILL_PREFIX}{HOST}-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def remove_spill_dirs() -> None:
    """Remove this process's spill folders (end of a CLI command, and at interpreter exit)."""
    for folder in list(_SESSION.spill_dirs):
        shutil.rmtree(folder, ignore_errors=True)
        _SESSION.spill_dirs.discard(folder)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def session(db: Path | str, *, command: str, key_file: Path | str | None = None, spill_root: Path | str | None = None):
    """One CLI command on the warehouse: its key, its spill folder, the lock for its whole length.

    `command` is what the refusal message shows until a run id is known, e.g. "run social_welfare".

    report/review on a warehouse that does not exist take no lock (they fail with their own message)."""
    previous = (_SESSION.key, _SESSION.spill_root)
    _SESSION.key = read_key_file(key_file) if key_file else None
    _SESSION.spill_root = Path(spill_root) if spill_root else None
    try:
        if command.split()[0] in ("run", "demo") or Path(db).exists():
            with exclusive(db, command=command):
                yield
        else:
            yield
    finally:
        remove_spill_dirs()
        _SESSION.key, _SESSION.spill_root = previous
