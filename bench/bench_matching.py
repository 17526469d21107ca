"""Benchmark: doisoat's matcher against Splink 5 on the same normalized sample, per registry.

    .venv/bin/python bench/bench_matching.py --persons 1000000            # 100,000 welfare rows
    .venv/bin/python bench/bench_matching.py --persons 50000 --tools doisoat

1. generate the sample (pipelines.sample.generator.generate) unless it is already in --workdir;
2. prepare population and registries exactly as `doisoat run` does (pipelines.normalize: ingest →
   normalize → person schema, land owners exploded with the pipeline's fallback record;
   pipelines.match.engine_input) once — both tools read these same parquet files;
3. run each tool on each registry in its own child process (so peak memory is the tool's own:
   ru_maxrss of the child), timing the matching only (load excluded, model training included);
4. score against truth/: precision, recall, F1 over persons present in CSDLQG, share of absent
   persons linked to anyone, and recall by defect code.

A doisoat link is a row with status `matched` or `duplicate` (review rows are counted apart,
never as links). A Splink link is the best candidate of a registry row with probability >= 0.9.
Splink is configured as a competent user would: lower-cased accent-free names with term
frequencies, parsed dates, ID/CMND/sex/commune exact comparisons (parents' names for births),
blocking rules, lambda from deterministic ID rules, u by random sampling, m by EM.
Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REGISTRIES = ("social_welfare", "pension", "civil_births", "civil_deaths", "land")


# ------------------------------------------------------------------ prepare (parent process)


def registry_input(spec, path: Path) -> pl.DataFrame:
    """What `doisoat run` hands the matcher for one registry file: ingest → normalize → person
    schema (land owners exploded by pipelines/land/owners.py, its fallback record included)."""
    # imported here, not at the top: the workers (child processes) import this file too, and
    # their peak memory must be the matcher's own, not the normalizer's and the ingestion's
    from pipelines.match import engine_input
    from pipelines.normalize import (
        ingest_registry,
        normalize_registry,
        registry_persons,
    )

    rows = normalize_registry(spec, ingest_registry(spec, path))
    return engine_input(registry_persons(spec, rows))


def population_input(path: Path) -> pl.DataFrame:
    """What `doisoat run` hands the matcher for the extract (the warehouse cache left out)."""
    from pipelines.normalize import (  # see registry_input
        population_persons,
        read_population,
    )

    return population_persons(read_population(path))


def prepare(workdir: Path, persons: int, welfare_rows: int | None, seed: int) -> dict:
    from pipelines.registries import REGISTRIES as SPECS
    from pipelines.sample.generator import generate

    sample = workdir / "sample"
    timings = {}
    if not (sample / "truth" / "land.csv").exists():
        t = time.perf_counter()
        fractions = {"social_welfare": welfare_rows / persons} if welfare_rows else None
        generate(persons, seed, sample, fractions=fractions)
        timings["generate"] = time.perf_counter() - t
    out = workdir / "persons"
    out.mkdir(exist_ok=True)
    if not (out / "population.parquet").exists():
        t = time.perf_counter()
        population_input(sample / "population.csv").write_parquet(out / "population.parquet")
        timings["normalize_population"] = time.perf_counter() - t
    for name in REGISTRIES:
        if (out / f"{name}.parquet").exists():
            continue
        t = time.perf_counter()
        registry_input(SPECS[name], sample / f"{name}.csv").write_parquet(out / f"{name}.parquet")
        timings[f"normalize_{name}"] = time.perf_counter() - t
    return timings


def prepare_chunked(workdir: Path, persons: int, chunk: int, seed: int) -> dict:
    """A population too large for the generator's memory, built from independent chunks.

    Chunk k is `generate(chunk, seed + k)` with only the welfare registry of full size (10 % of
    the chunk); the population parquet concatenates the chunks' persons (rec_id offset k * 10^7)
    and the welfare parquet their registries (source_row offset k * 10^7, so rec_id offset
    k * 10^8), with a matching combined truth file. Chunks draw IDs independently, so a few IDs
    may repeat across chunks — the deterministic pass then sees them as ambiguous, as it should.
    """
    import shutil

    from pipelines.registries import REGISTRIES as SPECS
    from pipelines.sample.generator import generate

    out = workdir / "persons"
    out.mkdir(parents=True, exist_ok=True)
    (workdir / "sample" / "truth").mkdir(parents=True, exist_ok=True)
    spec = SPECS["social_welfare"]
    small = {"pension": 1e-4, "civil_births": 1e-4, "civil_deaths": 1e-4, "land": 1e-4}
    timings: dict[str, float] = {}
    for k in range(persons // chunk):
        if (out / f"population_{k}.parquet").exists():
            continue
        t = time.perf_counter()
        d = workdir / f"chunk_{k}"
        generate(chunk, seed + k, d, fractions=small)
        population_input(d / "population.csv").with_columns(pl.col("rec_id") + k * 10**7).write_parquet(
            out / f"population_{k}.parquet"
        )
        # rec_id = source_row * 10 + owner_index: a source_row offset of k * 10^7 is a rec_id offset of k * 10^8
        registry_input(spec, d / "social_welfare.csv").with_columns(pl.col("rec_id") + k * 10**8).write_parquet(
            out / f"social_welfare_{k}.parquet"
        )
        truth = pl.read_csv(d / "truth" / "social_welfare.csv", infer_schema=False).with_columns(
            (pl.col("source_row").cast(pl.Int64) + k * 10**7).cast(pl.String)
        )
        truth.write_csv(out / f"truth_{k}.csv")
        shutil.rmtree(d)
        timings[f"chunk_{k}"] = time.perf_counter() - t
        print(f"# chunk {k}: {timings[f'chunk_{k}']:.0f}s", flush=True)
    n = persons // chunk
    pl.concat([pl.read_parquet(out / f"population_{k}.parquet") for k in range(n)]).write_parquet(
        out / "population.parquet"
    )
    pl.concat([pl.read_parquet(out / f"social_welfare_{k}.parquet") for k in range(n)]).write_parquet(
        out / "social_welfare.parquet"
    )
    pl.concat([pl.read_csv(out / f"truth_{k}.csv", infer_schema=False) for k in range(n)]).write_csv(
        workdir / "sample" / "truth" / "social_welfare.csv"
    )
    return timings


# ------------------------------------------------------------------ workers (child processes)


def _load(con, workdir: Path, registry: str) -> None:
    for table, f in (("registry", registry), ("population", "population")):
        path = str(workdir / "persons" / f"{f}.parquet")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet($p)", {"p": path})


def run_doisoat(con, registry: str) -> pl.DataFrame:
    from matching.link import link_records
    from pipelines.registries import REGISTRIES as SPECS

    res = link_records(con, "registry", "population", SPECS[registry].match)
    print(json.dumps({"doisoat_timings": res.timings, "blocking": dict(res.blocking.iter_rows())}), file=sys.stderr)
    return res.links.select("rec_id", "so_dinh_danh", "status")


def splink_linker(con, registry_table: str, reference: tuple[str, str], comparisons: list, rules: list):
    """A link_only Splink 5 linker between two tables of `con` (registry first, then the reference
    table with its display name), as the matching and FEBRL benchmarks both configure it."""
    import logging

    from splink import DuckDBAPI, Linker, SettingsCreator

    settings = SettingsCreator(
        link_type="link_only",
        unique_id_column_name="unique_id",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )
    db = DuckDBAPI(connection=con)
    inputs = [
        db.register(registry_table, dataset_display_name="registry"),
        db.register(reference[0], dataset_display_name=reference[1]),
    ]
    return Linker(inputs, settings, log_level=logging.WARNING)


def run_splink(con, registry: str) -> pl.DataFrame:
    import splink.comparison_library as cl
    from splink import block_on

    # What a competent user feeds Splink: lower-case accent-free names, parsed dates.
    for t in ("registry", "population"):
        con.execute(
            f"""
            CREATE TABLE sp_{t} AS SELECT rec_id AS unique_id, ho_ten_key, split_part(ho_ten_key, ' ', 1) AS ho,
                   ten_key, CASE WHEN ngay_sinh_day IS NOT NULL THEN
                       printf('%04d-%02d-%02d', ngay_sinh_year, ngay_sinh_month, ngay_sinh_day) END AS dob,
                   ngay_sinh_year AS nam_sinh, gioi_tinh, id12, cmnd9, ma_tinh, ma_xa, ho_ten_me_key, ho_ten_cha_key
            FROM {t}
            """
        )
    births = registry == "civil_births"
    comparisons = [
        cl.NameComparison("ho_ten_key").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison("dob", input_is_string=True),
        cl.ExactMatch("nam_sinh"),
        cl.ExactMatch("gioi_tinh"),
        cl.ExactMatch("id12"),
        cl.ExactMatch("cmnd9"),
        cl.ExactMatch("ma_xa"),
    ]
    if births:
        comparisons += [cl.NameComparison("ho_ten_me_key"), cl.NameComparison("ho_ten_cha_key")]
    rules = [
        block_on("id12"),
        block_on("cmnd9"),
        block_on("ho_ten_key", "nam_sinh"),
        block_on("dob", "ten_key"),
        block_on("dob", "ma_xa"),
        block_on("ten_key", "nam_sinh", "ma_xa"),
    ]
    if births:
        rules.append(block_on("ho_ten_me_key", "nam_sinh"))
    linker = splink_linker(con, "sp_registry", ("sp_population", "population"), comparisons, rules)
    linker.training.estimate_probability_two_random_records_match([block_on("id12"), block_on("cmnd9")], recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    # two EM sessions so every comparison is trained in one of them (a session does not train
    # the comparisons its blocking rule uses); land has no full dates, so year + commune there
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("ho_ten_key", "nam_sinh"))
    has_dob = con.execute("SELECT count(dob) FROM sp_registry").fetchone()[0] > 0
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("dob") if has_dob else block_on("nam_sinh", "ma_xa")
    )
    pred = linker.inference.predict(threshold_match_probability=0.9)
    name = pred.physical_name
    cols = [r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()]
    # which side is the registry: Splink orders the two inputs; use source_dataset when present
    if "source_dataset_l" in cols:
        sides = con.execute(f"SELECT DISTINCT source_dataset_l, source_dataset_r FROM {name} LIMIT 1").fetchone()
        reg_l = sides is None or "registry" in str(sides[0]) or str(sides[0]).endswith("_0")
    else:
        reg_l = True
    reg, pop = ("unique_id_l", "unique_id_r") if reg_l else ("unique_id_r", "unique_id_l")
    best = con.execute(
        f"""
        SELECT {reg} AS rec_id, p.id12 AS so_dinh_danh, 'matched' AS status
        FROM {name} s JOIN population p ON p.rec_id = s.{pop}
        QUALIFY row_number() OVER (PARTITION BY {reg} ORDER BY match_probability DESC, {pop}) = 1
        """
    ).pl()
    return (
        con.execute("SELECT rec_id FROM registry")
        .pl()
        .join(best, on="rec_id", how="left")
        .with_columns(pl.col("status").fill_null("unmatched"))
    )


def worker(tool: str, registry: str, workdir: Path) -> None:
    import duckdb

    con = duckdb.connect()
    # spill files go to the benchmark's work folder (an in-memory DuckDB spills into the current
    # directory otherwise: Splink at 10M x 1M wrote 45 GB there)
    con.execute("SET temp_directory = ?", [str(workdir / "duckdb_tmp")])
    _load(con, workdir, registry)
    t = time.perf_counter()
    links = run_doisoat(con, registry) if tool == "doisoat" else run_splink(con, registry)
    seconds = time.perf_counter() - t
    links.write_parquet(workdir / f"pred_{tool}_{registry}.parquet")
    print(json.dumps({"seconds": seconds, "peak_mib": _peak_mib()}))


def _peak_mib() -> float:
    """This process's own peak RSS. Not ru_maxrss: Linux carries the parent's high-water mark
    across fork+exec, so a worker started from a parent holding the generated sample would
    report the parent's peak. VmHWM belongs to the worker's own address space."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ evaluation


