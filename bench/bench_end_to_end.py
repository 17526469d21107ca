"""Benchmark: what an officer waits for — `doisoat run` as a process, stage by stage, beside Splink 5.

    .venv/bin/python bench/bench_end_to_end.py                       # 50,000 persons x 5,000 welfare rows
    .venv/bin/python bench/bench_end_to_end.py --persons 1000000     # 1,000,000 x 100,000 (the issue's size)
    .venv/bin/python bench/bench_end_to_end.py --persons 50000 --tools doisoat

1. `doisoat sample --persons N --out WORKDIR/sample` (reused when present): CSDLQG extract and
   the five registries with truth/ (welfare = 10 % of persons); the extract is converted once to
   Parquet (all columns text) as the issue's measurement did (`--population-format csv` keeps it).
2. `doisoat run social_welfare --verbose` as a subprocess, twice: cold (empty warehouse) and warm
   (same warehouse: the normalized extract comes from its cache). Each stage's wall time is the
   one the CLI itself prints at debug level ("  match: 3,1 s"); a thread samples the process
   tree's VmRSS and CPU time (utime+stime) from /proc every 0.2 s and gives each sample to the
   innermost stage running at that moment, so a stage's peak RSS and CPU seconds are its own.
   CPU seconds matter on a shared machine: wall time grows with other processes' load, CPU time
   much less (the load average is printed with the figures).
3. Splink 5's complete run on the same files, as a subprocess: read the two CSVs in DuckDB,
   minimal cleaning (lower-case accent-free names, dates parsed, digits of the IDs), then
   bench_matching.run_splink's model — lambda from ID rules, u by random sampling, m by EM —,
   prediction at match probability >= 0.9 and best candidate per row. No reports.
4. Precision/recall of both against truth/ (bench_matching.evaluate).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

REGISTRY = "social_welfare"
BIN = Path(sys.executable).parent
TICK = os.sysconf("SC_CLK_TCK")

# Stage names as the CLI logs them (pipelines/flow.py, normalize.py, match.py, reports/__init__.py) → table labels.
LABELS = {
    "startup": "start (imports, ledger)",
    "ingest": "read registry",
    "load_population": "population (read + normalize)",
    "read_population": "  read extract",
    "normalize_population": "  normalize extract",
    "population_cache": "  read normalized extract from warehouse",
    "population_checks": "  extract checks",
    "normalize": "normalize registry",
    "validate": "validate (GX)",
    "person_schema": "person schema",
    "match": "match",
    "checks": "checks (findings)",
    "write_warehouse": "warehouse write",
    "reports": "reports",
    "report_coverage": "  coverage",
    "report_excel": "  workbook (.xlsx)",
    "report_html": "  HTML audit report",
    "report_communes": "  commune workbooks",
    "finish": "finish (summary, exit)",
}

# "17:16:58    match: 10,8 s" or "  reports: 2 phút 5 s" (pipelines/progress.py: stage(), seconds())
STAGE_END = re.compile(r"^\d\d:\d\d:\d\d\s+(\w+): (?:(\d+) phút (\d+) s|(\d+),(\d) s)$")


# ------------------------------------------------------------------ sampling a process tree


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except OSError:
            pass
    return out


def _status(pid: int) -> tuple[int, int, float]:
    """VmRSS kB, VmHWM kB, CPU seconds (user + system) of one process; zeros when gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICK
    except (OSError, IndexError, ValueError):
        return 0, 0, 0.0
    return rss, hwm, cpu


@dataclass
class Measured:
    seconds: float = 0.0
    samples: list[tuple[float, int, float]] = field(default_factory=list)  # (t, rss kB of the tree, cpu s of the tree)
    hwm_kb: int = 0  # the main process's VmHWM (its own high-water mark)
    ends: list[tuple[float, str, float]] = field(default_factory=list)  # (t, stage, seconds) from the CLI's lines
    returncode: int = 0
    stderr: list[str] = field(default_factory=list)
    stdout: str = ""


