"""The one generic reconcile pipeline over a RegistrySpec, as plain functions (no Prefect here).

`reconcile()` reads like a table of contents of the stages (`pipelines/normalize.py`,
`pipelines/match.py`, `pipelines/findings/`). Every stage goes through a `step` callable: the
CLI and tests pass `run_plain` (call the function), the Prefect flows in
`pipelines/orchestration.py` pass `run_as_task` (the same function as a Prefect task, so a
retry redoes one stage, not the run).
The CLI does *not* go through Prefect and never imports it: importing Prefect costs seconds, and
a flow called without a Prefect API starts a temporary local server, measured at 8.5–15.5 s
before the first flow runs on this machine. Deployments (`prefect.yaml`) run the flows.

Each stage announces itself in Vietnamese through the `doisoat` logger (or the Prefect run
logger), as it starts, so an officer sees what is happening (`pipelines/progress.py`). Personal
data never reaches the logger or artifacts: only counts, stage and file names are logged.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import json
import multiprocessing
import os
import secrets
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path

import polars as pl

from pipelines import cluster, decisions, findings, incremental, match, normalize, progress, review, warehouse
from pipelines.catalogue import load_registry, reference_columns
from pipelines.errors import DoisoatError, InputError, safe_text, unexpected_error_text
from pipelines.findings.alerts import registered_deaths
from pipelines.findings.coverage import coverage_frame
from pipelines.labels import STATUS_SHORT
from pipelines.private_files import owner_only_umask, restrict
from pipelines.processes import validation_worker
from pipelines.registries import REGISTRIES, get_spec, with_spec
from pipelines.reports import ensure_writable_dir, write_reports
from pipelines.spec import RegistrySpec, spec_to_dict
from validation import suites
from validation.population import population_issue_notes
from validation.suites import checked_frame, run_suite, run_suite_checked

# Deaths first: welfare and pension runs check their linked persons against the latest registered deaths.
DEMO_ORDER = ("civil_deaths", "civil_births", "social_welfare", "pension", "land")

Step = Callable[..., object]


def run_plain(name: str, fn: Callable, *args, **kwargs):
    return fn(*args, **kwargs)


def new_run_id(registry: str) -> str:
    """The run's key in the ledger (`runs`): registry, UTC start second and a random suffix."""
    return f"{registry}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def package_versions() -> dict[str, str]:
    """Versions recorded in the run ledger, so an auditor can tell which code linked a row."""
    return dict(_installed_versions())


@cache
def _installed_versions() -> dict[str, str]:
    """Read once per process (≈0.08 s of metadata scanning per run otherwise): the code a
    process runs is the code it imported, whatever is installed later."""
    out = {}
    for name in ("doisoat", "polars", "duckdb", "prefect", "great_expectations", "vietnamadminunits", "pyarrow"):
        try:
            out[name] = importlib.metadata.version(name.replace("_", "-"))
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


@dataclass
class RunSummary:
    run_id: str
    registry: str
    row_counts: dict
    title_vi: str = ""  # the registry's Vietnamese title (a user's own registry is not in REGISTRIES)
    notes: list[str] = field(default_factory=list)
    coverage: pl.DataFrame | None = None
    reports: dict = field(default_factory=dict)
    stage_seconds: dict = field(default_factory=dict)  # stage name → seconds (bench/, --verbose)
    mode: str = "first"  # runs.mode: first, incremental or full (pipelines/incremental.py)


def outcome_line(counts: dict[str, int]) -> str:
    """The run's outcome counts as one line, in the same terms as the summary table: organizations
    (land) and foreigners (ASM guests) are counted apart from the persons not found, as in every report."""
    apart = counts.get("organizations", 0) + counts.get("foreigners", 0)
    person_counts = dict(counts, unmatched=counts["unmatched"] - apart)
    parts = [f"{STATUS_SHORT[s]} {progress.number(person_counts[s])}" for s in warehouse.LINK_STATUSES]
    if counts.get("organizations"):
        parts.append(f"tổ chức {progress.number(counts['organizations'])}")
    if counts.get("foreigners"):
        parts.append(f"người nước ngoài {progress.number(counts['foreigners'])}")
    return f"{progress.number(counts['input_rows'])} dòng; " + ", ".join(parts)


def validate_rows(spec: RegistrySpec, rows: pl.DataFrame) -> pl.DataFrame:

    return run_suite(spec, rows)


