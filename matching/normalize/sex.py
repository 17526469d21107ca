"""Sex: Nam / Nữ from the many ways registries write it ("nam", "NỮ", "nu", "M", "F", "Male").

Digits (1/0, 1/2) are not mapped: systems disagree on what they mean, and we never guess.
Computed on the distinct values (a handful) and joined back. Problem code: `sex_unparsed`."""

from __future__ import annotations

import polars as pl

from matching.normalize.fold import fold_expr
from matching.normalize.problems import Distinct, finish, flags_to_str, prefix_col

_MALE = ("nam", "m", "male", "trai", "ong")
_FEMALE = ("nu", "f", "female", "gai", "ba")


def _key(expr: pl.Expr) -> pl.Expr:
    return fold_expr(expr).str.replace_all(r"[^a-z]", "")


def normalize_sex_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    """Add c_clean ('Nam'/'Nữ'/null) and c_problems."""
    raw = df[c].cast(pl.Utf8)
    distinct = Distinct(raw)
    table = pl.DataFrame({"__raw": distinct.values})
    k = _key(pl.col("__raw"))
    clean = pl.when(k.is_in(_MALE)).then(pl.lit("Nam")).when(k.is_in(_FEMALE)).then(pl.lit("Nữ"))
    table = table.with_columns(clean.alias(f"{c}_clean"))
    unparsed = (pl.col("__raw").str.strip_chars() != "") & pl.col(f"{c}_clean").is_null()
    table = table.with_columns(flags_to_str([(unparsed, "sex_unparsed")], c).alias(prefix_col(c)))
    out = distinct.attach(df, table, "__raw")
    return finish(out, c, keep_prefixed)


def sex_exprs(c: str) -> list[pl.Expr]:
    """Row-level expression for c_clean (used when a sex column was not normalized first)."""
    k = _key(pl.col(c).cast(pl.Utf8))
    return [pl.when(k.is_in(_MALE)).then(pl.lit("Nam")).when(k.is_in(_FEMALE)).then(pl.lit("Nữ")).alias(f"{c}_clean")]


def normalize_sex(value: str | None) -> str | None:
    """'NỮ' -> 'Nữ', 'M' -> 'Nam', unknown -> None."""
    df = pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8})
    return normalize_sex_column(df, "v")["v_clean"][0]