def truth(workdir: Path, registry: str) -> pl.DataFrame:
    t = pl.read_csv(workdir / "sample" / "truth" / f"{registry}.csv", infer_schema=False)
    return t.select(
        (pl.col("source_row").cast(pl.Int64) * 10 + pl.col("owner_index").cast(pl.Int64)).alias("rec_id"),
        pl.col("so_dinh_danh").replace("", None).alias("true_id"),
        "entity",
        pl.col("defects").fill_null("").str.split(";").list.filter(pl.element() != "").alias("defects"),
    )


def evaluate(workdir: Path, registry: str, tool: str) -> dict:
    t = truth(workdir, registry)
    pred = pl.read_parquet(workdir / f"pred_{tool}_{registry}.parquet")
    df = t.join(pred, on="rec_id", how="left").with_columns(
        pl.when(pl.col("status").is_in(["matched", "duplicate"])).then(pl.col("so_dinh_danh")).alias("linked")
    )
    linked = df.filter(pl.col("linked").is_not_null())
    tp = linked.filter(pl.col("linked") == pl.col("true_id")).height
    fp = linked.height - tp
    positives = df.filter(pl.col("true_id").is_not_null()).height
    absent = df.filter(pl.col("entity") == "absent")
    p = tp / linked.height if linked.height else 1.0
    r = tp / positives if positives else 1.0
    by_defect = (
        df.filter(pl.col("true_id").is_not_null())
        .explode("defects")
        .drop_nulls("defects")
        .group_by("defects")
        .agg(pl.len().alias("n"), (pl.col("linked") == pl.col("true_id")).fill_null(False).mean().alias("recall"))
        .sort("defects")
    )
    review = df.filter(pl.col("status") == "review")
    return {
        "rows": df.height,
        "precision": p,
        "recall": r,
        "f1": 2 * p * r / (p + r) if p + r else 0.0,
        "false_links": fp,
        "missed": positives - tp,
        "absent_linked": absent.filter(pl.col("linked").is_not_null()).height / absent.height if absent.height else 0.0,
        "n_absent": absent.height,
        "review": review.height,
        "absent_review": absent.filter(pl.col("status") == "review").height,
        "review_correct": review.filter(pl.col("so_dinh_danh") == pl.col("true_id")).height,
        "by_defect": {r_["defects"]: (r_["n"], r_["recall"]) for r_ in by_defect.iter_rows(named=True)},
    }


