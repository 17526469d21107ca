"""How long an officer waits: `doisoat --help`, and `doisoat run` on a 500-row registry against
the 5,000-person sample, cold (the CSDLQG extract not yet in the warehouse) and warm (cached),
with the time of each stage. Measured as a user would: the installed `doisoat` command in a
subprocess, wall-clock time, stage times read from the run's own log (`--verbose` writes them to
<out>/doisoat.log). Prints figures; never asserted in tests (tests check correctness, not time).

    python bench/bench_start.py                      # bundled sample, social_welfare (500 rows)
    python bench/bench_start.py --repeat 3 --registry pension
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOISOAT = shutil.which("doisoat", path=str(Path(sys.executable).parent)) or "doisoat"
STAGES = (
    "ingest",
    "load_population",
    "normalize",
    "validate",
    "person_schema",
    "match",
    "checks",
    "write_warehouse",
    "reports",
)


def timed(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall-clock seconds (what the user waits); the child's CPU seconds go to CPU[-1]."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    took = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    CPU.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return took, done


CPU: list[float] = []  # CPU seconds of each timed command: on a shared machine, wall time includes waiting for a core


def stage_times(log: str) -> dict[str, float]:
    """The last run's stage durations from its log lines ("  validate: 2,3 s")."""
    found: dict[str, float] = {}
    for name, value in re.findall(r"DEBUG\s+(\w+): ([\d,]+) s$", log, flags=re.M):
        if name in STAGES:
            found[name] = float(value.replace(",", "."))
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--population", default=str(ROOT / "data" / "sample" / "population.csv"))
    ap.add_argument("--registry", default="social_welfare")
    ap.add_argument("--input", default=None, help="default: <population folder>/<registry>.csv")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measure (median reported)")
    args = ap.parse_args()
    input_file = args.input or str(Path(args.population).parent / f"{args.registry}.csv")

    helps = []
    for _ in range(max(args.repeat, 3)):
        took, done = timed([DOISOAT, "--help"])
        assert done.returncode == 0, done.stderr
        helps.append(took)
    print(
        f"doisoat --help: median {statistics.median(helps):.2f} s wall (min {min(helps):.2f}, {len(helps)} runs), "
        f"{statistics.median(CPU):.2f} s CPU"
    )

    rows = []
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory(prefix="doisoat-bench-start-") as tmp:
            db, out = Path(tmp) / "w.duckdb", Path(tmp) / "out"
            run = [
                DOISOAT,
                "run",
                args.registry,
                "--population",
                args.population,
                "--input",
                input_file,
                "--db",
                str(db),
                "--out",
                str(out),
                "--verbose",
            ]
            for label in ("cold", "warm"):
                log_file = out / "doisoat.log"
                before = log_file.read_text(encoding="utf-8") if log_file.exists() else ""
                took, done = timed(run)
                assert done.returncode == 0, done.stderr[-2000:]
                log = log_file.read_text(encoding="utf-8")[len(before) :]
                rows.append((label, i + 1, took, stage_times(log), CPU[-1]))
                print(f"  {label} run {i + 1}: {took:.1f} s wall, {CPU[-1]:.1f} s CPU", flush=True)

    print()
    print(f"`doisoat run {args.registry}` ({Path(input_file).name} against {Path(args.population).name}), seconds:")
    header = ["cache", "total wall (median)", "CPU", *STAGES]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label in ("cold", "warm"):
        mine = [r for r in rows if r[0] == label]
        total = statistics.median(r[2] for r in mine)
        per = [statistics.median(r[3].get(s, 0.0) for r in mine) for s in STAGES]
        cpu = statistics.median(r[4] for r in mine)
        print("| " + " | ".join([label, f"{total:.1f}", f"{cpu:.1f}", *(f"{v:.1f}" for v in per)]) + " |")


if __name__ == "__main__":
    main()