class _Background:
    """Validation beside matching, in a second process, for the plain (CLI) pipeline.

    Why: importing Great Expectations costs ~4.5 s of pure Python on an idle machine — most of a
    500-row run. In a thread it only fought the pipeline for the GIL (measured: the 500-row run got
    slower, 11.4 → 13.1 s); in a process started at the beginning of the run it imports GX on the
    second core while the files are read, normalized and matched. Validation only reads the
    normalized rows, so the data flow is unchanged: the child gets the few prepared columns the
    suite checks (`validation.suites.checked_frame`), and the run waits for its results before
    writing. The Prefect flows keep one task after the other."""

    _shared: ProcessPoolExecutor | None = None  # one validation process per CLI command (a demo's five runs)
    _warm_up = None  # the shared process's import of GX

    def __init__(self, enabled: bool):
        self.pool = None
        self.job = None  # this run's validation, once submitted
        if enabled:
            if _Background._shared is None:
                _Background._shared = ProcessPoolExecutor(
                    max_workers=1,
                    mp_context=multiprocessing.get_context("spawn"),
                    initializer=validation_worker,
                    initargs=(os.getpid(),),
                )
                _Background._warm_up = _Background._shared.submit(suites.warm_up)
            self.pool = _Background._shared

    def validate(self, step: Step, spec: RegistrySpec, rows: pl.DataFrame, log, times: dict):
        """A future-like object whose result() is the expectation results."""
        if self.pool is None:
            with progress.stage("validate", "Kiểm tra chất lượng dữ liệu (Great Expectations)…", log, times):
                result = step("validate", validate_rows, spec, rows)
            return _Done(result)

        log.info("Kiểm tra chất lượng dữ liệu (Great Expectations, song song với bước ghép)…")
        self.job = self.pool.submit(run_suite_checked, spec, checked_frame(spec, rows))
        return self.job

    def close(self, cancel: bool = False) -> None:
        """After an error while this run's validation is still pending (or the pool broke) the
        process is stopped (a later run starts a new one); otherwise it stays for the next run of
        the same command and ends with the interpreter.

        Why keep it after most errors: a file refused while reading (the common error) never
        submitted anything, and the process is still loading GX; stopping it meant waiting for
        that import (≈4.5 s) only to pay it again in the next run of the same command."""
        job = self.job
        finished = job is not None and job.done() and not job.cancelled()
        idle = job is None or (finished and not isinstance(job.exception(), BrokenProcessPool))
        if self.pool and cancel and not idle:
            self.pool.shutdown(wait=True, cancel_futures=True)
            _Background._shared = None


def stop_validation_process() -> None:
    """End the shared validation process now, whatever it is doing (at the end of a command).

    Why: when a command ends, every run in it has already waited for its validation, so the
    process can only be importing Great Expectations for nothing (a file refused while reading).
    Left alone, the interpreter's exit would wait for that import (≈4.5 s idle, far more on a busy
    machine) before the officer gets the prompt back."""
    pool, _Background._shared = _Background._shared, None
    if pool is None:
        return
    if _Background._warm_up is None or _Background._warm_up.done():
        pool.shutdown(wait=True)  # idle: ends at once (killing it would leak the queue's lock)
        return
    terminate = getattr(pool, "terminate_workers", None)  # Python ≥ 3.14
    if terminate is not None:
        terminate()
        return
    for process in list((pool._processes or {}).values()):  # 3.11–3.13: no public way to stop a worker
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


@dataclass
class _Done:
    value: object

    def result(self):
        return self.value

    def done(self) -> bool:
        return True


def run_checks(spec: RegistrySpec, db: Path, links, persons, rows, population: pl.DataFrame) -> dict[str, pl.DataFrame]:
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        deaths = registered_deaths(con)
    finally:
        con.close()
    return findings.findings(spec, links, persons, rows, population, deaths)


def _with_run(frame: pl.DataFrame, run_id: str, registry: str | None) -> pl.DataFrame:
    if frame is None or frame.height == 0:
        return pl.DataFrame()
    cols = [pl.lit(run_id).alias("run_id")]
    if registry is not None:
        cols.append(pl.lit(registry).alias("registry"))
    return frame.with_columns(cols)


def make_reports(
    db: Path, run_id: str, out_dir: Path, unmasked: bool, by_commune: bool = False, password_file: Path | None = None
) -> dict:

    con = warehouse.connect(db, REGISTRIES.values())
    try:
        return (
            write_reports(con, run_id, Path(out_dir), unmasked, by_commune=by_commune, password_file=password_file)
            or {}
        )
    finally:
        con.close()


