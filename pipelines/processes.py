"""Child processes that do not outlive the command that started them.

Why: a killed `doisoat run` (Ctrl-C twice, SIGKILL, an OOM kill) must not leave its validation
process (pipelines/flow.py, ~300 MB with Great Expectations loaded) or `doisoat serve`'s Prefect
server and worker running with no parent. On Linux the kernel can signal a child when its parent
dies (prctl PR_SET_PDEATHSIG); elsewhere this does nothing and the normal shutdown paths apply.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import logging
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int | None = None, signum: int = signal.SIGTERM) -> None:
    """Ask the kernel to send `signum` to this process when its parent dies (Linux only).

    A parent killed before the child got here is not seen by the kernel's watch; with the
    parent's pid given, the child then stops at once."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signum))
    except (OSError, AttributeError):
        return
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), signum)


def validation_worker(parent_pid: int) -> None:
    """Initializer of the validation process (pipelines/flow.py `_Background`): it dies with its
    parent, and its exit skips the interpreter's teardown.

    Why the quick exit: when the command ends, the parent shuts the idle process down and waits for
    it; a normal exit then tears down Great Expectations, pandas and their modules one object at a
    time — 3.6 s of a 20,000-row run's 3.7 s finish, measured on a busy machine, before the officer
    gets the prompt back. Nothing is lost by skipping it: the process writes no file (GX runs in an
    ephemeral context), its results went to the parent through the executor's pipe synchronously
    before it read the shutdown sentinel, and its logging and standard streams are flushed here
    first. The executor ignores a worker's exit code at shutdown."""
    die_with_parent(parent_pid)
    atexit.register(_exit_without_teardown)


def _exit_without_teardown() -> None:
    logging.shutdown()  # flush and close every handler (registered by logging at import: would run after this)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)
