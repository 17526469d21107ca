"""The registries doisoat knows, by CLI name.

They are the spec files shipped in the registry folders (`pipelines/<registry>/*.yaml`, read and
checked by pipelines/catalogue.py): adding a registry means adding a YAML file, no Python.
"""

from __future__ import annotations

import json

import duckdb

from pipelines.catalogue import known_registries
from pipelines.errors import DoisoatError
from pipelines.spec import RegistrySpec

REGISTRIES: dict[str, RegistrySpec] = known_registries()


def get_spec(name: str) -> RegistrySpec:
    try:
        return REGISTRIES[name]
    except KeyError:
        known = ", ".join(REGISTRIES)
        raise SystemExit(f"Không có sổ đăng ký '{name}'. Các sổ đã khai báo: {known}") from None


def with_spec(spec: RegistrySpec) -> list[RegistrySpec]:
    """The built-in registries plus `spec` when it is a user's own file: the registries whose tables
    the warehouse must hold for this run."""
    return [*REGISTRIES.values()] + ([] if spec.name in REGISTRIES else [spec])


def spec_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> RegistrySpec:
    """The spec a run was made with, as saved in its ledger row (`runs.parameters.spec`): reports and
    review of a run use the model of that run — a user's own registry included — not today's files.
    Runs saved without it (none since specs are saved) fall back to the built-in registry."""
    from pipelines.spec_files import spec_from_dict  # lazy: pydantic, 0.5 s, only for a saved run

    row = con.execute("SELECT registry, parameters FROM runs WHERE run_id = ?", [run_id]).fetchone()
    if row is None:
        raise DoisoatError(f"Không có lần chạy '{run_id}' trong kho dữ liệu.", code="run_not_found")
    registry, parameters = row
    saved = json.loads(parameters or "{}").get("spec")
    if saved:
        return spec_from_dict(saved, f"lần chạy {run_id}")
    if registry not in REGISTRIES:
        raise DoisoatError(
            f"Lần chạy '{run_id}' dùng sổ '{registry}' không có sẵn và không lưu khai báo sổ.", code="run_spec_missing"
        )
    return REGISTRIES[registry]
