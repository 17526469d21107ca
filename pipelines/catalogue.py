"""The catalogue of registries: every spec file shipped in the package, plus a user's own.

Why a catalogue read from files: the CLI's choices, `doisoat registries`, the warehouse's tables
and the reports must all know the same registries, and adding one must need no Python — so the
list is whatever registry spec files (`spec: registry`, pipelines/spec_files.py) the package
ships in its registry folders (social_welfare/, pension/, civil_status/, land/, ...), found on
disk, not a list of names written in code. A user's own file is loaded by `load_registry(path)`.
The reference side (the CSDLQG extract) has its shipped spec too: `reference_columns()`.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

import yaml

from pipelines.errors import InputError
from pipelines.spec import ColumnSpec, RegistrySpec

POPULATION_SPEC = "population.yaml"  # the shipped reference-side spec


def shipped_spec_files() -> list[Path]:
    """The registry spec files inside the package's folders, in path order."""
    root = Path(str(files("pipelines")))
    return [p for p in sorted(root.glob("*/*.yaml")) if _plain(p).get("spec") == "registry"]


def _plain(path: Path) -> dict:
    """A shipped file's top-level keys, read without the model (the files are checked in full by
    `known_registries` and by tests/test_spec_files.py)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def known_registries() -> dict[str, RegistrySpec]:
    """Built-in registries by name (CLI and warehouse name), from the shipped spec files."""
    return dict(_load_shipped(vocabulary=True))


def registry_titles() -> dict[str, str]:
    """Name -> Vietnamese title of the built-in registries, for the CLI's choices and help.
    Skips the engine-vocabulary check (and with it the duckdb/polars imports, pipelines/spec_files.py)
    so that `doisoat --help` starts fast; the shipped files are loaded fully by the tests."""
    return {str(d["name"]): str(d["title_vi"]) for d in map(_plain, shipped_spec_files())}


@cache
def _load_shipped(vocabulary: bool) -> dict[str, RegistrySpec]:
    from pipelines.spec_files import (
        load_spec_file,  # lazy: pydantic, 0.5 s that `doisoat --help` (titles only) does not need
    )

    out: dict[str, RegistrySpec] = {}
    where: dict[str, Path] = {}
    for path in shipped_spec_files():
        spec = load_spec_file(path, vocabulary=vocabulary)
        if spec.name in out:
            raise InputError(
                f"sổ '{spec.name}' được khai báo hai lần ({where[spec.name]} và {path})", code="spec_duplicate"
            )
        out[spec.name], where[spec.name] = spec, path
    return out


def load_registry(path: str | Path) -> RegistrySpec:
    """A user's own registry spec file (`doisoat run --spec my_registry.yaml`). Its name must not
    take a built-in registry's name (unless it declares exactly that registry): runs of both would
    share one warehouse table."""
    from pipelines.spec_files import (
        load_spec_file,  # lazy: pydantic, 0.5 s that `doisoat --help` (titles only) does not need
    )

    spec = load_spec_file(path)
    builtin = known_registries().get(spec.name)
    if builtin is not None and builtin != spec:
        raise InputError(
            f"tên sổ '{spec.name}' trùng với một sổ có sẵn; hãy đặt tên khác trong khóa name",
            file=str(path),
            code="spec_name_taken",
        )
    return spec


def reference_columns(path: str | Path | None = None) -> tuple[ColumnSpec, ...]:
    """Columns of the reference side: the shipped CSDLQG extract spec (pipelines/population.yaml)
    by default, or a user's own reference spec file (`spec: reference`)."""
    from pipelines.spec_files import (
        load_reference_file,  # lazy: pydantic, 0.5 s that `doisoat --help` (titles only) does not need
    )

    return load_reference_file(Path(str(files("pipelines") / POPULATION_SPEC)) if path is None else Path(path))
