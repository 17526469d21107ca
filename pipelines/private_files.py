"""Owner-only permissions for everything doisoat writes (Nghị định 13/2023: sensitive data).

Reports, per-commune workbooks, password lists, the warehouse and logs hold personal data, so on a
shared machine they must not be readable by other accounts: files 0600, folders 0700. Two layers,
because either alone misses cases: `owner_only_umask()` at the entry points (CLI, Prefect flows)
makes every file created afterwards — by DuckDB, Great Expectations, xlsxwriter, logging — private
from the first byte; `restrict_tree()` after writing fixes what already existed (an `out/` folder
made earlier by hand, a report rewritten in place) and covers callers that import the library
without going through an entry point. The one home for these modes: import them, don't repeat."""

from __future__ import annotations

import os
import stat
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def owner_only_umask() -> int:
    """New files 0600 and folders 0700 for the rest of this process; returns the previous umask."""
    return os.umask(0o077)


def restrict(path: Path) -> None:
    """One file 0600 or one folder 0700 (symlinks are left alone: never chmod what they point at)."""
    p = Path(path)
    try:
        st = p.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        return
    os.chmod(p, DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE)


def restrict_tree(root: Path) -> None:
    """`root` and everything doisoat wrote under it."""
    root = Path(root)
    restrict(root)
    if root.is_dir() and not root.is_symlink():
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                restrict(Path(dirpath) / name)


def write_private_text(path: Path, text: str) -> Path:
    """Write a small text file that is 0600 from creation (no moment where others could read it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.chmod(path, FILE_MODE)  # O_CREAT's mode is ignored when the file already existed
    return path


def write_private_bytes(path: Path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, FILE_MODE)
    return path