def run_measured(cmd: list[str], env: dict | None = None, interval: float = 0.2) -> Measured:
    m = Measured()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    done = threading.Event()
    cpu_seen: dict[int, float] = {}  # last CPU time of every process of the tree (children may exit)

    def sample() -> None:
        while not done.is_set():
            rss = 0
            for p in _tree(proc.pid):
                r, h, c = _status(p)
                rss += r
                if c:
                    cpu_seen[p] = c
                if p == proc.pid and h:
                    m.hwm_kb = max(m.hwm_kb, h)
            m.samples.append((time.perf_counter() - start, rss, sum(cpu_seen.values())))
            done.wait(interval)

    def read_stderr() -> None:
        for line in proc.stderr:
            line = line.rstrip("\n")
            m.stderr.append(line)
            hit = STAGE_END.match(line)
            if hit:
                secs = int(hit[2]) * 60 + int(hit[3]) if hit[2] else int(hit[4]) + int(hit[5]) / 10
                m.ends.append((time.perf_counter() - start, hit[1], secs))

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read_stderr, daemon=True)]
    for t in threads:
        t.start()
    m.stdout = proc.stdout.read()
    m.returncode = proc.wait()
    m.seconds = time.perf_counter() - start
    done.set()
    for t in threads:
        t.join()
    return m


def stage_table(m: Measured) -> list[dict]:
    """One row per stage: wall seconds (the CLI's own figure), peak RSS and CPU seconds of the
    samples taken while it was the innermost stage running (sub-stages are indented)."""
    intervals = [(t_end - secs, t_end, name, secs) for t_end, name, secs in m.ends]
    first = min((a for a, *_ in intervals), default=m.seconds)
    last = max((b for _, b, *_ in intervals), default=m.seconds)
    intervals += [(0.0, first, "startup", first), (last, m.seconds, "finish", m.seconds - last)]

    def innermost(t: float) -> str:
        inside = [(b - a, name) for a, b, name, _ in intervals if a <= t <= b]
        return min(inside)[1] if inside else "other"

    peak: dict[str, int] = {}
    cpu: dict[str, float] = {}
    prev_cpu = 0.0
    for t, rss, c in m.samples:
        name = innermost(t)
        peak[name] = max(peak.get(name, 0), rss)
        cpu[name] = cpu.get(name, 0.0) + max(0.0, c - prev_cpu)
        prev_cpu = c
    rows = []
    # top-level stages in the order they ended, each followed by its parts (those inside it)
    tops = sorted((i for i in intervals if not LABELS.get(i[2], "").startswith("  ")), key=lambda i: i[1])
    parts = [i for i in intervals if LABELS.get(i[2], "").startswith("  ")]
    order = []
    for top in tops:
        order.append(top)
        order += sorted((p for p in parts if top[0] - 0.2 <= p[0] and p[1] <= top[1] + 0.2), key=lambda i: i[1])
    for a, b, name, secs in order:
        inner = [n for a2, b2, n, _ in intervals if a <= a2 and b2 <= b and n != name]
        rows.append(
            {
                "stage": name,
                "label": LABELS.get(name, name),
                "seconds": secs,
                "cpu": cpu.get(name, 0.0) + sum(cpu.get(n, 0.0) for n in inner),
                "peak_mib": max([peak.get(name, 0)] + [peak.get(n, 0) for n in inner]) / 1024,
            }
        )
    return rows


