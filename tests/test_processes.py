"""A killed run leaves no process behind (pipelines/processes.py).

Why: the CLI pipeline validates in a spawned process that holds Great Expectations (~300 MB).
When the run was SIGKILLed, that process used to stay alive with no parent (seen after the
crash-safety tests: six orphans). Here a real Python process starts the same validation pool the
pipeline uses, is killed with SIGKILL, and the pool's worker must be gone soon after.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STARTS_THE_POOL = textwrap.dedent(
    """
    import time
    from pipelines.flow import _Background
    import os
    pool = _Background(True).pool
    print(pool.submit(os.getpid).result(), flush=True)  # the worker is up (after loading GX)
    time.sleep(600)
    """
)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie is dead, only not yet reaped
        return fh.read().rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux-only")
def test_the_validation_process_dies_with_a_killed_run():
    """SIGKILL of the run while its validation worker is alive and idle."""
    parent = subprocess.Popen([sys.executable, "-c", STARTS_THE_POOL], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        worker = int(parent.stdout.readline())
        assert _alive(worker)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(worker), "the validation worker outlived the killed run"
    finally:
        parent.kill()
