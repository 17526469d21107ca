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
from matching.normalize.problems import finish, flags_to_str, prefix_col

_LIST_STR = pl.List(pl.Utf8)


@lru_cache(maxsize=1)
def province_codes() -> tuple[str, ...]:
    """Three-digit province prefixes of personal IDs: "0" + the pre-2025 two-digit GSO code."""
    codes = legacy_units()["ma_tinh_cu"].drop_nulls().unique().sort().to_list()
    return tuple("0" + c for c in codes)


def _flag(cond: pl.Expr, code: str) -> pl.Expr:
    return pl.when(cond).then(pl.lit(code))


def normalize_id_column(
    df: pl.DataFrame,
    c: str,
    *,
    sex: pl.Expr | None = None,
    birth_year: pl.Expr | None = None,
    keep_prefixed: bool = False,
) -> pl.DataFrame:
    """Add c_clean, c_kind, c_problems. `sex` gives 'Nam'/'Nữ'/null, `birth_year` an integer.

    Computed in a few materialized steps (temporary `__id_*` columns): one big nested expression
    re-evaluates shared sub-expressions many times and was 50x slower."""
    provinces = pl.Series(province_codes())

    def structure_ok(s: pl.Expr, max_century: str) -> pl.Expr:
        return s.str.slice(0, 3).is_in(provinces.implode()) & s.str.slice(3, 1).is_between(pl.lit("0"), pl.lit(max_century))

    raw = pl.col(c).cast(pl.Utf8).str.strip_chars()
    tmp = df.select(
        __id_raw=pl.when(raw == "").then(None).otherwise(raw),
        __id_sex=sex if sex is not None else pl.lit(None, dtype=pl.Utf8),
        __id_by=birth_year.cast(pl.Int32) if birth_year is not None else pl.lit(None, dtype=pl.Int32),
    )
    tmp = tmp.with_columns(__id_digits=pl.col("__id_raw").str.replace(r"\.0+$", "").str.replace_all(r"^'|[\s.\-_/,']", ""))
    tmp = tmp.with_columns(__id_ok=pl.col("__id_digits").str.contains(r"^\d+$"), __id_n=pl.col("__id_digits").str.len_bytes())
    tmp = tmp.with_columns(
        __id_r12=pl.col("__id_ok") & (pl.col("__id_n") == 11) & structure_ok(pl.lit("0") + pl.col("__id_digits"), "3"),
        __id_r9=pl.col("__id_ok") & (pl.col("__id_n") == 8),
    )
    tmp = tmp.with_columns(
        __id_clean=pl.when(pl.col("__id_r12") | pl.col("__id_r9")).then(pl.lit("0") + pl.col("__id_digits"))
        .when(pl.col("__id_ok")).then(pl.col("__id_digits"))
    )
    clean = pl.col("__id_clean")
    tmp = tmp.with_columns(__id_len=clean.str.len_bytes(), __id_prov=clean.str.slice(0, 3).is_in(provinces.implode()))
    clen = pl.col("__id_len")
    tmp = tmp.with_columns(__id_cccd=(clen == 12) & pl.col("__id_prov") & clean.str.slice(3, 1).is_between(pl.lit("0"), pl.lit("5")))
    is_cccd = pl.col("__id_cccd")
    kind = (
        pl.when(pl.col("__id_raw").is_null()).then(None)
        .when(clean.is_null()).then(pl.lit("invalid"))
        .when(is_cccd).then(pl.lit("cccd12"))
        .when(clen == 12).then(pl.lit("cmnd12"))
        .when(clen == 9).then(pl.lit("cmnd9"))
        .when(clen == 10).then(pl.lit("bhxh10"))
        .otherwise(pl.lit("invalid"))
    )
    restored = pl.col("__id_r12") | pl.col("__id_r9")
    d4 = clean.str.slice(3, 1).cast(pl.Int32, strict=False)
    sex_e, by = pl.col("__id_sex"), pl.col("__id_by")
    id_year = 1900 + (d4 // 2) * 100 + clean.str.slice(4, 2).cast(pl.Int32, strict=False)
    flags = [
        (pl.col("__id_ok") & (pl.col("__id_digits") != pl.col("__id_raw")) & ~restored, "id_formatting"),
        (pl.col("__id_raw").is_not_null() & ~pl.col("__id_ok"), "id_not_digits"),
        (restored, "id_leading_zero_restored"),
        (pl.col("__id_ok") & ~clen.is_in([9, 10, 12]), "id_bad_length"),
        ((clen == 12) & ~pl.col("__id_prov"), "id_province_unknown"),
        (is_cccd & sex_e.is_not_null() & (((d4 % 2) == 0) != (sex_e == "Nam")), "id_sex_mismatch"),
        (is_cccd & by.is_not_null() & (id_year != by), "id_birth_year_mismatch"),
    ]
    tmp = tmp.select(
        clean.alias(f"{c}_clean"),
        kind.alias(f"{c}_kind"),
        flags_to_str(flags, c).alias(prefix_col(c)),
    )
    return finish(pl.concat([df, tmp], how="horizontal"), c, keep_prefixed)


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
