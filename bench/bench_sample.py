"""Benchmark: `doisoat sample` at a given size; print wall time, CPU time, peak memory, rows.

    .venv/bin/python bench/bench_sample.py --persons 1000000 --out data/generated/sample_1m

The generator runs in a child process, so the peak RSS printed (ru_maxrss of the children) is
the generator's own peak and not this script's.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, sys
from pathlib import Path
from pipelines.sample.generator import generate
print(json.dumps(generate(persons=int(sys.argv[1]), seed=int(sys.argv[2]), out_dir=Path(sys.argv[3]))))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--out", default=str(ROOT / "data" / "generated" / "bench_sample"))
    args = ap.parse_args()

    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.persons), str(args.seed), args.out],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    import json

    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    size = sum(p.stat().st_size for p in Path(args.out).rglob("*") if p.is_file())
    print(f"persons={args.persons:,} seed={args.seed}")
    print(f"wall_seconds={wall:.1f} cpu_seconds={usage.ru_utime + usage.ru_stime:.1f}")
    print(f"peak_rss_mib={usage.ru_maxrss / 1024:.0f}")
    print(f"output_mib={size / 2**20:.1f}")
    for name, rows in summary.items():
        print(f"  {name}: {rows:,} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
