"""The one generic reconcile pipeline over a RegistrySpec, and its Prefect flows.

`reconcile()` reads like a table of contents of the stages (`pipelines/stages.py`,
`pipelines/checks.py`). Every stage goes through a `step` callable: the CLI and tests pass
`run_plain` (call the function), the Prefect flow passes `run_as_task` (the same function as a
Prefect task, so a retry redoes one stage, not the run). The CLI does *not* go through Prefect:
a flow called without a Prefect API starts a temporary local server, measured at 8.5–15.5 s
before the first flow runs on this machine (ecosystem.md measured 5.8 s) — too slow and one
moving part too many for `doisoat run` and CI. Deployments (`prefect.yaml`) run the flows.

Personal data never reaches the logger or artifacts: only counts and shares are logged.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from pipelines import checks, stages, warehouse
from pipelines.errors import DoisoatError, InputError
from pipelines.registries import REGISTRIES, get_spec
from pipelines.spec import RegistrySpec, spec_to_dict

# Deaths first: welfare and pension runs check their linked persons against the latest registered deaths.
DEMO_ORDER = ("civil_deaths", "civil_births", "social_welfare", "pension", "land")

Step = Callable[..., object]


def run_plain(name: str, fn: Callable, *args, **kwargs):
    return fn(*args, **kwargs)


@dataclass
class RunSummary:
    run_id: str
    registry: str
    row_counts: dict
    notes: list[str] = field(default_factory=list)
    coverage: pl.DataFrame | None = None
    reports: dict = field(default_factory=dict)


def _log(logger, message: str) -> None:
    (logger or logging.getLogger("doisoat")).info(message)


def validate_rows(spec: RegistrySpec, rows: pl.DataFrame) -> pl.DataFrame:
    from validation.suites import run_suite

    return run_suite(spec, rows)


def run_checks(spec: RegistrySpec, db: Path, links, persons, rows, population: pl.DataFrame) -> dict[str, pl.DataFrame]:
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        deaths = checks.registered_deaths(con)
    finally:
        con.close()
    return checks.findings(spec, links, persons, rows, population, deaths)


def write_warehouse(db: Path, spec: RegistrySpec, run_id: str, frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    """All result tables of the run, and its coverage, in one transaction."""
    from pipelines.reports.coverage import coverage_frame

    con = warehouse.connect(db, REGISTRIES.values())
    try:
        with warehouse.transaction(con):
            written = {t: warehouse.insert_frame(con, t, f) for t, f in frames.items()}
            written["coverage"] = warehouse.insert_frame(con, "coverage", coverage_frame(con, run_id, spec))
        return written
    finally:
        con.close()


def _with_run(frame: pl.DataFrame, run_id: str, registry: str | None) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return pl.DataFrame()
    cols = [pl.lit(run_id).alias("run_id")]
    if registry is not None:
        cols.append(pl.lit(registry).alias("registry"))
    return frame.with_columns(cols)


def make_reports(db: Path, run_id: str, out_dir: Path, unmasked: bool) -> dict:
    from pipelines.reports import write_reports

    con = warehouse.connect(db, REGISTRIES.values())
    try:
        return write_reports(con, run_id, Path(out_dir), unmasked) or {}
    finally:
        con.close()


def reconcile(
    spec: RegistrySpec,
    population: Path,
    input_file: Path,
    db: Path,
    out_dir: Path,
    *,
    unmasked: bool = False,
    column_map: Path | None = None,
    step: Step = run_plain,
    logger=None,
    reports: bool = True,
) -> RunSummary:
    """ingest → normalize → validate → person schema → match → checks → warehouse → reports.

    The `runs` ledger row is written first (`running`) and closed last (`succeeded`/`failed`),
    outside the one transaction that writes the results."""
    if reports:
        from pipelines.reports import ensure_writable_dir

        ensure_writable_dir(Path(out_dir))  # before anything is committed
    run_id = stages.new_run_id(spec.name)
    parameters = {
        "population": str(population), "input_file": str(input_file), "db": str(db), "out_dir": str(out_dir),
        "unmasked": unmasked, "column_map": str(column_map) if column_map else None, "spec": spec_to_dict(spec),
    }
    _ledger(db, warehouse.start_run, run_id, spec.name, parameters, stages.package_versions())
    inputs: list[dict] = []
    pop_sha = None
    try:
        ingested = step("ingest", stages.ingest_registry, spec, input_file, column_map)
        inputs.append(ingested.info)
        pop = step("load_population", stages.load_population, db, population)
        inputs.append(pop.info)
        pop_sha = pop.sha256
        rows = step("normalize", stages.normalize_registry, spec, ingested)
        notes = ingested.notes + stages.legacy_text_notes(rows)
        expectations = step("validate", validate_rows, spec, rows)
        persons = step("person_schema", stages.registry_persons, spec, rows)
        result = step("match", stages.match_registry, spec, persons, stages.population_persons(pop))
        links = stages.assemble_links(spec, run_id, rows, persons, result.links)
        counts = stages.row_counts(rows, links)  # raises when a row has no outcome or two
        found = step("checks", run_checks, spec, db, links, persons, rows, pop.frame)
        frames = result_frames(spec, run_id, rows, persons, links, result, found, expectations, pop)
        frames["skipped_rows"] = stages.skipped_for_warehouse(spec, run_id, ingested)
        counts["skipped_rows"] = frames["skipped_rows"].height
        counts.update(finding_counts(frames))
        step("write_warehouse", write_warehouse, db, spec, run_id, frames)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, DoisoatError) else f"{type(exc).__name__}: {exc}"[:500]
        _ledger(db, warehouse.finish_run, run_id, status="failed", error=message, input_files=inputs, population_sha256=pop_sha)
        if not isinstance(exc, DoisoatError):
            logging.getLogger("doisoat").debug(traceback.format_exc())
        raise
    _ledger(db, warehouse.finish_run, run_id, status="succeeded", input_files=inputs, population_sha256=pop_sha,
            row_counts=counts, notes=notes)
    _log(logger, f"{spec.name}: {counts['input_rows']} dòng; " + ", ".join(f"{s} {counts[s]}" for s in warehouse.LINK_STATUSES))
    summary = RunSummary(run_id=run_id, registry=spec.name, row_counts=counts, notes=notes, coverage=run_coverage(db, run_id))
    if reports:
        summary.reports = step("reports", make_reports, db, run_id, out_dir, unmasked)
    return summary


def _ledger(db: Path, fn: Callable, *args, **kwargs) -> None:
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        fn(con, *args, **kwargs)
    finally:
        con.close()


def run_coverage(db: Path, run_id: str) -> pl.DataFrame:
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        return con.execute("SELECT * FROM coverage WHERE run_id = ?", [run_id]).pl()
    finally:
        con.close()


def result_frames(spec, run_id, rows, persons, links, result, found, expectations, pop) -> dict[str, pl.DataFrame]:
    """Every warehouse table of one run, keyed by table name."""
    frames = {
        warehouse.rows_table_name(spec.name): stages.rows_for_warehouse(spec, run_id, rows),
        "registry_persons": _with_run(persons.select(warehouse.TABLES["registry_persons"].column_names[2:]), run_id, spec.name),
        "links": links,
        "link_evidence": _with_run(evidence_frame(result.evidence, persons, pop.frame), run_id, spec.name),
        **{t: _with_run(f.drop("run_id", "registry", strict=False), run_id, spec.name) for t, f in found.items()},
        "expectation_results": _with_run(expectations.drop("registry", strict=False), run_id, spec.name),
        "match_models": pl.DataFrame({
            "run_id": [run_id], "registry": [spec.name],
            "model": [json.dumps(result.model, default=str)],
            "settings": [json.dumps(spec_to_dict(spec)["match"])],
            "blocking": [json.dumps(result.blocking.to_dicts(), default=str)],
        }),
    }
    if not pop.cached:
        frames["population"] = pop.frame.with_columns(pl.lit(run_id).alias("run_id"))
    return frames


def finding_counts(frames: dict[str, pl.DataFrame]) -> dict[str, int]:
    counts = {f"{t}_rows": frames[t].height for t in ("mismatches", "missing_fields", "duplicates", "alerts")}
    if frames["alerts"].height:
        counts.update({f"alert_{k}": n for k, n in frames["alerts"].group_by("kind").len().iter_rows()})
    return counts


def evidence_frame(evidence: pl.DataFrame, persons: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    """Matcher evidence with row keys, candidate ID and candidate rank (1 = highest total weight)."""
    if evidence.height == 0:
        return pl.DataFrame()
    totals = evidence.group_by("rec_id", "pop_rec_id").agg(pl.col("partial_weight").sum().alias("_total"))
    ranked = totals.with_columns(
        pl.col("_total").rank("ordinal", descending=True).over("rec_id").cast(pl.Int16).alias("candidate_rank")
    ).drop("_total")
    return (
        evidence.join(ranked, on=["rec_id", "pop_rec_id"], how="left")
        .join(persons.select("rec_id", "source_row", "owner_index"), on="rec_id", how="left")
        .join(population.select(pl.col("pop_rec_id"), pl.col("so_dinh_danh")), on="pop_rec_id", how="left")
        .select("source_row", "owner_index", "rec_id", "pop_rec_id", "so_dinh_danh", "candidate_rank", "comparison", "level", "partial_weight")
    )


# ---------------------------------------------------------------- command line -------------


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


ALIVE_ALERTS = ("dead_still_paid", "death_not_in_csdlqg", "death_date_differs")


def summary_table(summaries: list[RunSummary]) -> str:
    """Vietnamese coverage summary, one line per registry (aggregates only).

    "Số người" counts person records (land couples count twice, organizations not at all);
    "Liên kết", "Đúng", "Đủ" are the coverage shares of the run (table `coverage`, level all)."""
    head = ("Sổ đăng ký", "Số dòng", "Số người", "Khớp", "Xem xét", "Không thấy", "Bị loại", "Trùng",
            "Liên kết", "Đúng", "Đủ", "Cảnh báo sống", "Đổi CMND")
    lines = []
    for s in summaries:
        c = s.row_counts
        cov = {}
        if s.coverage is not None and s.coverage.height:
            cov = dict(s.coverage.filter(pl.col("level") == "all").select("metric", "value").iter_rows())
        lines.append((
            REGISTRIES[s.registry].title_vi, f"{c['input_rows']:,}", f"{c['records'] - c['organizations']:,}",
            f"{c['matched']:,}", f"{c['review']:,}", f"{c['unmatched'] - c['organizations']:,}", f"{c['rejected']:,}",
            f"{c['duplicate']:,}", _pct(cov.get("linked")), _pct(cov.get("verified")), _pct(cov.get("complete")),
            f"{sum(c.get(f'alert_{k}', 0) for k in ALIVE_ALERTS):,}", f"{c.get('alert_suggested_id_update', 0):,}",
        ))
    widths = [max(len(str(r[i])) for r in [head, *lines]) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, lines)])


def _print_run(summary: RunSummary) -> None:
    for note in summary.notes:
        print(f"  Lưu ý: {note}")
    for kind, path in (summary.reports or {}).items():
        print(f"  {kind}: {path}")


def run_registry_cli(registry: str, population: Path, input_file: Path, db: Path, out_dir: Path, unmasked: bool, column_map: Path | None) -> int:
    spec = get_spec(registry)
    summary = reconcile(spec, population, input_file, db, out_dir, unmasked=unmasked, column_map=column_map)
    print(f"Lần chạy {summary.run_id} ({spec.title_vi}) — kho dữ liệu {db}")
    _print_run(summary)
    print(summary_table([summary]))
    return 0


def demo_inputs(sample_dir: Path) -> dict[str, Path]:
    sample_dir = Path(sample_dir)
    files = {name: sample_dir / f"{name}.csv" for name in ("population", *DEMO_ORDER)}
    missing = [p.name for p in files.values() if not p.exists()]
    if missing:
        raise InputError(
            f"thư mục mẫu thiếu {', '.join(missing)}; tạo dữ liệu mẫu bằng: doisoat sample --out {sample_dir}",
            file=str(sample_dir),
        )
    return files


def run_demo_cli(sample_dir: Path, db: Path, out_dir: Path, unmasked: bool) -> int:
    files = demo_inputs(sample_dir)
    summaries = []
    for registry in DEMO_ORDER:
        spec = get_spec(registry)
        print(f"Đang đối soát: {spec.title_vi} ({files[registry].name}) …", flush=True)
        summary = reconcile(spec, files["population"], files[registry], db, Path(out_dir) / registry, unmasked=unmasked)
        _print_run(summary)
        summaries.append(summary)
    print()
    print(f"Tổng hợp đối soát với CSDLQG (kho dữ liệu: {db})")
    print(summary_table(summaries))
    return 0


# ---------------------------------------------------------------- Prefect ------------------

from prefect import flow, get_run_logger, task  # noqa: E402  (after the plain pipeline on purpose)
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402

# Stages touching files or the warehouse may hit a transient lock; pure computation is not retried.
RETRIES = {"ingest": 1, "load_population": 1, "write_warehouse": 2, "reports": 1}


def _retry_unless_input_error(task_obj, task_run, state) -> bool:
    try:
        state.result()
    except InputError:
        return False  # a bad file stays bad: tell the officer at once
    except Exception:
        return True
    return False


def run_as_task(name: str, fn: Callable, *args, **kwargs):
    """Run one stage as a Prefect task (no input hashing: frames hold personal data)."""
    t = task(
        fn, name=name, cache_policy=NO_CACHE, retries=RETRIES.get(name, 0), retry_delay_seconds=2,
        retry_condition_fn=_retry_unless_input_error, persist_result=False,
    )
    return t(*args, **kwargs)


@flow(name="reconcile-registry", log_prints=False)
def reconcile_registry(
    registry: str,
    population: str = "data/sample/population.csv",
    input_file: str | None = None,
    db: str = "out/doisoat.duckdb",
    out_dir: str = "out",
    unmasked: bool = False,
    column_map: str | None = None,
) -> dict:
    """Reconcile one registry file against a CSDLQG extract (any registry with a spec)."""
    logger = get_run_logger()
    spec = get_spec(registry)
    input_path = Path(input_file) if input_file else Path(population).parent / f"{registry}.csv"
    summary = reconcile(
        spec, Path(population), input_path, Path(db), Path(out_dir), unmasked=unmasked,
        column_map=Path(column_map) if column_map else None, step=run_as_task, logger=logger,
    )
    from pipelines.reports.coverage import coverage_rows_for_artifact

    con = warehouse.connect(db, REGISTRIES.values())
    try:
        table = coverage_rows_for_artifact(con, summary.run_id)
    finally:
        con.close()
    create_table_artifact(
        key=f"coverage-{registry.replace('_', '-')}",
        table=table,
        description=f"Độ bao phủ đối soát {spec.title_vi}, lần chạy {summary.run_id} (chỉ số tổng hợp, không có dữ liệu cá nhân)",
    )
    logger.info("run %s: %s", summary.run_id, json.dumps(summary.row_counts))
    return {"run_id": summary.run_id, **summary.row_counts}


@flow(name="reconcile-all", log_prints=False)
def reconcile_all(sample_dir: str = "data/sample", db: str = "out/doisoat.duckdb", out_dir: str = "out", unmasked: bool = False) -> dict:
    """All registries on one folder (population.csv + <registry>.csv), deaths first."""
    files = demo_inputs(Path(sample_dir))
    return {
        registry: reconcile_registry(
            registry, str(files["population"]), str(files[registry]), db, str(Path(out_dir) / registry), unmasked
        )
        for registry in DEMO_ORDER
    }