def reconcile(spec: RegistrySpec, population: Path, input_file: Path, db: Path, out_dir: Path, **options) -> RunSummary:
    """One run, holding the warehouse lock (`<db>.lock`) from before its ledger row to its reports:
    a second run on the same warehouse is refused with the holder's run id and start time."""
    run_id = new_run_id(spec.name)
    with warehouse.exclusive(db, command="run", run_id=run_id):
        step = options.pop("step", run_plain)

        def noted_step(name: str, fn: Callable, *args, **kwargs):  # the lock file names the stage running
            warehouse.note_stage(db, name)
            return step(name, fn, *args, **kwargs)

        # validation beside the matcher only in the plain pipeline (Prefect runs one task after the other)
        return _reconcile(
            run_id,
            spec,
            population,
            input_file,
            db,
            out_dir,
            step=noted_step,
            concurrent_validation=step is run_plain,
            **options,
        )


def _reconcile(
    run_id: str,
    spec: RegistrySpec,
    population: Path,
    input_file: Path,
    db: Path,
    out_dir: Path,
    *,
    unmasked: bool = False,
    column_map: Path | None = None,
    population_spec: Path | None = None,
    by_commune: bool = False,
    password_file: Path | None = None,
    step: Step = run_plain,
    concurrent_validation: bool = False,
    logger=None,
    reports: bool = True,
    full: bool = False,
    retrain: bool = False,
    partitioning=None,
) -> RunSummary:
    """ingest → normalize → validate → person schema → match → checks → warehouse → reports.

    With an earlier successful run of the registry in the warehouse the run is incremental
    (pipelines/incremental.py); `full` matches every record again with the same model, `retrain`
    also trains a new one.

    The `runs` ledger row is written first (`running`); `succeeded` is set in the one transaction
    that writes the results, `failed` after an error. A run killed before that commit stays
    `running` until the next open of the warehouse marks it failed (`warehouse.mark_interrupted_runs`)."""
    owner_only_umask()  # the warehouse, reports and logs written below are private (0600/0700)
    if reports:
        ensure_writable_dir(Path(out_dir))  # before anything is committed
    log = logger or progress.logger()
    times: dict[str, float] = {}
    started = time.perf_counter()

    def stage(name: str, text: str):
        return progress.stage(name, text, log, times)

    parameters = {
        "population": str(population),
        "input_file": str(input_file),
        "db": str(db),
        "out_dir": str(out_dir),
        "unmasked": unmasked,
        "column_map": str(column_map) if column_map else None,
        "population_spec": str(population_spec) if population_spec else None,
        "spec": spec_to_dict(spec),
        "by_commune": by_commune,
        "password_file": str(password_file) if password_file else None,  # the path, never the password
        "full": full,
        "retrain": retrain,
    }
    _ledger(db, warehouse.start_run, run_id, spec.name, parameters, package_versions())
    log.info(f"Lần chạy {run_id}: sổ {spec.title_vi}, tệp {Path(input_file).name}, CSDLQG {Path(population).name}")
    inputs: list[dict] = []
    pop_sha = None
    background = _Background(concurrent_validation)
    try:
        with stage("ingest", f"Đọc tệp {Path(input_file).name}…"):
            ingested = step("ingest", normalize.ingest_registry, spec, input_file, column_map)
        inputs.append(ingested.info)
        with stage("load_population", f"Đọc trích xuất CSDLQG {Path(population).name}…"):
            reference = reference_columns(population_spec) if population_spec else normalize.POPULATION_COLUMNS
            pop = step("load_population", normalize.load_population, db, population, reference)
        inputs.append(pop.info)
        pop_sha = pop.sha256
        log.info(
            f"  CSDLQG: {progress.number(pop.height)} người"
            + (
                " (đã chuẩn hoá ở lần chạy trước, lấy từ kho)"
                if pop.cached
                else " (chuẩn hoá lần đầu, lưu vào kho để dùng lại)"
            )
        )
        with stage("normalize", f"Chuẩn hoá {progress.number(ingested.frame.height)} dòng…"):
            rows = step("normalize", normalize.normalize_registry, spec, ingested)
        notes = (
            ingested.notes
            + normalize.legacy_text_notes(rows)
            + population_issue_notes(pop.issues, pop.height, pop.info.get("file") or Path(population).name)
        )
        validated = background.validate(step, spec, rows, log, times)
        with stage("person_schema", "Lập danh sách người cần ghép…"):
            persons = step("person_schema", normalize.registry_persons, spec, rows)
        with stage(
            "match",
            f"Ghép {progress.number(persons.height)} bản ghi với CSDLQG ({progress.number(pop.height)} người)…",
        ):
            fingerprints = pop.select("pop_rec_id", "so_dinh_danh", "person_hash")  # each person's, this extract
            carried = step("carried_decisions", decisions.carried_decisions, db, spec, run_id, persons, fingerprints)
            notes += decisions.notes(carried)
            plan = step(
                "plan", incremental.plan, db, spec, run_id, persons, fingerprints, carried, full=full, retrain=retrain
            )
            notes = plan.notes + notes
            pop_persons = normalize.population_persons(pop, spec)
            result = step(
                "match",
                match.match_registry,
                spec,
                persons,
                pop_persons,
                decisions.constraints(carried),
                partitioning,  # None: one machine; else matching.partitioned.Partitioning (a Dask cluster)
                **plan.engine_options(),
            )
            del pop_persons  # the engine copied it into DuckDB; 10M persons are GiBs
            log.debug(
                "  ghép, từng bước: " + ", ".join(f"{k} {progress.seconds(v)}" for k, v in result.timings.items())
            )
            links = match.assemble_links(spec, run_id, rows, persons, result.links, fingerprints, plan.kept)
            counts = match.row_counts(rows, links)  # raises when a row has no outcome or two
            counts.update(plan.counts())
        with stage("checks", "Tìm sai lệch, trường thiếu, trùng lặp và cảnh báo…"):
            found = step("checks", run_checks, spec, db, links, persons, rows, pop.persons_of(links))
        if not validated.done():
            with stage("validate_wait", "Chờ bước kiểm tra chất lượng dữ liệu xong…"):
                validated.result()
        expectations = validated.result()
        frames = result_frames(spec, run_id, rows, persons, links, result, found, expectations, pop)
        frames["match_models"] = frames["match_models"].with_columns(
            pl.lit(plan.model_run_id or run_id).alias("trained_in_run_id")
        )
        if plan.model is None:  # trained here: its term frequencies are frozen with it
            frames["term_frequencies"] = _with_run(
                incremental.term_frequency_rows(result.term_frequencies), run_id, spec.name
            )
        frames["carried_decisions"] = _with_run(carried, run_id, spec.name)
        frames["skipped_rows"] = normalize.skipped_for_warehouse(spec, run_id, ingested)
        counts["skipped_rows"] = frames["skipped_rows"].height
        counts.update(finding_counts(frames))
        with stage("write_warehouse", f"Ghi kho dữ liệu {Path(db).name}…"):
            ledger = {
                "input_files": inputs,
                "population_sha256": pop_sha,
                "row_counts": counts,
                "notes": notes,
                "mode": plan.mode,
                "previous_run_id": plan.previous_run_id,
                "model_run_id": plan.model_run_id or run_id,
            }
            step(
                "write_warehouse",
                warehouse.write_run,
                db,
                run_id,
                frames,
                ledger,
                specs=with_spec(spec),
                coverage=partial(coverage_frame, run_id=run_id, spec=spec),
            )
    except BaseException as exc:
        background.close(cancel=True)
        message = safe_text(str(exc)) if isinstance(exc, DoisoatError) else unexpected_error_text(exc)
        _ledger(
            db,
            warehouse.finish_run,
            run_id,
            status="failed",
            error=message,
            input_files=inputs,
            population_sha256=pop_sha,
        )
        if not isinstance(exc, DoisoatError):
            # frames only, not the exception's text: a library error message can quote a value
            log.debug(f"{type(exc).__name__} tại:\n" + "".join(traceback.format_tb(exc.__traceback__)))
        raise
    background.close()
    log.info(f"  Kết quả: {outcome_line(counts)}")
    summary = RunSummary(
        run_id=run_id,
        registry=spec.name,
        row_counts=counts,
        title_vi=spec.title_vi,
        notes=notes,
        coverage=run_coverage(db, run_id),
        mode=plan.mode,
    )
    if reports:
        with stage("reports", "Viết báo cáo (Excel, HTML)…"):
            summary.reports = step("reports", make_reports, db, run_id, out_dir, unmasked, by_commune, password_file)
    for path in (Path(db), Path(f"{db}.wal")):
        restrict(path)
    summary.stage_seconds = times
    log.info(f"Xong lần chạy {run_id} sau {progress.seconds(time.perf_counter() - started)}.")
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
        warehouse.rows_table_name(spec.name): normalize.rows_for_warehouse(spec, run_id, rows),
        "registry_persons": _with_run(
            persons.select(warehouse.TABLES["registry_persons"].column_names[2:]), run_id, spec.name
        ),
        "links": links,
        "link_evidence": _with_run(
            evidence_frame(result.evidence, persons, pop.persons_of(result.evidence, "pop_rec_id", "so_dinh_danh")),
            run_id,
            spec.name,
        ),
        **{t: _with_run(f.drop("run_id", "registry", strict=False), run_id, spec.name) for t, f in found.items()},
        "expectation_results": _with_run(expectations.drop("registry", strict=False), run_id, spec.name),
        "match_models": pl.DataFrame(
            {
                "run_id": [run_id],
                "registry": [spec.name],
                "model": [json.dumps(result.model, default=str)],
                "settings": [json.dumps(spec_to_dict(spec)["match"])],
                "blocking": [json.dumps(result.blocking.to_dicts(), default=str)],
            }
        ),
    }
    if not pop.cached:
        frames["population"] = pop.warehouse_rows(run_id)
    if not pop.issues_stored and pop.issues is not None and pop.issues.height:
        frames["population_issues"] = pop.issues.with_columns(
            pl.lit(pop.sha256).alias("extract_sha256"), pl.lit(run_id).alias("run_id")
        )
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
        .select(
            "source_row",
            "owner_index",
            "rec_id",
            "pop_rec_id",
            "so_dinh_danh",
            "candidate_rank",
            "comparison",
            "level",
            "partial_weight",
        )
    )


