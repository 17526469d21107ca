"""The registries doisoat knows, by CLI name. Adding a registry = a folder with a spec + one line here."""

from __future__ import annotations

from pipelines.civil_status.spec import BIRTHS, DEATHS
from pipelines.land.spec import SPEC as LAND
from pipelines.pension.spec import SPEC as PENSION
from pipelines.social_welfare.spec import SPEC as SOCIAL_WELFARE
from pipelines.spec import RegistrySpec

REGISTRIES: dict[str, RegistrySpec] = {spec.name: spec for spec in (SOCIAL_WELFARE, PENSION, BIRTHS, DEATHS, LAND)}


def get_spec(name: str) -> RegistrySpec:
    try:
        return REGISTRIES[name]
    except KeyError:
        known = ", ".join(REGISTRIES)
        raise SystemExit(f"Không có sổ đăng ký '{name}'. Các sổ đã khai báo: {known}") from None
