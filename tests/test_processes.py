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


TINY_POPULATION = ROOT / "tests" / "fixtures" / "tiny" / "population.csv"


def _refused_run(tmp_path: Path) -> list[str]:
    empty = tmp_path / "rong.csv"
    empty.write_bytes(b"")
    return ["run", "social_welfare", "--population", str(TINY_POPULATION), "--input", str(empty),
            "--db", str(tmp_path / "kho.duckdb"), "--out", str(tmp_path / "bao_cao")]  # fmt: skip


def test_a_refused_file_keeps_the_validation_process_for_the_next_run(tmp_path, capsys):
    """Within one interpreter (a test session, a demo), a file refused while reading does not
    stop the validation process: the next run reuses it instead of importing GX again."""
    from pipelines import flow
    from pipelines.cli import main

    assert main(_refused_run(tmp_path)) == 2
    pool = flow._Background._shared
    assert pool is not None
    worker = pool.submit(os.getpid).result()
    assert main(_refused_run(tmp_path)) == 2
    assert flow._Background._shared is pool and pool.submit(os.getpid).result() == worker
    assert "[input_invalid]" in capsys.readouterr().err


def test_the_command_line_ends_the_validation_process_with_the_command(tmp_path):
    """`doisoat` from the command line (argv None) ends the process when the command ends,
    instead of the interpreter's exit waiting for its GX import."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.argv = ["doisoat", *{_refused_run(tmp_path)!r}]
        from pipelines.cli import main
        code = main()
        from pipelines import flow
        print(code, flow._Background._shared, flush=True)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.stdout.split() == ["2", "None"], done.stdout + done.stderr
    assert "Traceback" not in done.stderr and "leaked" not in done.stderr, done.stderr


STOPS_THE_POOL = textwrap.dedent(
    """
    from pipelines.flow import _Background, stop_validation_process
    pool = _Background(True).pool
    pool.submit(print, "printed by the worker").result()  # buffered: stdout is a pipe
    stop_validation_process()
    print("stopped", flush=True)
    """
)


def test_the_validation_process_flushes_its_output_before_its_quick_exit():
    """The worker skips the interpreter's teardown at exit (processes.validation_worker): the quick
    exit runs after multiprocessing has flushed the worker's streams (and flushes them again), so
    what it wrote is not lost, and the command's shutdown still waits for it to end."""
    done = subprocess.run([sys.executable, "-c", STOPS_THE_POOL], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["printed by the worker", "stopped"]
