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

from matching.normalize.problems import finish, flags_to_str_rows, prefix_col
from matching.reference.admin_units import legacy_province_codes

_LIST_STR = pl.List(pl.Utf8)

# The kinds that are a personal ID number (`bhxh10` is a social-insurance code, `invalid` none).
PERSONAL_ID_KINDS = ("cccd12", "cmnd9", "cmnd12")
# The problems saying a 12-digit personal ID disagrees with its row (sex, birth year) or with the
# known province codes.
ROW_MISMATCH_PROBLEMS = ("id_sex_mismatch", "id_birth_year_mismatch", "id_province_unknown")


@lru_cache(maxsize=1)
def province_codes() -> tuple[str, ...]:
    """Three-digit province prefixes of personal IDs: "0" + the pre-2025 two-digit GSO code."""
    return tuple("0" + c for c in legacy_province_codes())


def normalize_id_column(
    df: pl.DataFrame,
    c: str,
    *,
    sex: pl.Expr | None = None,
    birth_year: pl.Expr | None = None,
    keep_prefixed: bool = False,
) -> pl.DataFrame:
    """Add c_clean, c_kind, c_problems. `sex` gives 'Nam'/'Nữ'/null, `birth_year` an integer.

    Most IDs are already plain digits, so the repairs (separators, Excel float, lost zero) run on
    the few rows that need them (gather, fix, scatter back) and the checks are one pass of cheap
    string slices over the whole column."""
    provinces = pl.Series(province_codes()).implode()
    raw = df[c].cast(pl.Utf8).str.strip_chars()
    raw = pl.select(pl.when(raw == "").then(None).otherwise(raw)).to_series().alias("__raw")
    # plain digits: an integer cast is ~5x faster than a regex over millions of IDs
    plain = (raw.cast(pl.UInt64, strict=False).is_not_null() & ~raw.str.starts_with("+")).fill_null(False)
    idx = (~plain).arg_true()
    fixed = raw.gather(idx).str.replace(r"\.0+$", "").str.replace_all(r"^'|[\s.\-_/,']", "")
    digits = raw.clone().scatter(idx, fixed) if idx.len() else raw
    ok = plain.clone().scatter(idx, fixed.str.contains(r"^[0-9]+$").fill_null(False)) if idx.len() else plain
    n = digits.str.len_bytes()
    # lost leading zero, only where certain: 8 digits (CMND) or 11 digits whose padded form is a
    # personal-ID structure
    sidx = (ok & n.is_in([8, 11])).fill_null(False).arg_true()
    padded = "0" + digits.gather(sidx)
    rsub = (padded.str.len_bytes() == 9) | (
        padded.str.slice(0, 3).is_in(provinces) & padded.str.slice(3, 1).is_between("0", "3")
    )
    restore = (
        pl.repeat(False, df.height, eager=True).scatter(sidx.filter(rsub), True)
        if sidx.len()
        else pl.repeat(False, df.height, eager=True)
    )
    clean = digits.clone().scatter(sidx.filter(rsub), padded.filter(rsub)) if sidx.len() else digits
    bad = (~ok).arg_true()
    clean = clean.scatter(bad, None) if bad.len() else clean
    clean = clean.alias("__clean")
    extra = df.select(
        __sex=sex if sex is not None else pl.lit(None, dtype=pl.Utf8),
        __by=birth_year.cast(pl.Int32) if birth_year is not None else pl.lit(None, dtype=pl.Int32),
    )
    tmp = pl.DataFrame({"__raw": raw, "__digits": digits, "__ok": ok, "__restored": restore, "__clean": clean})
    tmp = pl.concat([tmp, extra], how="horizontal")
    cl = pl.col("__clean")
    tmp = tmp.with_columns(
        __len=cl.str.len_bytes(),
        __prov=cl.str.slice(0, 3).is_in(provinces),
        __d4=cl.str.slice(3, 1).cast(pl.Int32, strict=False),
    )
    clen, d4 = pl.col("__len"), pl.col("__d4")
    is_cccd = (clen == 12) & pl.col("__prov") & (d4 <= 5)
    kind = (
        pl.when(pl.col("__raw").is_null())
        .then(None)
        .when(cl.is_null())
        .then(pl.lit("invalid"))
        .when(is_cccd)
        .then(pl.lit("cccd12"))
        .when(clen == 12)
        .then(pl.lit("cmnd12"))
        .when(clen == 9)
        .then(pl.lit("cmnd9"))
        .when(clen == 10)
        .then(pl.lit("bhxh10"))
        .otherwise(pl.lit("invalid"))
    )
    restored = pl.col("__restored")
    sex_e, by = pl.col("__sex"), pl.col("__by")
    id_year = 1900 + (d4 // 2) * 100 + cl.str.slice(4, 2).cast(pl.Int32, strict=False)
    flags = [
        (pl.col("__ok") & (pl.col("__digits") != pl.col("__raw")) & ~restored, "id_formatting"),
        (pl.col("__raw").is_not_null() & ~pl.col("__ok"), "id_not_digits"),
        (restored, "id_leading_zero_restored"),
        (pl.col("__ok") & ~clen.is_in([9, 10, 12]), "id_bad_length"),
        ((clen == 12) & ~pl.col("__prov"), "id_province_unknown"),
    ]
    if sex is not None:
        flags.append((is_cccd & sex_e.is_not_null() & (((d4 % 2) == 0) != (sex_e == "Nam")), "id_sex_mismatch"))
    if birth_year is not None:
        flags.append((is_cccd & by.is_not_null() & (id_year != by), "id_birth_year_mismatch"))
    problems = flags_to_str_rows(tmp, flags).alias(prefix_col(c))
    tmp = tmp.select(cl.alias(f"{c}_clean"), kind.alias(f"{c}_kind")).with_columns(problems)
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