# ---------------------------------------------------------------- command line -------------


def _pct(value) -> str:
    return "—" if value is None else f"{100 * value:.1f} %"


ALIVE_ALERTS = ("dead_still_paid", "death_not_in_csdlqg", "death_date_differs")


def summary_table(summaries: list[RunSummary]) -> str:
    """Vietnamese coverage summary, one line per registry (aggregates only).

    "Số người" counts person records (land couples count twice, organizations and foreigners not at all);
    "Liên kết", "Đúng", "Đủ" are the coverage shares of the run (table `coverage`, level all)."""
    head = (
        "Sổ đăng ký",
        "Số dòng",
        "Số người",
        "Khớp",
        "Xem xét",
        "Không thấy",
        "Bị loại",
        "Trùng",
        "Liên kết",
        "Đúng",
        "Đủ",
        "Cảnh báo sống",
        "Đổi CMND",
    )
    lines = []
    for s in summaries:
        c = s.row_counts
        cov = {}
        if s.coverage is not None and s.coverage.height:
            cov = dict(s.coverage.filter(pl.col("level") == "all").select("metric", "value").iter_rows())
        lines.append(
            (
                s.title_vi or REGISTRIES[s.registry].title_vi,
                f"{c['input_rows']:,}",
                f"{c['records'] - c['organizations'] - c.get('foreigners', 0):,}",
                f"{c['matched']:,}",
                f"{c['review']:,}",
                f"{c['unmatched'] - c['organizations'] - c.get('foreigners', 0):,}",
                f"{c['rejected']:,}",
                f"{c['duplicate']:,}",
                _pct(cov.get("linked")),
                _pct(cov.get("verified")),
                _pct(cov.get("complete")),
                f"{sum(c.get(f'alert_{k}', 0) for k in ALIVE_ALERTS):,}",
                f"{c.get('alert_suggested_id_update', 0):,}",
            )
        )
    widths = [max(len(str(r[i])) for r in [head, *lines]) for i in range(len(head))]
    fmt = lambda r: "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(r, widths)))  # noqa: E731
    return "\n".join([fmt(head), "  ".join("-" * w for w in widths), *map(fmt, lines)])