def print_stage_table(title: str, m: Measured) -> None:
    print(
        f"\n{title}: {m.seconds:.1f} s wall, peak RSS {m.hwm_kb / 1024:.0f} MiB (VmHWM), "
        f"CPU {m.samples[-1][2] if m.samples else 0:.1f} s"
    )
    print("| stage | wall s | CPU s | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for r in stage_table(m):
        label = r["label"].replace("  ", "↳ ") if r["label"].startswith("  ") else r["label"]
        print(f"| {label} | {r['seconds']:.1f} | {r['cpu']:.1f} | {r['peak_mib']:.0f} |")


# ------------------------------------------------------------------ inputs


def prepare(workdir: Path, persons: int, seed: int, population_format: str) -> tuple[Path, Path]:
    sample = workdir / "sample"
    if not (sample / "truth" / f"{REGISTRY}.csv").exists():
        t = time.perf_counter()
        subprocess.run(
            [str(BIN / "doisoat"), "sample", "--persons", str(persons), "--seed", str(seed), "--out", str(sample)],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"# generated {persons:,} persons in {time.perf_counter() - t:.0f} s: {sample}", flush=True)
    population = sample / "population.csv"
    if population_format == "parquet":
        parquet = workdir / "population.parquet"
        if not parquet.exists():
            pl.read_csv(population, infer_schema=False).write_parquet(parquet)
        population = parquet
    return population, sample / f"{REGISTRY}.csv"


# ------------------------------------------------------------------ doisoat


def doisoat_predictions(db: Path, workdir: Path) -> str:
    """The last run's links as bench_matching.evaluate reads them; returns the run id."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        run_id = con.execute(
            "SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()[0]
        con.execute("SELECT rec_id, so_dinh_danh, status FROM links WHERE run_id = ?", [run_id]).pl().write_parquet(
            workdir / f"pred_doisoat_{REGISTRY}.parquet"
        )
    finally:
        con.close()
    return run_id


def run_doisoat(population: Path, registry_csv: Path, db: Path, out: Path) -> Measured:
    cmd = [
        str(BIN / "doisoat"),
        "run",
        REGISTRY,
        "--population",
        str(population),
        "--input",
        str(registry_csv),
        "--db",
        str(db),
        "--out",
        str(out),
        "--verbose",
    ]
    m = run_measured(cmd)
    if m.returncode:
        print("\n".join(m.stderr[-30:]), file=sys.stderr)
        raise SystemExit(f"doisoat run failed (exit {m.returncode})")
    return m


# ------------------------------------------------------------------ Splink (child process)

# Minimal cleaning a user does before Splink, in DuckDB: accent-free lower-case names (đ → d),
# the dates the files use parsed, digits of the IDs, the commune code where the file has one.
SPLINK_PREP = """
CREATE MACRO name_key(s) AS nullif(trim(regexp_replace(lower(strip_accents(replace(replace(s, 'đ', 'd'), 'Đ', 'D'))),
                                                      '[^a-z ]+|\\s+', ' ', 'g')), '');
CREATE MACRO digits(s) AS nullif(regexp_replace(s, '[^0-9]', '', 'g'), '');
CREATE MACRO dob(s) AS coalesce(try_strptime(trim(s), '%d/%m/%Y'), try_strptime(trim(s), '%Y-%m-%d'),
                                try_strptime(trim(s), '%d-%m-%Y'), try_strptime(trim(s), '%d.%m.%Y'));
CREATE MACRO sex(s) AS CASE lower(trim(s)) WHEN 'nam' THEN 'M' WHEN 'nữ' THEN 'F' WHEN 'nu' THEN 'F' END;
CREATE TABLE population AS
WITH raw AS (SELECT row_number() OVER () AS rec_id, * FROM read_csv($pop, all_varchar = true))
SELECT rec_id, name_key(ho_ten) AS ho_ten_key, split_part(name_key(ho_ten), ' ', -1) AS ten_key,
       year(dob(ngay_sinh)) AS ngay_sinh_year, month(dob(ngay_sinh)) AS ngay_sinh_month,
       day(dob(ngay_sinh)) AS ngay_sinh_day,
       sex(gioi_tinh) AS gioi_tinh, CASE WHEN length(digits(so_dinh_danh)) = 12 THEN digits(so_dinh_danh) END AS id12,
       CASE WHEN length(digits(so_cmnd_cu)) = 9 THEN digits(so_cmnd_cu) END AS cmnd9, ma_tinh, ma_xa,
       name_key(ho_ten_me) AS ho_ten_me_key, name_key(ho_ten_cha) AS ho_ten_cha_key
FROM raw;
CREATE TABLE registry AS
WITH raw AS (SELECT row_number() OVER () AS source_row, * FROM read_csv($reg, all_varchar = true))
SELECT source_row * 10 AS rec_id, name_key(ho_ten) AS ho_ten_key,
       split_part(name_key(ho_ten), ' ', -1) AS ten_key,
       year(dob(ngay_sinh)) AS ngay_sinh_year, month(dob(ngay_sinh)) AS ngay_sinh_month,
       day(dob(ngay_sinh)) AS ngay_sinh_day,
       sex(gioi_tinh) AS gioi_tinh, CASE WHEN length(digits(so_cccd)) = 12 THEN digits(so_cccd) END AS id12,
       CASE WHEN length(digits(so_cccd)) = 9 THEN digits(so_cccd) END AS cmnd9,
       NULL::VARCHAR AS ma_tinh, NULL::VARCHAR AS ma_xa, NULL::VARCHAR AS ho_ten_me_key, NULL::VARCHAR AS ho_ten_cha_key
FROM raw;
"""


def splink_worker(population_csv: Path, registry_csv: Path, workdir: Path) -> None:
    import duckdb
    from bench_matching import run_splink

    t0 = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET temp_directory = ?", [str(workdir / "duckdb_tmp")])
    for statement in filter(str.strip, SPLINK_PREP.split(";\n")):
        params = {k: v for k, v in (("pop", str(population_csv)), ("reg", str(registry_csv))) if f"${k}" in statement}
        con.execute(statement, params or None)
    t1 = time.perf_counter()
    links = run_splink(con, REGISTRY)
    links.write_parquet(workdir / f"pred_splink_{REGISTRY}.parquet")
    print(json.dumps({"prepare_s": t1 - t0, "train_predict_s": time.perf_counter() - t1}))


# ------------------------------------------------------------------ main


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=50_000, help="persons in the extract (welfare rows: 10 %%)")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--workdir", type=Path, default=None, help="default: bench/out/e2e_<persons>")
    ap.add_argument("--population-format", choices=("parquet", "csv"), default="parquet")
    ap.add_argument("--tools", default="doisoat,splink")
    ap.add_argument("--no-warm", action="store_true", help="skip the warm run (extract cached in the warehouse)")
    ap.add_argument("--splink-worker", nargs=2, metavar=("POP_CSV", "REG_CSV"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    workdir = args.workdir or ROOT / "bench" / "out" / f"e2e_{args.persons}"
    if args.splink_worker:
        splink_worker(Path(args.splink_worker[0]), Path(args.splink_worker[1]), workdir)
        return
    workdir.mkdir(parents=True, exist_ok=True)
    population, registry_csv = prepare(workdir, args.persons, args.seed, args.population_format)
    rows = pl.scan_csv(registry_csv, infer_schema=False).select(pl.len()).collect().item()
    print(
        f"# {args.persons:,} persons ({population.name}) x {rows:,} {REGISTRY} rows; {os.cpu_count()} CPUs; "
        f"load average before: {load_average()}",
        flush=True,
    )
    from bench_matching import evaluate

    results = {}
    if "doisoat" in args.tools:
        db, out = workdir / "warehouse.duckdb", workdir / "reports"
        for p in (db, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
        for kind in ("cold", "warm")[: 1 if args.no_warm else 2]:
            m = run_doisoat(population, registry_csv, db, out)
            print_stage_table(f"## doisoat run, {kind} (load average after: {load_average()})", m)
            results[f"doisoat {kind}"] = m
        run_id = doisoat_predictions(db, workdir)
        sizes = {p.name: p.stat().st_size for p in (out / run_id).glob("*") if p.is_file()}
        print("report files: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    if "splink" in args.tools:
        shutil.rmtree(workdir / "duckdb_tmp", ignore_errors=True)
        cmd = [
            sys.executable,
            __file__,
            "--persons",
            str(args.persons),
            "--workdir",
            str(workdir),
            "--splink-worker",
            str(workdir / "sample" / "population.csv"),
            str(registry_csv),
        ]
        m = run_measured(cmd)
        if m.returncode:
            print("\n".join(m.stderr[-30:]), file=sys.stderr)
            raise SystemExit(f"Splink run failed (exit {m.returncode})")
        phases = json.loads(m.stdout.strip().splitlines()[-1])
        print(
            f"\n## Splink 5 complete run (load average after: {load_average()}): {m.seconds:.1f} s wall "
            f"(prepare {phases['prepare_s']:.1f} s, train + predict {phases['train_predict_s']:.1f} s), "
            f"peak RSS {m.hwm_kb / 1024:.0f} MiB, CPU {m.samples[-1][2] if m.samples else 0:.1f} s"
        )
        results["splink"] = m

    print("\n| run | wall s | CPU s | peak RSS MiB | precision | recall | F1 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, m in results.items():
        ev = evaluate(workdir, REGISTRY, name.split()[0])
        cpu = m.samples[-1][2] if m.samples else 0.0
        print(
            f"| {name} | {m.seconds:.1f} | {cpu:.1f} | {m.hwm_kb / 1024:.0f} | "
            f"{ev['precision']:.4f} | {ev['recall']:.4f} | {ev['f1']:.4f} |"
        )
    if "splink" in results:
        for kind in ("cold", "warm"):
            if f"doisoat {kind}" in results:
                d, s = results[f"doisoat {kind}"], results["splink"]
                print(
                    f"Splink / doisoat {kind}: wall {s.seconds / d.seconds:.2f}x, "
                    f"peak RSS {s.hwm_kb / max(d.hwm_kb, 1):.2f}x"
                )
    print(f"# load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
