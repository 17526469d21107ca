"""The registries doisoat knows, by CLI name.

They are the spec files shipped in the registry folders (`pipelines/<registry>/*.yaml`, read and
checked by pipelines/catalogue.py): adding a registry means adding a YAML file, no Python.
"""

from __future__ import annotations

from pipelines.catalogue import known_registries
from pipelines.spec import RegistrySpec

REGISTRIES: dict[str, RegistrySpec] = known_registries()


def get_spec(name: str) -> RegistrySpec:
    try:
        return REGISTRIES[name]
    except KeyError:
        known = ", ".join(REGISTRIES)
        raise SystemExit(f"Không có sổ đăng ký '{name}'. Các sổ đã khai báo: {known}") from None
