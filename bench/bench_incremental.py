"""Benchmark: next month's run — incremental against full, as an officer runs it (issue 14).

    .venv/bin/python bench/bench_incremental.py                          # 50,000 persons x 5,000 welfare rows
    .venv/bin/python bench/bench_incremental.py --persons 1000000 --sample /tmp/e2e1m/sample   # the issue's size
    .venv/bin/python bench/bench_incremental.py --persons 1000000 --months 12 --no-full   # storage over a year

1. Month 1 = `doisoat sample --persons N` (bench_end_to_end.prepare; or `--sample DIR`, read only:
   the changed months are written to the work folder). Each next month is generated from the one
   before (`next_month`, seeded): the extract with `--person-change` (0.5 %) of its persons changed —
   deaths, moves to another commune, corrected names, re-issued IDs (the old one gone) and new
   persons — and the welfare file with `--row-change` (1 %) of its rows changed — removed, added
   (persons of the extract not yet listed), corrected (name re-typed, date of birth, amount) — and
   the whole file re-sorted. Extracts are written as all-text Parquet, as bench_end_to_end does.
2. `doisoat run social_welfare --verbose` as a process (files in, reports out, the CLI's own mode
   choice): month 1 on warehouse A (first run), then month 2 on A (incremental, the default) and on
   B = A's copy after month 1 with `--full` (and on C with `--retrain` when `--retrain` is given);
   months 3.. on A only. Wall time, CPU seconds and peak RSS per run and per stage come from
   bench_end_to_end's sampler (`run_measured`, `stage_table`).
3. Both month-2 runs must give identical links and findings: compared in DuckDB (A and B attached,
   EXCEPT ALL both ways per table; the month-2 run id itself is the one column that differs).
4. After every run of A: the warehouse blocks in use after CHECKPOINT and each table's rows and
   estimated size (`duckdb_tables()`), and its growth since the run before — what a month costs
   on disk (issue 14 item 7).

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from bench_end_to_end import (  # noqa: E402 (bench/ on the path first)
    BIN,
    REGISTRY,
    Measured,
    load_average,
    prepare,
    print_stage_table,
    run_measured,
    stage_table,
)

# Tables compared between the incremental and the full month-2 run (links and every finding).
COMPARED = ("links", "mismatches", "missing_fields", "duplicates", "alerts", "coverage")


# ------------------------------------------------------------------ generated months


def _reissued(ids: pl.Series, rnd: random.Random) -> pl.Series:
    """Same province, century/sex and birth-year digits, new serial: a re-issued ID."""
    return pl.Series([s[:6] + f"{rnd.randrange(10**6):06d}" for s in ids.to_list()], dtype=pl.String)


def next_month(
    pop: pl.DataFrame, reg: pl.DataFrame, month: int, person_change: float, row_change: float
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """The next month's extract and welfare file; returns what was changed, counted."""
    rnd = random.Random(month)
    if person_change == 0:  # the same extract every month (the registry's storage alone)
        reg, facts = _next_registry(reg, pop, month, row_change)
        return pop, reg, facts
    n = max(5, round(pop.height * person_change / 5))  # five kinds of person change
    alive = pop.filter(pl.col("ngay_mat").is_null() | (pl.col("ngay_mat") == ""))["so_dinh_danh"].drop_nulls()
    chosen = alive.sample(4 * n, seed=month).to_list()
    dead, moved, renamed, new_id = (set(chosen[i * n : (i + 1) * n]) for i in range(4))
    communes = pop.select("ma_xa", "ten_xa", "dia_chi_thuong_tru").unique(subset="ma_xa").sort("ma_xa")
    target = communes.sample(len(moved), with_replacement=True, seed=month).with_columns(
        pl.Series("so_dinh_danh", sorted(moved), dtype=pl.String)
    )
    replaced = dict(zip(sorted(new_id), _reissued(pl.Series(sorted(new_id)), rnd).to_list(), strict=True))
    pop = (
        pop.join(target, on="so_dinh_danh", how="left", suffix="_moi")
        .with_columns(
            pl.when(pl.col("so_dinh_danh").is_in(dead))
            .then(pl.lit(f"15/{month % 12 + 1:02d}/2026"))
            .otherwise("ngay_mat")
            .alias("ngay_mat"),
            *(pl.coalesce(f"{c}_moi", c).alias(c) for c in ("ma_xa", "ten_xa", "dia_chi_thuong_tru")),
            pl.when(pl.col("so_dinh_danh").is_in(renamed))
            .then(pl.col("ho_ten").str.replace(r"\s\S+$", " Hoàng"))
            .otherwise("ho_ten")
            .alias("ho_ten"),
            pl.col("so_dinh_danh").replace(replaced),
        )
        .drop("ma_xa_moi", "ten_xa_moi", "dia_chi_thuong_tru_moi")
    )
    newcomers = pop.sample(n, seed=1000 + month).with_columns(
        _reissued(pop.sample(n, seed=1000 + month)["so_dinh_danh"], rnd).alias("so_dinh_danh"),
        pl.col("ho_ten").str.replace(r"\s\S+$", " Khuê"),
        pl.lit(None, dtype=pl.String).alias("so_cmnd_cu"),
        pl.lit(None, dtype=pl.String).alias("ngay_mat"),
    )
    pop = pl.concat([pop, newcomers])
    reg, facts = _next_registry(reg, pop, month, row_change)
    facts.update(
        persons_dead=len(dead),
        persons_moved=len(moved),
        persons_renamed=len(renamed),
        persons_new_id=len(new_id),
        persons_new=newcomers.height,
    )
    return pop, reg, facts


