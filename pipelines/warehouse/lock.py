"""The run lock: `<db>.lock` beside the warehouse, held with flock(2) for a whole command or run.

Why: DuckDB lets one process at a time open a file for writing, and a run opens and closes the
warehouse several times, so without this lock two runs would interleave or fail half-way with a
DuckDB locking error. The kernel drops a flock when its process dies (SIGKILL included), so a
lock can never be left stale; the file's content (who, since when, which stage) is only for the
message a refused command prints. The same knowledge — which run holds the warehouse — tells a
`running` ledger row of a killed process from a live one (`mark_interrupted_runs`).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.errors import DoisoatError, WarehouseError
from pipelines.formats import vn_time  # the one home of officer-facing times

HOST = socket.gethostname()
KILLED_MESSAGE = "bị dừng đột ngột (killed)"


@dataclass
class _Held:
    fd: int
    depth: int
    info: dict


_HELD: dict[Path, _Held] = {}


def lock_path(db: Path | str) -> Path:
    path = Path(db)
    return path.with_name(path.name + ".lock")


class WarehouseBusy(WarehouseError):
    """Another doisoat process holds the warehouse."""


def _since_text(iso_utc: str | None) -> str:
    try:
        return vn_time(datetime.fromisoformat(iso_utc), seconds=True)
    except (TypeError, ValueError):
        return "không rõ thời điểm"


def _busy_message(db: Path, info: dict) -> str:
    who = f"lần chạy {info['run_id']}" if info.get("run_id") else f"lệnh doisoat {info.get('command') or '?'}"
    if info.get("stage"):
        who += f", đang ở bước {info['stage']}"
    where = f"tiến trình {info.get('pid', '?')} trên máy {info.get('hostname', '?')}"
    return (
        f"Kho dữ liệu {db} đang được dùng bởi {who} ({where}) từ {_since_text(info.get('since'))}. "
        "Chờ lần chạy đó xong rồi chạy lại."
    )


def _write_lock_info(fd: int, info: dict) -> None:
    """Overwrite, then cut to length: a reader sees the old text, the new one, or invalid JSON."""
    data = json.dumps(info, ensure_ascii=False).encode("utf-8")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def _read_lock_info(fd: int) -> dict:
    for _ in range(20):  # caught mid-rewrite: read again
        try:
            return json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        except (ValueError, OSError):
            continue
    return {}


@contextmanager
def exclusive(db: Path | str, *, command: str = "run", run_id: str | None = None):
    """Hold the warehouse for this process, or refuse at once with who holds it and since when.

    Re-entrant within a process (a demo holds it across its runs; each run records its run_id in
    the lock file while it runs)."""
    key = Path(db).resolve()
    held = _HELD.get(key)
    if held is not None:
        outer = held.info
        held.depth += 1
        if run_id:
            held.info = {**outer, "run_id": run_id}
            _write_lock_info(held.fd, held.info)
        try:
            yield held.info
        finally:
            held.depth -= 1
            if held.info is not outer:
                held.info = outer
                _write_lock_info(held.fd, outer)
        return
    try:
        key.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise DoisoatError(
            f"Không tạo được tệp {lock_path(db)} (chống hai lần chạy cùng lúc) cạnh kho dữ liệu ({exc.strerror})."
        ) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        info = _read_lock_info(fd)
        os.close(fd)
        raise WarehouseBusy(_busy_message(Path(db), info)) from None
    info = {
        "command": command,
        "run_id": run_id,
        "pid": os.getpid(),
        "hostname": HOST,
        "since": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _HELD[key] = _Held(fd=fd, depth=1, info=info)
    try:
        _write_lock_info(fd, info)
        yield info
    finally:
        del _HELD[key]
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def note_stage(db: Path | str, stage: str) -> None:
    """Record the stage a run is in, in the lock file (shown when a second run is refused)."""
    held = _HELD.get(Path(db).resolve())
    if held is not None:
        held.info = {**held.info, "stage": stage}
        _write_lock_info(held.fd, held.info)


def _live_run_ids(path: Path) -> set[str] | None:
    """Run ids that may still be running, or None when another process holds the lock right now
    and did not say which run (then nothing is marked)."""
    held = _HELD.get(path.resolve())
    if held is not None:
        return {held.info["run_id"]} if held.info.get("run_id") else set()
    lock = lock_path(path)
    if not lock.exists():
        return set()
    fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _read_lock_info(fd)
            return {info["run_id"]} if info.get("run_id") else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return set()
    finally:
        os.close(fd)


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Mark `running` rows whose run no longer runs as failed ("bị dừng đột ngột (killed)").

    A run holds the lock from before its `running` row is written until after it is closed, so a
    `running` row that is not the lock holder's run belongs to a process that died (SIGKILL, power
    cut, out of memory). Its results were never committed: the one write transaction rolled back."""
    stuck = con.execute("SELECT run_id, pid, hostname FROM runs WHERE status = 'running'").fetchall()
    if not stuck:
        return []
    live = _live_run_ids(path)
    if live is None:
        return []
    now = vn_time(datetime.now(UTC), seconds=True, zone=False)
    marked = []
    for run_id, pid, hostname in stuck:
        if run_id in live:
            continue
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = now(), error = ? WHERE run_id = ? AND status = 'running'",
            [
                f"{KILLED_MESSAGE}: tiến trình {pid or '?'} trên máy {hostname or '?'} kết thúc khi chưa xong; "
                f"kết quả không được ghi (phát hiện lúc {now}, giờ Việt Nam)",
                run_id,
            ],
        )
        marked.append(run_id)
    return marked
