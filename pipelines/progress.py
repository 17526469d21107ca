"""What an officer sees while doisoat works: one Vietnamese line per stage as it starts, a
progress bar with the work done and time left for long stages (columns of a 200,000-row
extract normalized, table rows written), a "still working" line every 30 s for long stages with
nothing to count (validation, matching, reports), and the same lines in a log file.

Why: a 200,000 × 20,000 run used to print nothing for 297 s and then everything at once (stage
messages went to a logger nobody configured). `setup()` configures the `doisoat` logger for a
CLI command: stderr (quiet: errors only; normal: stages; verbose: stage times and details) and
`<out>/doisoat.log` (always the stages, with Vietnam time). Stages report through `stage()` and
`rows()`; the Prefect flows forward the same logger to the run logger (`pipelines/orchestration.py`).

A bar (tqdm) is drawn only when stderr is a terminal; otherwise — Prefect workers, CI, a
redirected run — long stages print a plain line every ~10 %, so logs stay readable.

Personal data never goes through here: callers pass counts, stage names and file names only.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

LOGGER_NAME = "doisoat"
LOG_FILE = "doisoat.log"
VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")

QUIET, NORMAL, VERBOSE = -1, 0, 1

# bars: draw tqdm bars (stderr is a terminal and stage lines are shown); counting: Rows objects
# open now (a stage showing its own progress needs no "still working" line, and a line printed
# under a bar would break it)
_state = {"bars": False, "counting": 0}


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER_NAME)


def number(n: int) -> str:
    """20000 → "20.000" (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


def seconds(s: float) -> str:
    """12.34 → "12,3 s"; 125 → "2 phút 5 s"."""
    if s < 60:
        return f"{s:.1f}".replace(".", ",") + " s"
    m, r = divmod(int(round(s)), 60)
    return f"{m} phút {r} s"


LONG_ROWS = 50_000  # from this many rows a stage is long enough to show its progress


class _VnTimeFormatter(logging.Formatter):
    """Timestamps in Vietnam time whatever the machine's zone."""

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging API)
        when = dt.datetime.fromtimestamp(record.created, VN_TZ)
        return when.strftime(datefmt or "%Y-%m-%d %H:%M:%S%z")


class _ConsoleFormatter(_VnTimeFormatter):
    def format(self, record):
        prefix = (
            "Lỗi: " if record.levelno >= logging.ERROR else ("Cảnh báo: " if record.levelno >= logging.WARNING else "")
        )
        return f"{self.formatTime(record, '%H:%M:%S')}  {prefix}{record.getMessage()}"


def setup(out_dir: Path | None, verbosity: int = NORMAL, stream=None) -> Path | None:
    """Configure the `doisoat` logger for one CLI command; returns the log file path (or None).

    Called again (tests run several commands in one process), it replaces its own handlers."""
    stream = stream or sys.stderr
    log = logger()
    for h in list(log.handlers):
        if getattr(h, "_doisoat", False):
            log.removeHandler(h)
            h.close()
    log.setLevel(logging.DEBUG)
    log.propagate = False
    console = logging.StreamHandler(stream)
    console.setLevel({QUIET: logging.ERROR, NORMAL: logging.INFO}.get(verbosity, logging.DEBUG))
    console.setFormatter(_ConsoleFormatter())
    console._doisoat = True
    log.addHandler(console)
    _state["bars"] = verbosity >= NORMAL and hasattr(stream, "isatty") and stream.isatty()
    if out_dir is None:
        return None
    path = Path(out_dir) / LOG_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    file = logging.FileHandler(path, mode="a", encoding="utf-8")
    file.setLevel(logging.DEBUG if verbosity >= VERBOSE else logging.INFO)
    file.setFormatter(_VnTimeFormatter("%(asctime)s %(levelname)-7s %(message)s"))
    file._doisoat = True
    log.addHandler(file)
    return path


HEARTBEAT_S = 30.0  # a stage without progress of its own says it is still working this often


def _heartbeat(text: str, log, start: float, stop: threading.Event, every: float) -> None:
    while not stop.wait(every):
        if _state["counting"]:
            continue
        log.info(f"  … vẫn đang làm: {text.rstrip('…').strip()} ({seconds(time.perf_counter() - start)})")


@contextmanager
def stage(
    name: str,
    text: str,
    log: logging.Logger | logging.LoggerAdapter | None = None,
    times: dict | None = None,
    heartbeat: float = HEARTBEAT_S,
) -> Iterator[None]:
    """Announce a stage as it starts ("Chuẩn hoá 20.000 dòng…"); while it runs, a line every
    `heartbeat` seconds (validation and matching of a large file take minutes and have no rows
    to count); its duration at debug level (`--verbose`) and in `times[name]` when given."""
    log = log or logger()
    log.info(text)
    start = time.perf_counter()
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(text, log, start, stop, heartbeat), daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        took = time.perf_counter() - start
        if times is not None:
            times[name] = round(took, 3)
        log.debug(f"  {name}: {seconds(took)}")


class Rows:
    """Work done of a long stage (rows, or columns of all rows): a tqdm bar on a terminal, else a
    plain line every ~10 %; both with the time left."""

    def __init__(self, label: str, total: int, log=None, unit: str = "dòng", show: bool = True):
        self.label, self.total, self.done, self.unit, self.show = label, total, 0, unit, show
        self.log = log or logger()
        self.start = time.perf_counter()
        self.next_line = 0.1
        self.bar = None
        self.counted = show  # a shown progress replaces the stage's "still working" lines
        _state["counting"] += self.counted
        if show and _state["bars"]:
            from tqdm import tqdm  # lazy: 0.09 s of import, needed only on a terminal and for long stages

            self.bar = tqdm(
                total=total,
                desc=f"  {label}",
                leave=False,
                file=sys.stderr,
                bar_format="{desc}: {n_fmt}/{total_fmt} " + unit + " {bar} {percentage:3.0f}% còn {remaining}",
            )

    def advance(self, n: int) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
            return
        share = self.done / self.total if self.total else 1.0
        if self.show and share >= self.next_line and self.done < self.total:
            elapsed = time.perf_counter() - self.start
            left = elapsed * (1 - share) / share if share else 0.0
            self.log.info(
                f"  {self.label}: {number(self.done)}/{number(self.total)} {self.unit} ({share:.0%}), "
                f"còn khoảng {seconds(left)}"
            )
            self.next_line = (int(share * 10) + 1) / 10

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if self.counted:
            _state["counting"] -= 1
            self.counted = False


@contextmanager
def rows(label: str, total: int, log=None, unit: str = "dòng", show: bool = True) -> Iterator[Rows]:
    """Progress of a long stage; `show=False` (a short one) counts without printing."""
    bar = Rows(label, total, log, unit, show)
    try:
        yield bar
    finally:
        bar.close()


@contextmanager
def part(name: str, text: str, log: logging.Logger | logging.LoggerAdapter | None = None) -> Iterator[None]:
    """A part of a stage (reading the extract, one report): announced and timed at debug level
    only (`--verbose` and the log file), in the same "  name: 1,2 s" form as `stage`, so
    bench/bench_end_to_end.py can tell where a long stage spends its time."""
    log = log or logger()
    log.debug(text)
    start = time.perf_counter()
    try:
        yield
    finally:
        log.debug(f"  {name}: {seconds(time.perf_counter() - start)}")
