"""Benchmark: the partitioned match on Dask (issue 16, item 3) beside the one-machine match.

    .venv/bin/python bench/bench_dask.py --persons 1000000                 # 100,000 welfare rows
    .venv/bin/python bench/bench_dask.py --persons 200000 --workers 1,2,4

1. prepare population and welfare rows as bench_matching.py does (same files, same --workdir layout);
2. link them once with `link_records` (one machine, one DuckDB) and then with `link_partitioned` on
   a Dask LocalCluster of 1, 2, … worker processes (one thread each, one partition per worker;
   the cluster's start is not timed), checking each result equals the one-machine result;
3. profile the partitions: the same match cut into --profile-partitions pieces run on one worker,
   with the wall time of every partition step, its candidate pairs and the worker's peak memory —
   the figures the README's extrapolation to 100,000,000 x 10,000,000 starts from.

Peak memory: ru_maxrss of each worker process (a high-water mark, so with several partitions per
worker it is the largest partition's) and of this (driver) process. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_matching import prepare  # noqa: E402 - the same prepared inputs as the matching benchmark

from matching import partitioned  # noqa: E402
from matching.link import link_records  # noqa: E402
from pipelines.cluster import QUIET_LOGGERS, client_map  # noqa: E402
from pipelines.registries import REGISTRIES  # noqa: E402

SPEC = REGISTRIES["social_welfare"]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _load(workdir: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for table, f in (("registry", "social_welfare"), ("population", "population")):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_parquet($p)", {"p": str(workdir / "persons" / f"{f}.parquet")}
        )
    return con


def _same(a, b) -> bool:
    return a.links.equals(b.links) and a.evidence.equals(b.evidence) and a.model == b.model


def _cluster(workers: int):
    import logging

    from distributed import Client, LocalCluster

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return cluster, Client(cluster)


def run_workers(con, one, workers: int, workdir: Path) -> dict:
    cluster, client = _cluster(workers)
    try:
        cpu0 = client.run(_cpu_s)
        driver0 = _cpu_s()
        t = time.perf_counter()
        res = partitioned.link_partitioned(
            con,
            "registry",
            "population",
            SPEC.match,
            n_partitions=workers,
            run_map=client_map(client),
            workdir=str(workdir),
        )
        seconds = time.perf_counter() - t
        driver_cpu = _cpu_s() - driver0
        cpu = {k: v - cpu0[k] for k, v in client.run(_cpu_s).items()}
        peaks = client.run(_peak_mib)
    finally:
        client.close()
        cluster.close()
    return {
        "seconds": seconds,
        "driver_cpu": driver_cpu,
        "worker_cpu": sorted(cpu.values()),
        "worker_peak_mib": max(peaks.values()),
        "same": _same(res, one),
        "steps": res.timings,
    }


def profile(con, one, n: int, workdir: Path) -> dict:
    """The match in n partitions on one worker: per-step times and pairs of each partition."""
    cluster, client = _cluster(1)
    calls: list[tuple[str, float]] = []
    remote = client_map(client)

    def timed(fn, args):
        out = []
        for a in args:
            t = time.perf_counter()
            out.extend(remote(fn, [a]))
            calls.append((fn.__name__, time.perf_counter() - t))
        return out

    pairs: list[int] = []

    def counted(fn, args):
        out = timed(fn, args)
        if fn is partitioned.compare_partition:
            pairs.extend(int(lab[:, -1].sum() + unl[:, -1].sum()) for lab, unl in out)
        return out

    try:
        res = partitioned.link_partitioned(
            con, "registry", "population", SPEC.match, n_partitions=n, run_map=counted, workdir=str(workdir)
        )
        peak = max(client.run(_peak_mib).values())
    finally:
        client.close()
        cluster.close()
    per_step = {}
    for name, seconds in calls:
        per_step.setdefault(name, []).append(seconds)
    return {"same": _same(res, one), "peak": peak, "per_step": per_step, "pairs": pairs, "steps": res.timings}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--welfare-rows", type=int, default=None, help="default: persons / 10")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--profile-partitions", type=int, default=8)
    args = ap.parse_args()
    workdir = args.workdir or Path(f"/tmp/doisoat_bench_{args.persons}")
    workdir.mkdir(parents=True, exist_ok=True)
    prepare(workdir, args.persons, args.welfare_rows, args.seed)
    print(f"# load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    con = _load(workdir)
    rows, persons = (con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in ("registry", "population"))
    t, cpu = time.perf_counter(), _cpu_s()
    one = link_records(con, "registry", "population", SPEC.match)
    single, single_cpu = time.perf_counter() - t, _cpu_s() - cpu
    print(f"# {persons:,} persons x {rows:,} rows; one machine {single:.1f}s steps {one.timings}", flush=True)
    results = {}
    for w in (int(x) for x in args.workers.split(",")):
        results[w] = r = run_workers(con, one, w, workdir)
        print(f"# {w} worker(s): {r['seconds']:.1f}s same={r['same']} steps {r['steps']}", flush=True)
    prof = profile(con, one, args.profile_partitions, workdir)
    print(f"# load average at end: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        "\n| run | wall s | speed-up vs 1 worker | driver CPU s | CPU s per worker | peak MiB per worker "
        "| identical to one machine |"
    )
    print("|---|---|---|---|---|---|---|")
    print(f"| one machine (`link_records`) | {single:.1f} | | {single_cpu:.1f} | | {_peak_mib():,.0f} (driver) | |")
    base = results.get(1, {}).get("seconds")
    for w, r in results.items():
        speed = f"{base / r['seconds']:.2f}x" if base else ""
        per = ", ".join(f"{c:.1f}" for c in r["worker_cpu"])
        print(
            f"| Dask, {w} worker(s) | {r['seconds']:.1f} | {speed} | {r['driver_cpu']:.1f} | {per} "
            f"| {r['worker_peak_mib']:,.0f} | {r['same']} |"
        )
    n = args.profile_partitions
    print(f"\nprofile: {n} partitions on one worker, identical={prof['same']}, worker peak {prof['peak']:,.0f} MiB")
    for name, times in prof["per_step"].items():
        print(f"  {name}: mean {sum(times) / len(times):.2f}s max {max(times):.2f}s per partition")
    print(f"  candidate pairs per partition: {prof['pairs']} (total {sum(prof['pairs']):,})")
    print(f"  driver steps: {prof['steps']}; driver peak {_peak_mib():,.0f} MiB")


if __name__ == "__main__":
    main()