# ------------------------------------------------------------------ main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--welfare-rows", type=int, default=None, help="default: persons / 10")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--registries", default=",".join(REGISTRIES))
    ap.add_argument("--tools", default="doisoat,splink")
    ap.add_argument(
        "--chunk-persons",
        type=int,
        default=None,
        help="build the population from independent chunks of this size (welfare only), e.g. 1000000 "
        "for the 10,000,000-person run the generator cannot hold in memory at once",
    )
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    workdir = args.workdir or Path(f"/tmp/doisoat_bench_{args.persons}")
    if args.worker:
        worker(args.worker, args.registries, workdir)
        return
    workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    if args.chunk_persons:
        prep = prepare_chunked(workdir, args.persons, args.chunk_persons, args.seed)
        args.registries = "social_welfare"
    else:
        prep = prepare(workdir, args.persons, args.welfare_rows, args.seed)
    print(
        f"# persons={args.persons:,} prepare {time.perf_counter() - t:.1f}s "
        + " ".join(f"{k}={v:.1f}s" for k, v in prep.items()),
        flush=True,
    )
    results = {}
    for registry in args.registries.split(","):
        for tool in args.tools.split(","):
            proc = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--worker",
                    tool,
                    "--registries",
                    registry,
                    "--workdir",
                    str(workdir),
                    "--persons",
                    str(args.persons),
                ],
                capture_output=True,
                text=True,
            )
            if proc.returncode != 0:
                print(f"{registry} {tool} FAILED:\n{proc.stderr[-3000:]}", flush=True)
                continue
            meta = json.loads(proc.stdout.strip().splitlines()[-1])
            ev = evaluate(workdir, registry, tool)
            results[(registry, tool)] = {**meta, **ev}
            print(
                f"{registry:15} {tool:8} {meta['seconds']:8.1f}s {meta['peak_mib']:7.0f}MiB "
                f"P={ev['precision']:.4f} R={ev['recall']:.4f} F1={ev['f1']:.4f} "
                f"absent_linked={ev['absent_linked']:.3f} ({ev['n_absent']}, {ev['absent_review']} in review) "
                f"review={ev['review']}"
                f" (correct {ev['review_correct']}) false_links={ev['false_links']} missed={ev['missed']}",
                flush=True,
            )
            if tool == "doisoat":
                for line in proc.stderr.strip().splitlines()[-2:]:
                    print("   ", line[:400])
    print_tables(results)


def print_tables(results: dict) -> None:
    print("\n| registry | tool | rows | time s | peak MiB | precision | recall | F1 | absent linked | review |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (registry, tool), r in results.items():
        print(
            f"| {registry} | {tool} | {r['rows']:,} | {r['seconds']:.1f} | {r['peak_mib']:.0f} | "
            f"{r['precision']:.4f} | "
            f"{r['recall']:.4f} | {r['f1']:.4f} | {r['absent_linked']:.3f} of {r['n_absent']} | {r['review']} |"
        )
    print("\nRecall by defect (rows with the defect; doisoat / splink):")
    for registry in dict.fromkeys(k[0] for k in results):
        d = results.get((registry, "doisoat"), {}).get("by_defect", {})
        s = results.get((registry, "splink"), {}).get("by_defect", {})
        codes = sorted(set(d) | set(s))
        cells = []
        for c in codes:
            n = (d.get(c) or s.get(c))[0]
            dv = f"{d[c][1]:.3f}" if c in d else "-"
            sv = f"{s[c][1]:.3f}" if c in s else "-"
            cells.append(f"{c}({n}) {dv}/{sv}")
        print(f"  {registry}: " + ", ".join(cells))


if __name__ == "__main__":
    main()