def _print_run(summary: RunSummary) -> None:
    """Notes and report paths go to the log (stderr and doisoat.log; hidden by --quiet)."""
    log = progress.logger()
    for note in summary.notes:
        log.info(f"  Lưu ý: {note}")
    for kind, path in (summary.reports or {}).items():
        log.info(f"  Báo cáo {kind}: {path}")


# What the officer is told about the mode that ran (runs.mode), from the run's counts.
MODE_LINE = {
    "first": lambda c: "lần chạy đầu tiên của sổ: ghép toàn bộ, huấn luyện mô hình",
    "incremental": lambda c: (
        f"chạy tăng dần: giữ nguyên {progress.number(c.get('links_kept', 0))} liên kết, "
        f"ghép {progress.number(c.get('records', 0) - c.get('links_kept', 0))} bản ghi"
    ),
    "full": lambda c: (
        f"chạy toàn bộ: ghép lại {progress.number(c.get('records', 0))} bản ghi "
        f"({progress.number(c.get('links_kept', 0))} liên kết không đổi vẫn giữ)"
    ),
}


def run_registry_cli(
    registry: str | None,
    population: Path,
    input_file: Path,
    db: Path,
    out_dir: Path,
    unmasked: bool,
    column_map: Path | None,
    by_commune: bool = False,
    password_file: Path | None = None,
    spec_file: Path | None = None,
    population_spec: Path | None = None,
    full: bool = False,
    retrain: bool = False,
    dask_address: str | None = None,
    dask_workers: int | None = None,
    dask_workdir: Path | None = None,
) -> int:
    """`doisoat run`: a built-in registry by name, or any other declared in a spec file (`--spec`);
    with `dask_address` or `dask_workers` the match runs in partitions on a Dask cluster (pipelines/cluster.py)."""
    spec = load_registry(spec_file) if spec_file is not None else get_spec(registry)
    if population_spec is not None:
        reference_columns(population_spec)  # a mistake in the file is refused before the run starts
    dask = dask_address is not None or dask_workers is not None
    with cluster.partitioning(dask_address, dask_workers, dask_workdir) if dask else nullcontext() as partitioning:
        summary = reconcile(
            spec,
            population,
            input_file,
            db,
            out_dir,
            unmasked=unmasked,
            column_map=column_map,
            population_spec=population_spec,
            by_commune=by_commune,
            password_file=password_file,
            full=full,
            retrain=retrain,
            partitioning=partitioning,
        )
    _print_run(summary)
    print(f"Lần chạy {summary.run_id} ({spec.title_vi}) — {MODE_LINE[summary.mode](summary.row_counts)}")
    print(f"Kho dữ liệu {db}")
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


