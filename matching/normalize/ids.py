"""ID numbers: 12-digit personal ID (CCCD / số định danh), 9-digit CMND, 12-digit CMND, 10-digit
BHXH code.

Why vectorized: every population row has a different ID, so there is nothing to deduplicate; the
whole column is cleaned with polars string expressions.

Cleaning: spaces, dots, dashes and a leading apostrophe (Excel text marker) are removed, a trailing
".0" (the ID went through a float) is dropped. An 11-digit value whose zero-padded form is a valid
personal-ID structure (province code + century digit 0-3) lost its leading zero in Excel: it is
restored (`id_leading_zero_restored`). An 8-digit value can only be a 9-digit CMND that lost its
zero (CMND numbers of Hà Nội, Hải Phòng... start with 0): restored the same way.

Kind of a 12-digit number: the 12-digit CMND issued 2012-2016 used the same layout as today's
personal ID (province, century/sex digit, birth year) and those numbers became personal IDs, so
the two cannot be told apart by the number; we call a 12-digit number `cccd12` when digits 1-3
are "0" + a pre-2025 GSO province code and digit 4 is 0-5, else `cmnd12` (with problem
`id_province_unknown` when the first three digits are not a province code). Both kinds go to
the person schema's `id12`.

Checks of a `cccd12` against the row (each a problem, never a rejection — the registry's sex or
date may be the wrong side): `id_sex_mismatch` (digit 4 even = male, odd = female),
`id_birth_year_mismatch` (digit 4 gives the century: 0/1 1900s, 2/3 2000s, 4/5 2100s; digits 5-6
the year). Other codes: `id_formatting` (separators or apostrophe removed), `id_not_digits`,
`id_bad_length`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import polars as pl

from matching.normalize.admin_units import legacy_units

_LIST_STR = pl.List(pl.Utf8)


@lru_cache(maxsize=1)
def province_codes() -> tuple[str, ...]:
    """Three-digit province prefixes of personal IDs: "0" + the pre-2025 two-digit GSO code."""
    codes = legacy_units()["ma_tinh_cu"].drop_nulls().unique().sort().to_list()
    return tuple("0" + c for c in codes)


def _flag(cond: pl.Expr, code: str) -> pl.Expr:
    return pl.when(cond).then(pl.lit(code))


def id_exprs(c: str, sex: pl.Expr | None = None, birth_year: pl.Expr | None = None) -> list[pl.Expr]:
    """Expressions producing c_clean, c_kind, c_problems from column `c`.

    `sex` is an expression giving 'Nam'/'Nữ'/null, `birth_year` an integer expression."""
    provinces = list(province_codes())
    raw = pl.col(c).cast(pl.Utf8).str.strip_chars()
    raw = pl.when(raw == "").then(None).otherwise(raw)
    no_float = raw.str.replace(r"\.0+$", "")
    digits = no_float.str.replace_all(r"^'|[\s.\-_/,']", "")
    all_digits = digits.str.contains(r"^\d+$")
    n = digits.str.len_chars()
    padded = pl.lit("0") + digits

    def structure_ok(s: pl.Expr, max_century: str) -> pl.Expr:
        return s.str.slice(0, 3).is_in(provinces) & s.str.slice(3, 1).is_between(pl.lit("0"), pl.lit(max_century))

    restore12 = all_digits & (n == 11) & structure_ok(padded, "3")
    restore9 = all_digits & (n == 8)
    clean = (
        pl.when(restore12 | restore9).then(padded).when(all_digits).then(digits).otherwise(None)
    )
    clen = clean.str.len_chars()
    is_cccd = (clen == 12) & structure_ok(clean, "5")
    kind = (
        pl.when(raw.is_null()).then(None)
        .when(clean.is_null()).then(pl.lit("invalid"))
        .when(is_cccd).then(pl.lit("cccd12"))
        .when(clen == 12).then(pl.lit("cmnd12"))
        .when(clen == 9).then(pl.lit("cmnd9"))
        .when(clen == 10).then(pl.lit("bhxh10"))
        .otherwise(pl.lit("invalid"))
    )
    d4 = clean.str.slice(3, 1).cast(pl.Int32, strict=False)
    flags = [
        _flag(all_digits & (digits != raw) & ~(restore12 | restore9), "id_formatting"),
        _flag(raw.is_not_null() & ~all_digits, "id_not_digits"),
        _flag(restore12 | restore9, "id_leading_zero_restored"),
        _flag(all_digits & ~clen.is_in([9, 10, 12]), "id_bad_length"),
        _flag((clen == 12) & ~clean.str.slice(0, 3).is_in(provinces), "id_province_unknown"),
    ]
    if sex is not None:
        id_male = (d4 % 2) == 0
        flags.append(_flag(is_cccd & sex.is_not_null() & (id_male != (sex == "Nam")), "id_sex_mismatch"))
    if birth_year is not None:
        id_year = 1900 + (d4 // 2) * 100 + clean.str.slice(4, 2).cast(pl.Int32, strict=False)
        flags.append(
            _flag(is_cccd & birth_year.is_not_null() & (id_year != birth_year.cast(pl.Int32)), "id_birth_year_mismatch")
        )
    problems = pl.concat_list(flags).list.drop_nulls()
    return [
        clean.alias(f"{c}_clean"),
        kind.alias(f"{c}_kind"),
        problems.alias(f"{c}_problems"),
    ]


def normalize_id_column(
    df: pl.DataFrame, c: str, *, sex: pl.Expr | None = None, birth_year: pl.Expr | None = None
) -> pl.DataFrame:
    return df.with_columns(id_exprs(c, sex, birth_year))


@dataclass(frozen=True)
class NormalizedId:
    clean: str | None
    kind: str | None
    problems: tuple[str, ...]


def normalize_id(value: object, sex: str | None = None, birth_year: int | None = None) -> NormalizedId:
    """One ID through the same expressions as a column."""
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    df = pl.DataFrame(
        {"v": [None if value is None else str(value)], "sex": [sex], "by": [birth_year]},
        schema={"v": pl.Utf8, "sex": pl.Utf8, "by": pl.Int32},
    )
    row = normalize_id_column(df, "v", sex=pl.col("sex"), birth_year=pl.col("by")).row(0, named=True)
    return NormalizedId(row["v_clean"], row["v_kind"], tuple(row["v_problems"]))
