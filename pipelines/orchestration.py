"""Prefect flows of doisoat: the entrypoints of the deployments in `prefect.yaml`.

Why a module of its own: importing Prefect costs several seconds (7.6 s measured in issue 11), and
the CLI never runs through Prefect (a flow called without a server starts a temporary one). Only
the deployments import this module; `pipelines/flow.py` holds the plain pipeline both use. Each
stage runs as a Prefect task here (`run_as_task`), so a retry redoes one stage, not the run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect_dask import DaskTaskRunner

from pipelines import progress, warehouse
from pipelines.catalogue import load_registry
from pipelines.cluster import Partitioning
from pipelines.errors import InputError
from pipelines.findings.coverage import coverage_rows_for_artifact
from pipelines.flow import DEMO_ORDER, demo_inputs, reconcile
from pipelines.registries import REGISTRIES, get_spec

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


class _ToRunLogger(logging.Handler):
    """Forward the `doisoat` logger (progress of long stages) to the flow run's log."""

    def __init__(self, run_logger):
        super().__init__(logging.INFO)
        self.run_logger = run_logger

    def emit(self, record: logging.LogRecord) -> None:
        self.run_logger.log(record.levelno, record.getMessage())


@contextmanager
def _doisoat_logs_to(run_logger):
    log = progress.logger()
    handler = _ToRunLogger(run_logger)
    level = log.level
    log.addHandler(handler)
    log.setLevel(min(level or logging.INFO, logging.INFO))
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def run_as_task(name: str, fn: Callable, *args, **kwargs):
    """Run one stage as a Prefect task (no input hashing: frames hold personal data)."""
    t = task(
        fn,
        name=name,
        cache_policy=NO_CACHE,
        retries=RETRIES.get(name, 0),
        retry_delay_seconds=2,
        retry_condition_fn=_retry_unless_input_error,
        persist_result=False,
    )
    return t(*args, **kwargs)


def _on_dask(fn: Callable, args: list[tuple]) -> list:
    """`run_map` of the partitioned match (matching/partitioned.py) inside a flow run: each partition
    a Prefect task submitted to the flow's DaskTaskRunner, so it runs on a Dask worker and shows
    in the flow run (arguments are file paths and settings, never personal data)."""
    t = task(
        fn,
        name=fn.__name__.replace("_", "-"),
        cache_policy=NO_CACHE,
        retries=1,  # a partition reads and writes only its own files: running it again is safe
        retry_delay_seconds=2,
        persist_result=False,
    )
    futures = [t.submit(*a) for a in args]
    return [f.result() for f in futures]


def _dask_partitioning(workdir: str | None) -> Partitioning | None:
    """The match partitioned over the Dask workers when this flow runs on a DaskTaskRunner
    (`reconcile_registry_dask`): one partition per worker thread; else None (one machine)."""
    context = FlowRunContext.get()
    if context is None or not isinstance(context.task_runner, DaskTaskRunner):
        return None
    threads = sum(context.task_runner.client.nthreads().values())  # the client starts the cluster if needed
    return Partitioning(run_map=_on_dask, n_partitions=max(1, threads), workdir=workdir)


@flow(name="reconcile-registry", log_prints=False)
def reconcile_registry(
    registry: str,
    population: str = "data/sample/population.csv",
    input_file: str | None = None,
    db: str = "out/doisoat.duckdb",
    out_dir: str = "out",
    unmasked: bool = False,
    column_map: str | None = None,
    by_commune: bool = False,
    password_file: str | None = None,
    spec_file: str | None = None,
    full: bool = False,
    retrain: bool = False,
    dask_workdir: str | None = None,
) -> dict:
    """Reconcile one registry file against a CSDLQG extract: a built-in registry by name, or one
    declared in a YAML spec file (`spec_file`, as `doisoat run --spec`; `registry` is then its name).

    Incremental when the warehouse holds an earlier run of the registry (pipelines/incremental.py);
    `full` re-matches every record, `retrain` also trains a new model (the monthly deployment).
    Run on a DaskTaskRunner (`reconcile_registry_dask`), the match stage is partitioned over the
    cluster, its files in `dask_workdir` (a folder every worker reaches; default: a temporary one)."""
    logger = get_run_logger()
    spec = load_registry(spec_file) if spec_file else get_spec(registry)
    input_path = Path(input_file) if input_file else Path(population).parent / f"{registry}.csv"
    with _doisoat_logs_to(logger):
        summary = reconcile(
            spec,
            Path(population),
            input_path,
            Path(db),
            Path(out_dir),
            unmasked=unmasked,
            column_map=Path(column_map) if column_map else None,
            by_commune=by_commune,
            password_file=Path(password_file) if password_file else None,
            step=run_as_task,
            logger=logger,
            full=full,
            retrain=retrain,
            partitioning=_dask_partitioning(dask_workdir),
        )

    con = warehouse.connect(db, REGISTRIES.values())
    try:
        table = coverage_rows_for_artifact(con, summary.run_id)
    finally:
        con.close()
    create_table_artifact(
        key=f"coverage-{registry.replace('_', '-')}",
        table=table,
        description=(
            f"Độ bao phủ đối soát {spec.title_vi}, lần chạy {summary.run_id} "
            "(chỉ số tổng hợp, không có dữ liệu cá nhân)"
        ),
    )
    logger.info("run %s (%s): %s", summary.run_id, summary.mode, json.dumps(summary.row_counts))
    return {"run_id": summary.run_id, "mode": summary.mode, **summary.row_counts}


@flow(name="reconcile-registry-dask", log_prints=False)
def reconcile_registry_dask(
    registry: str,
    population: str = "data/sample/population.csv",
    input_file: str | None = None,
    db: str = "out/doisoat.duckdb",
    out_dir: str = "out",
    unmasked: bool = False,
    spec_file: str | None = None,
    full: bool = False,
    retrain: bool = False,
    dask_address: str | None = None,
    dask_workers: int = 2,
    dask_workdir: str | None = None,
) -> dict:
    """`reconcile_registry` with its match stage partitioned on a Dask cluster (README "Chạy ở quy mô
    quốc gia"): the scheduler at `dask_address` (tcp://host:8786 — dask-kubernetes, dask-jobqueue or
    `dask scheduler`; its workers need doisoat installed and `dask_workdir` shared), else a temporary
    LocalCluster of `dask_workers` processes. The result is the one-machine result."""
    if dask_address:
        runner = DaskTaskRunner(address=dask_address)
    else:
        runner = DaskTaskRunner(
            cluster_kwargs={
                "n_workers": max(1, int(dask_workers)),
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    return reconcile_registry.with_options(task_runner=runner)(
        registry,
        population=population,
        input_file=input_file,
        db=db,
        out_dir=out_dir,
        unmasked=unmasked,
        spec_file=spec_file,
        full=full,
        retrain=retrain,
        dask_workdir=dask_workdir,
    )


@flow(name="reconcile-all", log_prints=False)
def reconcile_all(
    sample_dir: str = "data/sample",
    db: str = "out/doisoat.duckdb",
    out_dir: str = "out",
    unmasked: bool = False,
    retrain: bool = False,
) -> dict:
    """All registries on one folder (population.csv + <registry>.csv), deaths first; `retrain`:
    every registry re-matched with a newly trained model (the monthly deployment)."""
    files = demo_inputs(Path(sample_dir))
    return {
        registry: reconcile_registry(
            registry,
            str(files["population"]),
            str(files[registry]),
            db,
            str(Path(out_dir) / registry),
            unmasked,
            retrain=retrain,
        )
        for registry in DEMO_ORDER
    }