def _next_registry(reg: pl.DataFrame, pop: pl.DataFrame, month: int, row_change: float) -> tuple[pl.DataFrame, dict]:
    """The welfare file's monthly changes: rows removed, added, corrected; the file re-sorted."""
    k = max(4, round(reg.height * row_change / 4))  # removed, added, corrected twice as often
    keys = reg["ma_doi_tuong"].sample(3 * k, seed=month).to_list()
    removed, corrected = set(keys[:k]), keys[k:]
    names, dates = set(corrected[: k // 2]), set(corrected[k // 2 : k])
    amounts = set(corrected[k:])
    reg = reg.filter(~pl.col("ma_doi_tuong").is_in(removed)).with_columns(
        pl.when(pl.col("ma_doi_tuong").is_in(names))
        .then(pl.col("ho_ten").str.to_uppercase())
        .otherwise("ho_ten")
        .alias("ho_ten"),
        pl.when(pl.col("ma_doi_tuong").is_in(dates))
        .then(pl.lit("01/01/1950"))
        .otherwise("ngay_sinh")
        .alias("ngay_sinh"),
        pl.when(pl.col("ma_doi_tuong").is_in(amounts))
        .then(pl.lit("1000000"))
        .otherwise("muc_tro_cap")
        .alias("muc_tro_cap"),
    )
    listed = reg["so_cccd"].drop_nulls()
    fresh = pop.filter(~pl.col("so_dinh_danh").is_in(listed.implode()) & pl.col("ngay_mat").is_null()).sample(
        k, seed=month
    )
    added = fresh.select(
        pl.format("BTXHM{}N{}", pl.lit(month), pl.int_range(pl.len())).alias("ma_doi_tuong"),
        "ho_ten",
        "ngay_sinh",
        "gioi_tinh",
        pl.col("so_dinh_danh").alias("so_cccd"),
        pl.col("dia_chi_thuong_tru").alias("dia_chi"),
        pl.lit("Người cao tuổi").alias("loai_doi_tuong"),
        pl.lit("500000").alias("muc_tro_cap"),
        pl.lit("Tiền mặt").alias("hinh_thuc_chi_tra"),
        pl.lit(None, dtype=pl.String).alias("so_tai_khoan"),
        pl.lit(None, dtype=pl.String).alias("ngan_hang"),
    )
    reg = pl.concat([reg, added.select(reg.columns)]).sample(fraction=1.0, shuffle=True, seed=month)
    facts = {
        "rows_removed": len(removed),
        "rows_added": added.height,
        "rows_corrected": len(names) + len(dates) + len(amounts),
    }
    return reg, facts


def make_months(workdir: Path, sample: Path | None, persons: int, seed: int, months: int, args) -> list[tuple]:
    """[(population.parquet, social_welfare.csv)] for months 1..months (written once, reused)."""
    if sample is None:
        population, registry = prepare(workdir, persons, seed, "parquet")
    else:
        population, registry = workdir / "population.parquet", sample / f"{REGISTRY}.csv"
        if not population.exists():
            pl.read_csv(sample / "population.csv", infer_schema=False).write_parquet(population)
    files = [(population, registry)]
    pop = reg = None
    for month in range(2, months + 1):
        folder = workdir / f"month_{month:02d}"
        pop_file, reg_file = folder / "population.parquet", folder / f"{REGISTRY}.csv"
        if not args.person_change:
            pop_file = population  # the same extract file: the run reads its normalized copy back
        if not reg_file.exists():
            if pop is None:
                pop = pl.read_parquet(files[-1][0])
                reg = pl.read_csv(files[-1][1], infer_schema=False)
            t = time.perf_counter()
            pop, reg, facts = next_month(pop, reg, month, args.person_change, args.row_change)
            folder.mkdir(parents=True, exist_ok=True)
            if args.person_change:
                pop.write_parquet(pop_file)
            reg.write_csv(reg_file)
            print(f"# month {month} generated in {time.perf_counter() - t:.0f} s: {facts}", flush=True)
        else:
            pop = reg = None  # read lazily if a later month must be generated
        files.append((pop_file, reg_file))
    return files


# ------------------------------------------------------------------ runs and comparisons


def run(population: Path, registry: Path, db: Path, out: Path, *flags: str) -> Measured:
    cmd = [str(BIN / "doisoat"), "run", REGISTRY, "--population", str(population), "--input", str(registry)]
    cmd += ["--db", str(db), "--out", str(out), "--verbose", *flags]
    m = run_measured(cmd)
    if m.returncode:
        print("\n".join(m.stderr[-30:]), file=sys.stderr)
        raise SystemExit(f"doisoat run failed (exit {m.returncode}): {' '.join(flags)}")
    return m


def last_run(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        row = con.execute(
            "SELECT run_id, mode, row_counts->>'links_kept' AS kept FROM runs WHERE status = 'succeeded' "
            "ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return {"run_id": row[0], "mode": row[1], "kept": int(row[2] or 0)}


def differences(a: Path, run_a: str, b: Path, run_b: str) -> dict[str, tuple[int, int, int]]:
    """Per compared table: (rows in A, rows only in A, rows only in B); the run's own id is
    replaced by 'this run' in link_from_run, floats rounded (summation order)."""
    con = duckdb.connect()
    out = {}
    try:
        con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
        con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
        for table in COMPARED:
            cols = con.execute(
                "SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = 'a' AND table_name = ? "
                "AND column_name <> 'run_id' ORDER BY column_index",
                [table],
            ).fetchall()

            def select(db: str, run_id: str, cols=cols, table=table) -> str:
                exprs = []
                for c, t in cols:
                    if c == "link_from_run":
                        exprs.append(f"CASE WHEN link_from_run = '{run_id}' THEN 'this run' ELSE link_from_run END")
                    elif t == "DOUBLE":
                        exprs.append(f"round({c}, 6)")
                    else:
                        exprs.append(f'"{c}"')
                return f"SELECT {', '.join(exprs)} FROM {db}.{table} WHERE run_id = '{run_id}'"

            qa, qb = select("a", run_a), select("b", run_b)
            total = con.execute(f"SELECT count(*) FROM ({qa})").fetchone()[0]
            only_a = con.execute(f"SELECT count(*) FROM ({qa} EXCEPT ALL {qb})").fetchone()[0]
            only_b = con.execute(f"SELECT count(*) FROM ({qb} EXCEPT ALL {qa})").fetchone()[0]
            out[table] = (total, only_a, only_b)
    finally:
        con.close()
    return out


# Each table's blocks (a segment's own and its additional ones); a block two tables share counts
# half to each, so the tables' shares add up to the blocks in use.
TABLE_BLOCKS_SQL = """
WITH segments AS (
    {segments}
),
blocks AS (
    SELECT DISTINCT table_name, block_id FROM segments
    UNION
    SELECT DISTINCT table_name, unnest(additional_block_ids) FROM segments
),
shared AS (SELECT block_id, count(*) AS tables FROM blocks GROUP BY block_id)
SELECT b.table_name, sum(1.0 / s.tables) AS blocks
FROM blocks b JOIN shared s USING (block_id)
GROUP BY b.table_name
"""


def storage(db: Path) -> tuple[int, dict[str, tuple[int, int]]]:
    """Bytes in use after CHECKPOINT (used blocks: the file itself keeps freed blocks for reuse), and
    per table (rows, bytes of its share of the blocks)."""
    con = duckdb.connect(str(db))
    try:
        con.execute("CHECKPOINT")
        block_size, used = con.execute("SELECT block_size, used_blocks FROM pragma_database_size()").fetchone()
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' "
                "AND database_name = current_database()"
            ).fetchall()
        ]
        # pragma_storage_info takes a literal only: one SELECT per table (names from the catalog)
        segments = " UNION ALL ".join(
            f"SELECT '{n}' AS table_name, block_id, additional_block_ids FROM pragma_storage_info('{n}') "
            "WHERE block_id IS NOT NULL"
            for n in names
        )
        blocks = dict(con.execute(TABLE_BLOCKS_SQL.format(segments=segments)).fetchall())
        rows = {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()
    return used * block_size, {t: (n, int(blocks.get(t, 0) * block_size)) for t, n in rows.items()}


def print_storage(history: list[tuple[str, int, dict]]) -> None:
    print("\n## Warehouse A after each run (blocks in use after CHECKPOINT; per table: rows / MB of its blocks)")
    print("| after | used MB | growth MB | " + " | ".join(_biggest(history)) + " |")
    print("|---|---:|---:|" + "---:|" * len(_biggest(history)))
    prev = 0
    for label, size, tables in history:
        cells = []
        for t in _biggest(history):
            rows, nbytes = tables.get(t, (0, 0))
            cells.append(f"{rows:,} / {nbytes / 1e6:.1f}")
        print(f"| {label} | {size / 1e6:.1f} | {(size - prev) / 1e6:+.1f} | " + " | ".join(cells) + " |")
        prev = size
    if len(history) >= 3:
        label, size, tables = history[-1]
        first = history[0]
        per = (size - first[1]) / (len(history) - 1)
        print(f"average growth per incremental month: {per / 1e6:.1f} MB (first run {first[1] / 1e6:.1f} MB)")
        print("per table, average growth per incremental month (rows / MB):")
        for t in _biggest(history):
            r0, b0 = first[2].get(t, (0, 0))
            r1, b1 = tables.get(t, (0, 0))
            print(f"  {t}: {(r1 - r0) / (len(history) - 1):,.0f} rows / {(b1 - b0) / (len(history) - 1) / 1e6:.2f} MB")


def _biggest(history: list[tuple[str, int, dict]]) -> list[str]:
    last = history[-1][2]
    return [t for t, (rows, size) in sorted(last.items(), key=lambda kv: -kv[1][1]) if size > 0][:9]


def print_runs(results: dict[str, Measured]) -> None:
    print("\n| run | wall s | CPU s | peak RSS MiB |")
    print("|---|---:|---:|---:|")
    for name, m in results.items():
        cpu = m.samples[-1][2] if m.samples else 0.0
        print(f"| {name} | {m.seconds:.1f} | {cpu:.1f} | {m.hwm_kb / 1024:.0f} |")


def print_stage_comparison(inc: Measured, full: Measured) -> None:
    """Month 2 stage by stage: where the incremental run still spends its time."""
    a = {r["stage"]: r for r in stage_table(inc)}
    b = {r["stage"]: r for r in stage_table(full)}
    print("\n## Month 2, stage by stage: incremental vs full (wall s / CPU s)")
    print("| stage | incremental wall | incremental CPU | full wall | full CPU | full/incr wall |")
    print("|---|---:|---:|---:|---:|---:|")
    for stage in list(dict.fromkeys([*b, *a])):
        ra, rb = a.get(stage), b.get(stage)
        label = (ra or rb)["label"].replace("  ", "↳ ")
        wa, wb = (ra or {}).get("seconds", 0.0), (rb or {}).get("seconds", 0.0)
        ca, cb = (ra or {}).get("cpu", 0.0), (rb or {}).get("cpu", 0.0)
        ratio = f"{wb / wa:.1f}x" if wa >= 0.05 else "—"
        print(f"| {label} | {wa:.1f} | {ca:.1f} | {wb:.1f} | {cb:.1f} | {ratio} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=50_000, help="persons in the extract (welfare rows: 10 %%)")
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--sample", type=Path, help="an existing `doisoat sample` folder (read only)")
    ap.add_argument("--workdir", type=Path, default=None, help="default: bench/out/incr_<persons>")
    ap.add_argument("--months", type=int, default=2, help="months run on warehouse A (2 = the benchmark)")
    ap.add_argument("--person-change", type=float, default=0.005, help="share of the extract's persons changed")
    ap.add_argument("--row-change", type=float, default=0.01, help="share of the welfare rows changed")
    ap.add_argument("--no-full", action="store_true", help="skip month 2 with --full (storage measurement only)")
    ap.add_argument("--retrain", action="store_true", help="also run month 2 with --retrain on a third copy")
    args = ap.parse_args()
    workdir = args.workdir or ROOT / "bench" / "out" / f"incr_{args.persons}"
    workdir.mkdir(parents=True, exist_ok=True)
    files = make_months(workdir, args.sample, args.persons, args.seed, max(2, args.months), args)
    rows = pl.scan_csv(files[0][1], infer_schema=False).select(pl.len()).collect().item()
    print(
        f"# {args.persons:,} persons x {rows:,} {REGISTRY} rows; months: {args.months}; {os.cpu_count()} CPUs; "
        f"load average before: {load_average()}",
        flush=True,
    )
    a, b, c = (workdir / f"warehouse_{x}.duckdb" for x in "abc")
    for db in (a, b, c):
        for p in (db, Path(f"{db}.wal")):
            p.unlink(missing_ok=True)
    shutil.rmtree(workdir / "reports", ignore_errors=True)
    results: dict[str, Measured] = {}
    history: list[tuple[str, int, dict]] = []

    m = run(*files[0], a, workdir / "reports" / "a")
    print_stage_table(f"## month 1 on A: {last_run(a)['mode']} (load average after: {load_average()})", m)
    results["month 1 (first)"] = m
    history.append(("month 1", *storage(a)))
    month1 = last_run(a)["run_id"]
    shutil.copy(a, b)
    if args.retrain:
        shutil.copy(a, c)

    for month in range(2, args.months + 1):
        m = run(*files[month - 1], a, workdir / "reports" / "a")
        info = last_run(a)
        print_stage_table(
            f"## month {month} on A: {info['mode']}, {info['kept']:,} links kept (load average after: "
            f"{load_average()})",
            m,
        )
        results[f"month {month} incremental"] = m
        history.append((f"month {month}", *storage(a)))
        if month == 2:
            month2_a = info["run_id"]
            variants = [] if args.no_full else [("full", b, "--full")]
            variants += [("retrain", c, "--retrain")] if args.retrain else []
            for name, db, flag in variants:
                m = run(*files[1], db, workdir / "reports" / name, flag)
                info_v = last_run(db)
                print_stage_table(f"## month 2 on {db.stem[-1].upper()}: {info_v['mode']} ({flag})", m)
                results[f"month 2 {name}"] = m
                if name == "full":
                    print_stage_comparison(results["month 2 incremental"], m)
                    diff = differences(a, month2_a, db, info_v["run_id"])
                    print("\n## Month 2: incremental (A) vs full (B), rows / only in A / only in B")
                    for table, (n, only_a, only_b) in diff.items():
                        print(f"  {table}: {n:,} / {only_a} / {only_b}")
                    same = all(x == y == 0 for _, x, y in diff.values())
                    print("identical links and findings" if same else "DIFFERENT: see the counts above")
    print_runs(results)
    if "month 2 full" in results:
        inc, full = results["month 2 incremental"], results["month 2 full"]
        print(
            f"full / incremental, month 2: wall {full.seconds / inc.seconds:.2f}x, "
            f"CPU {full.samples[-1][2] / max(inc.samples[-1][2], 0.1):.2f}x"
        )
    print_storage(history)
    print(f"# month 1 run: {month1}; load average at the end: {load_average()}")


if __name__ == "__main__":
    main()
