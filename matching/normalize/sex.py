"""Sex: Nam / Nữ from the many ways registries write it ("nam", "NỮ", "nu", "M", "F", "Male").

Digits (1/0, 1/2) are not mapped: systems disagree on what they mean, and we never guess.
Problem code: `sex_unparsed`."""

from __future__ import annotations

import polars as pl

_MALE = ("nam", "m", "male", "trai", "ong")
_FEMALE = ("nu", "f", "female", "gai", "ba", "nư")


def _key(expr: pl.Expr) -> pl.Expr:
    return (
        expr.cast(pl.Utf8)
        .str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"[^a-z]", "")
    )


def sex_exprs(c: str) -> list[pl.Expr]:
    k = _key(pl.col(c))
    raw_empty = pl.col(c).cast(pl.Utf8).str.strip_chars().fill_null("") == ""
    clean = pl.when(k.is_in(_MALE)).then(pl.lit("Nam")).when(k.is_in(_FEMALE)).then(pl.lit("Nữ")).otherwise(None)
    problems = pl.concat_list(pl.when(~raw_empty & clean.is_null()).then(pl.lit("sex_unparsed"))).list.drop_nulls()
    return [clean.alias(f"{c}_clean"), problems.alias(f"{c}_problems")]


def normalize_sex_column(df: pl.DataFrame, c: str) -> pl.DataFrame:
    return df.with_columns(sex_exprs(c))


def normalize_sex(value: str | None) -> str | None:
    """'NỮ' -> 'Nữ', 'M' -> 'Nam', unknown -> None."""
    df = pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8})
    return normalize_sex_column(df, "v")["v_clean"][0]
