"""Reference tables of Vietnamese administrative units, built from the `vietnamadminunits` package.

Source: the package's bundled data files (`data/dataset.db`, SQLite tables admin_units and
admin_units_legacy; `data/converter_2025.json`, the old-ward → new-unit conversion), version
bounded in pyproject.toml. Why here: the sample generator, the address normalizer and the ID
normalizer (province codes) need the same tables, and
the package's own `convert_address_2025` scans Python dicts per address and calls an online
geocoder for split wards (see ../shared/reference/ecosystem.md), which is unusable offline and
for millions of rows. We read its bundled data files once and expose them as polars frames, so
mapping an address becomes a join.

- `current_units()`: the 3,321 communes/wards in force since 1 July 2025 (two levels).
- `legacy_province_codes()`: the 63 pre-2025 two-digit province codes (the ones personal IDs
  start with, after a leading "0").
- `legacy_units()`: the 10,040 wards before 1 July 2025 (three levels) with the current unit
  each one maps to; a ward that was split between several new units has `is_split = True`, its
  candidate codes in `new_ma_xa_candidates` and the package's default in `new_ma_xa`. The
  default is only a hint: callers must report a split ward as ambiguous, never silently use it.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from functools import lru_cache
from pathlib import Path

import polars as pl


def _data_path(name: str) -> str:
    """A bundled data file of the package, found without importing it: its `__init__` imports its
    address parser (geopy, dict loading), 1.5–5 s that a run never needs."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("vietnamadminunits is not installed")
    return str(Path(list(spec.submodule_search_locations)[0]) / "data" / name)


def _query(sql: str) -> pl.DataFrame:
    with sqlite3.connect(f"file:{_data_path('dataset.db')}?mode=ro", uri=True) as con:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
    return pl.DataFrame(rows, schema=cols, orient="row")


@lru_cache(maxsize=1)
def current_units() -> pl.DataFrame:
    """Current (2025) units: ma_tinh, ten_tinh, ma_xa, ten_xa and accent-free lookup keys."""
    return _query(
        """
        SELECT provinceCode AS ma_tinh, province AS ten_tinh, provinceShort AS ten_tinh_ngan,
               wardCode AS ma_xa, ward AS ten_xa, wardShort AS ten_xa_ngan, wardType AS loai_xa,
               provinceKey AS tinh_key, provinceShortKey AS tinh_short_key,
               wardKey AS xa_key, wardShortKey AS xa_short_key
        FROM admin_units
        ORDER BY provinceCode, wardCode
        """
    )


@lru_cache(maxsize=1)
def legacy_units() -> pl.DataFrame:
    """Pre-2025 three-level units with the current unit(s) each maps to."""
    legacy = _query(
        """
        SELECT provinceCode AS ma_tinh_cu, province AS ten_tinh_cu, provinceShort AS ten_tinh_cu_ngan,
               districtCode AS ma_huyen_cu, district AS ten_huyen_cu, districtShort AS ten_huyen_cu_ngan,
               districtType AS loai_huyen_cu,
               wardCode AS ma_xa_cu, ward AS ten_xa_cu, wardShort AS ten_xa_cu_ngan, wardType AS loai_xa_cu,
               provinceKey AS tinh_cu_key, provinceShortKey AS tinh_cu_short_key,
               districtKey AS huyen_cu_key, districtShortKey AS huyen_cu_short_key,
               wardKey AS xa_cu_key, wardShortKey AS xa_cu_short_key
        FROM admin_units_legacy
        """
    )
    with open(_data_path("converter_2025.json"), encoding="utf-8") as fh:
        conv = json.load(fh)
    cur = current_units()
    code_of = {(p, w): c for p, w, c in cur.select("tinh_key", "xa_key", "ma_xa").iter_rows()}
    prov_code = dict(cur.select("tinh_key", "ma_tinh").unique().iter_rows())

    rows: list[tuple] = []
    for new_prov, wards in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, old_keys in wards.items():
            code = code_of.get((new_prov, new_ward))
            for old_key in old_keys:
                rows.append((old_key, prov_code.get(new_prov), code, False, [code] if code else []))
    for new_prov, olds in conv["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, candidates in olds.items():
            codes = [code_of.get((new_prov, c["newWardKey"])) for c in candidates]
            codes = [c for c in codes if c]
            default = next(
                (code_of.get((new_prov, c["newWardKey"])) for c in candidates if c.get("isDefaultNewWard")),
                codes[0] if codes else None,
            )
            rows.append((old_key, prov_code.get(new_prov), default, len(set(codes)) > 1, codes))
    mapping = pl.DataFrame(
        rows,
        schema={
            "old_key": pl.Utf8,
            "new_ma_tinh": pl.Utf8,
            "new_ma_xa": pl.Utf8,
            "is_split": pl.Boolean,
            "new_ma_xa_candidates": pl.List(pl.Utf8),
        },
        orient="row",
    ).unique(subset="old_key", keep="first")
    legacy = legacy.with_columns(old_key=pl.concat_str(["tinh_cu_key", "huyen_cu_key", "xa_cu_key"], separator="_"))
    legacy = legacy.join(mapping, on="old_key", how="left").drop("old_key")
    # Island districts had no wards; since 2025 they are special zones ("Đặc khu") named like
    # the old district. Map them by name.
    zones = cur.filter(pl.col("loai_xa") == "Đặc khu").select(
        huyen_cu_short_key="xa_short_key", zone_ma_tinh="ma_tinh", zone_ma_xa="ma_xa"
    )
    legacy = legacy.join(zones, on="huyen_cu_short_key", how="left")
    no_ward = pl.col("xa_cu_key").is_null()
    return legacy.with_columns(
        new_ma_tinh=pl.when(no_ward).then("zone_ma_tinh").otherwise("new_ma_tinh"),
        new_ma_xa=pl.when(no_ward).then("zone_ma_xa").otherwise("new_ma_xa"),
        is_split=pl.when(no_ward).then(False).otherwise("is_split"),
        new_ma_xa_candidates=pl.when(no_ward)
        .then(pl.concat_list(pl.col("zone_ma_xa")).list.drop_nulls())
        .otherwise("new_ma_xa_candidates"),
    ).drop("zone_ma_tinh", "zone_ma_xa")


@lru_cache(maxsize=1)
def legacy_province_codes() -> tuple[str, ...]:
    """The pre-2025 (63-province) GSO codes, sorted ('01' … '96')."""
    return tuple(legacy_units()["ma_tinh_cu"].drop_nulls().unique().sort().to_list())
