"""Child processes that do not outlive the command that started them.

Why: a killed `doisoat run` (Ctrl-C twice, SIGKILL, an OOM kill) must not leave its validation
process (pipelines/flow.py, ~300 MB with Great Expectations loaded) or `doisoat serve`'s Prefect
server and worker running with no parent. On Linux the kernel can signal a child when its parent
dies (prctl PR_SET_PDEATHSIG); elsewhere this does nothing and the normal shutdown paths apply.
"""

from __future__ import annotations

import ctypes
import os
import signal

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
