"""prefect.yaml as a document: one scheduled deployment per registry on the process pool.

The deployments running for real (server with its scheduler on, a scheduled run completed by a
worker, rows in DuckDB) are tested through `doisoat serve` in test_prefect_serve.py."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_prefect_yaml_declares_a_scheduled_deployment_per_registry():
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    deployments = {d["parameters"].get("registry"): d for d in doc["deployments"] if "registry" in d["parameters"]}
    assert set(deployments) == {"social_welfare", "pension", "civil_births", "civil_deaths", "land"}
    for d in doc["deployments"]:
        assert d["work_pool"]["name"] == "doisoat-process"
        assert d["schedules"][0]["timezone"] == "Asia/Ho_Chi_Minh"
        assert d["entrypoint"].startswith("pipelines/orchestration.py:")
    assert "set_working_directory" in json.dumps(doc["pull"])


def test_prefect_yaml_declares_the_dask_deployment():
    """The partitioned match through Prefect's DaskTaskRunner: a scheduler address or a local cluster."""
    doc = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    dask = [d for d in doc["deployments"] if d["entrypoint"] == "pipelines/orchestration.py:reconcile_registry_dask"]
    assert [d["name"] for d in dask] == ["social-welfare-dask"]
    params = dask[0]["parameters"]
    assert params["registry"] == "social_welfare" and params["dask_address"] is None and params["dask_workers"] == 2
    assert "dask_workdir" in params and dask[0]["schedules"][0]["active"] is True
