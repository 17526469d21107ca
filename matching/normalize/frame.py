"""Normalize a whole frame from a spec-like column list: the one entry point the pipeline uses.

`normalize_columns(df, [("ho_ten", "name"), ("ngay_sinh", "date"), ...], sex_column=...,
dob_column=...)` adds the derived columns of each kind (ARCHITECTURE.md, "Normalized columns")
and a combined `problems` column (List[str]) whose entries are prefixed by the column name
("ho_ten:legacy_tcvn3"). Rows are never dropped or reordered; source columns are never changed.

Kinds beyond the table in ARCHITECTURE.md:
- `year`: a year of birth only (land's nam_sinh): the date columns, precision `year`.
- `amount`: `c_clean` (Float64) from "1.500.000", "1,500,000", "1500000 đ"; problems
  `not_a_number`, `not_positive`.
- `text`: `c_clean` (trimmed, NFC, null when empty), `c_problems` (always empty).
Sex and date columns are processed first so the ID checks can use them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import polars as pl

from matching.normalize.addresses import normalize_address_column
from matching.normalize.dates import normalize_date_column
from matching.normalize.ids import normalize_id_column
from matching.normalize.names import normalize_name_column
from matching.normalize.owners import normalize_owner_column
from matching.normalize.problems import (
    Distinct,
    ProblemAccumulator,
    finish,
    flags_to_str,
    list_to_str,
    prefix_col,
)
from matching.normalize.sex import normalize_sex_column, sex_exprs

_LIST_STR = pl.List(pl.Utf8)
KINDS = ("name", "owner", "date", "year", "id", "sex", "address", "amount", "text")
_ORDER = {"sex": 0, "date": 1, "year": 1}


def parse_amount(value: str | None) -> tuple[float | None, list[str]]:
    """'1.500.000' / '1,500,000' / '1500000 đ' / '1.500.000,5' -> float; never guesses scale."""
    if value is None:
        return None, []
    s = re.sub(r"(?i)\s|vnd|vnđ|đồng|dong|đ|m2|m²", "", str(value))
    if not s:
        return None, []
    if not re.fullmatch(r"-?[\d.,]+", s):
        return None, ["not_a_number"]
    if "." in s and "," in s:
        dec = "." if s.rfind(".") > s.rfind(",") else ","
        s = s.replace("," if dec == "." else ".", "").replace(dec, ".")
    elif s.count(".") + s.count(",") >= 1:
        sep = "." if "." in s else ","
        if re.fullmatch(rf"-?\d{{1,3}}(\{sep}\d{{3}})+", s):
            s = s.replace(sep, "")  # thousands separators
        elif s.count(sep) == 1:
            s = s.replace(sep, ".")  # decimal
        else:
            return None, ["not_a_number"]
    try:
        number = float(s)
    except ValueError:
        return None, ["not_a_number"]
    return number, ([] if number > 0 else ["not_positive"])


def normalize_amount_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    """Add c_clean (Float64) and c_problems (`not_a_number`, `not_positive`)."""
    col = df[c]
    if col.dtype.is_numeric():
        clean = col.cast(pl.Float64)
        out = df.with_columns(clean.alias(f"{c}_clean"))
        out = out.with_columns(flags_to_str([(pl.col(f"{c}_clean") <= 0, "not_positive")], c).alias(prefix_col(c)))
        return finish(out, c, keep_prefixed)
    distinct = Distinct(col)
    uniq = distinct.values.to_list()
    parsed = [parse_amount(v) for v in uniq]
    table = pl.DataFrame(
        {"__raw": uniq, f"{c}_clean": [p[0] for p in parsed], "__p": [p[1] for p in parsed]},
        schema={"__raw": pl.Utf8, f"{c}_clean": pl.Float64, "__p": _LIST_STR},
    )
    table = table.with_columns(list_to_str(pl.col("__p"), c).alias(prefix_col(c))).drop("__p")
    out = distinct.attach(df, table, "__raw")
    return finish(out, c, keep_prefixed)


def normalize_text_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    """Add c_clean (trimmed, NFC, single spaces, null when empty) and an empty c_problems."""
    clean = pl.col(c).cast(pl.Utf8).str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    out = df.with_columns(
        pl.when(clean == "").then(None).otherwise(clean).alias(f"{c}_clean"),
        pl.lit("").alias(prefix_col(c)),
    )
    return finish(out, c, keep_prefixed)


def normalize_columns(
    df: pl.DataFrame,
    columns: Sequence,
    *,
    sex_column: str | None = None,
    dob_column: str | None = None,
    on_column: Callable[[str, int, int], None] | None = None,
) -> pl.DataFrame:
    """Add the derived columns for each (column, kind) and the combined `problems` column.

    Items may also be objects with `.name` and `.kind` (pipelines.spec.ColumnSpec).
    `on_column(name, done, total)` is called after each column, so a caller can show progress:
    the work goes column by column over all rows (values are parsed once per distinct value, so
    cutting the rows into chunks would redo the common values in every chunk)."""
    columns = [(c.name, c.kind) if hasattr(c, "kind") else tuple(c) for c in columns]
    for name, kind in columns:
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r} for {name!r}")
        if name not in df.columns:
            raise KeyError(f"column {name!r} not in frame")
    ordered = sorted(columns, key=lambda nk: _ORDER.get(nk[1], 2))
    out = df
    acc = ProblemAccumulator(df.height)
    for done, (name, kind) in enumerate(ordered, start=1):
        if kind == "name":
            out = normalize_name_column(out, name, keep_prefixed=True)
        elif kind == "owner":
            out = normalize_owner_column(out, name, keep_prefixed=True)
        elif kind in ("date", "year"):
            out = normalize_date_column(out, name, year_only=kind == "year", keep_prefixed=True)
        elif kind == "sex":
            out = normalize_sex_column(out, name, keep_prefixed=True)
        elif kind == "address":
            out = normalize_address_column(out, name, keep_prefixed=True)
        elif kind == "amount":
            out = normalize_amount_column(out, name, keep_prefixed=True)
        elif kind == "text":
            out = normalize_text_column(out, name, keep_prefixed=True)
        elif kind == "id":
            sex = birth_year = None
            if sex_column:
                sex = pl.col(f"{sex_column}_clean") if f"{sex_column}_clean" in out.columns else sex_exprs(sex_column)[0]
            if dob_column:
                if f"{dob_column}_year" in out.columns:
                    birth_year = pl.col(f"{dob_column}_year")
                else:
                    years = normalize_date_column(out.select(dob_column), dob_column)[f"{dob_column}_year"]
                    birth_year = pl.lit(years)
            out = normalize_id_column(out, name, sex=sex, birth_year=birth_year, keep_prefixed=True)
        out = acc.add(out, name)
        if on_column is not None:
            on_column(name, done, len(ordered))
    # entries are grouped by column in processing order (sex and dates first, see _ORDER)
    return out.with_columns(acc.problems())
