"""Personal ID numbers, old CMND numbers and BHXH numbers, unique and structurally valid.

Why structured: the ID normalizer checks a 12-digit personal ID against the person's sex and
birth year (vn-facts.md, Thông tư 59/2021/TT-BCA), so synthetic IDs must follow the same rule:
digits 1–3 = "0" + the pre-2025 (63-province) code of the province where the birth was
registered, digit 4 = century and sex (0/1 male/female born 1900–1999, 2/3 born 2000–2099),
digits 5–6 = the last two digits of the birth year, digits 7–12 random.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def _unique_random(rng: np.random.Generator, prefix: np.ndarray, low: int, high: int, scale: int) -> np.ndarray:
    """prefix * scale + a random number in [low, high), redrawn until all values are unique."""
    values = prefix.astype(np.int64) * scale + rng.integers(low, high, size=prefix.size)
    while True:
        _, first = np.unique(values, return_index=True)
        dup = np.ones(values.size, dtype=bool)
        dup[first] = False
        if not dup.any():
            return values
        values[dup] = prefix[dup].astype(np.int64) * scale + rng.integers(low, high, size=int(dup.sum()))


def personal_ids(
    rng: np.random.Generator, birth_province: np.ndarray, birth_year: np.ndarray, female: np.ndarray
) -> pl.Series:
    """12-digit so_dinh_danh strings (leading zero kept)."""
    century = birth_year // 100 - 19
    prefix = birth_province.astype(np.int64) * 1000 + (century * 2 + female.astype(np.int64)) * 100 + birth_year % 100
    values = _unique_random(rng, prefix, 0, 1_000_000, 1_000_000)
    return pl.Series(values).cast(pl.Utf8).str.zfill(12)


def cmnd_numbers(rng: np.random.Generator, n: int) -> pl.Series:
    """Unique 9-digit old CMND strings; the first two digits look like old CMND area codes."""
    values = _unique_random(rng, rng.integers(1, 39, size=n), 0, 10_000_000, 10_000_000)
    return pl.Series(values).cast(pl.Utf8).str.zfill(9)


def bhxh_numbers(rng: np.random.Generator, province: np.ndarray) -> list[str]:
    """Unique 10-digit social-insurance book numbers starting with the province code."""
    values = _unique_random(rng, province.astype(np.int64), 0, 100_000_000, 100_000_000)
    return pl.Series(values).cast(pl.Utf8).str.zfill(10).to_list()
