"""The Dask driver of a partitioned match from the command line (`doisoat run --dask-address/--dask-workers`).

Why a module of its own: `distributed` takes about a second to import and a local cluster
seconds to start, so only a run that asks for one pays for it. The partition functions are the
engine's plain functions (matching/partitioned.py); this module only maps them over a cluster's
workers (`Client.map`, `Client.gather`). Prefect's deployments reach Dask through prefect-dask's
DaskTaskRunner instead (pipelines/orchestration.py), with the same engine functions.

A cluster elsewhere (dask-kubernetes, dask-jobqueue, `dask scheduler` + `dask worker`) needs
doisoat installed on its workers and a directory every worker and this process can read and
write (`--dask-workdir`, a shared filesystem): the partitions' inputs and outputs are Parquet
files there, removed when the match ends. Nothing of the data travels through the scheduler
but file paths and pattern counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from matching.partitioned import Partitioning
from pipelines.errors import DoisoatError

QUIET_LOGGERS = ("distributed", "tornado", "bokeh")  # their INFO lines would interleave with doisoat's progress


def client_map(client):
    """`run_map` over a distributed Client: one task per argument tuple, results in order."""

    def run_map(fn, args: list[tuple]) -> list:
        columns = [list(column) for column in zip(*args)]
        return client.gather(client.map(fn, *columns, pure=False))

    return run_map


@contextmanager
def partitioning(
    address: str | None = None, workers: int | None = None, workdir: str | None = None
) -> Iterator[Partitioning]:
    """A Dask cluster for one run: the scheduler at `address`, else a LocalCluster of `workers`
    processes (one thread each); as many partitions as the cluster has worker threads."""
    from distributed import Client, LocalCluster  # lazy: ~1 s, only for a partitioned run

    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    cluster = None
    try:
        if address:
            client = Client(address, timeout="10s")
        else:
            cluster = LocalCluster(
                n_workers=max(1, int(workers or 2)), threads_per_worker=1, processes=True, dashboard_address=None
            )
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        where = f"tại {address}" if address else "trên máy này"
        raise DoisoatError(
            f"không kết nối được cụm Dask {where} ({type(exc).__name__}); kiểm tra địa chỉ --dask-address "
            "(dạng tcp://máy:8786) và bộ lập lịch Dask đang chạy",
            code="dask_unreachable",
        ) from None
    try:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise DoisoatError(f"cụm Dask tại {address} chưa có worker nào", code="dask_no_workers")
        yield Partitioning(run_map=client_map(client), n_partitions=threads, workdir=workdir)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