def run_demo_cli(
    sample_dir: Path,
    db: Path,
    out_dir: Path,
    unmasked: bool,
    by_commune: bool = False,
    password_file: Path | None = None,
) -> int:
    files = demo_inputs(sample_dir)
    summaries = []
    log = progress.logger()
    for i, registry in enumerate(DEMO_ORDER, start=1):
        spec = get_spec(registry)
        log.info(f"[{i}/{len(DEMO_ORDER)}] Đang đối soát: {spec.title_vi} ({files[registry].name})")
        summary = reconcile(
            spec,
            files["population"],
            files[registry],
            db,
            Path(out_dir) / registry,
            unmasked=unmasked,
            by_commune=by_commune,
            password_file=password_file,
        )
        _print_run(summary)
        summaries.append(summary)
    print()
    print(f"Tổng hợp đối soát với CSDLQG (kho dữ liệu: {db})")
    print(summary_table(summaries))
    return 0


def review_cli(workbook: Path, db: Path, reviewer: str, out_dir: Path | None = None, unmasked: bool = False) -> int:
    """`doisoat review`: record the decisions of a filled workbook, then rewrite the run's reports."""
    if not reviewer.strip():
        raise DoisoatError("Cần ghi tên người xem xét (--reviewer).", code="reviewer_missing")
    if not Path(db).exists():
        raise DoisoatError(f"Không tìm thấy kho dữ liệu {db}.", code="warehouse_not_found")
    sheet = review.read_review_sheet(Path(workbook))
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        if out_dir is None:  # where the run wrote its reports (runs.parameters.out_dir)
            params = con.execute("SELECT parameters FROM runs WHERE run_id = ?", [sheet.run_id]).fetchone()
            out_dir = Path(json.loads((params[0] if params else None) or "{}").get("out_dir") or "out")
        ensure_writable_dir(Path(out_dir))  # before any decision is committed
        counts = review.record_decisions(con, sheet, reviewer.strip(), Path(workbook))
        print(
            f"Lần chạy {sheet.run_id}: {counts['sheet_rows']:,} dòng cần xem xét, "
            f"{counts['decided']:,} dòng có quyết định "
            f"({counts['recorded']:,} ghi mới, {counts['unchanged']:,} không đổi)."
        )
        print(
            f"Sau xem xét: {counts['accept']:,} đồng ý, {counts['reject']:,} bác bỏ, "
            f"{counts['pending']:,} chưa quyết định."
        )
        paths = write_reports(con, sheet.run_id, Path(out_dir), unmasked=unmasked)
        print(f"Đã cập nhật báo cáo: {paths['excel']}, {paths['html']}")
    finally:
        con.close()
    return 0
