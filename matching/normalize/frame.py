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
from collections.abc import Sequence

import polars as pl

from matching.normalize.addresses import normalize_address_column
from matching.normalize.dates import normalize_date_column
from matching.normalize.ids import normalize_id_column
from matching.normalize.names import normalize_name_column
from matching.normalize.owners import normalize_owner_column
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


def normalize_amount_column(df: pl.DataFrame, c: str) -> pl.DataFrame:
    col = df[c]
    if col.dtype.is_numeric():
        clean = col.cast(pl.Float64)
        return df.with_columns(
            clean.alias(f"{c}_clean"),
            pl.concat_list(pl.when(clean <= 0).then(pl.lit("not_positive"))).list.drop_nulls().alias(f"{c}_problems"),
        )
    uniq = col.cast(pl.Utf8).drop_nulls().unique().to_list()
    parsed = [parse_amount(v) for v in uniq]
    table = pl.DataFrame(
        {"__raw": uniq, f"{c}_clean": [p[0] for p in parsed], f"{c}_problems": [p[1] for p in parsed]},
        schema={"__raw": pl.Utf8, f"{c}_clean": pl.Float64, f"{c}_problems": _LIST_STR},
    )
    out = df.with_columns(col.cast(pl.Utf8).alias("__raw")).join(table, on="__raw", how="left", maintain_order="left")
    return out.drop("__raw").with_columns(pl.col(f"{c}_problems").fill_null(pl.lit([], dtype=_LIST_STR)))


def normalize_text_column(df: pl.DataFrame, c: str) -> pl.DataFrame:
    clean = pl.col(c).cast(pl.Utf8).str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    return df.with_columns(
        pl.when(clean == "").then(None).otherwise(clean).alias(f"{c}_clean"),
        pl.lit([], dtype=_LIST_STR).alias(f"{c}_problems"),
    )


def normalize_columns(
    df: pl.DataFrame,
    columns: Sequence[tuple[str, str]],
    *,
    sex_column: str | None = None,
    dob_column: str | None = None,
) -> pl.DataFrame:
    """Add the derived columns for each (column, kind) and the combined `problems` column.

    Items may also be objects with `.name` and `.kind` (pipelines.spec.ColumnSpec)."""
    columns = [(c.name, c.kind) if hasattr(c, "kind") else tuple(c) for c in columns]
    for name, kind in columns:
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r} for {name!r}")
        if name not in df.columns:
            raise KeyError(f"column {name!r} not in frame")
    ordered = sorted(columns, key=lambda nk: _ORDER.get(nk[1], 2))
    out = df
    for name, kind in ordered:
        if kind == "name":
            out = normalize_name_column(out, name)
        elif kind == "owner":
            out = normalize_owner_column(out, name)
        elif kind in ("date", "year"):
            out = normalize_date_column(out, name, year_only=kind == "year")
        elif kind == "sex":
            out = normalize_sex_column(out, name)
        elif kind == "address":
            out = normalize_address_column(out, name)
        elif kind == "amount":
            out = normalize_amount_column(out, name)
        elif kind == "text":
            out = normalize_text_column(out, name)
        elif kind == "id":
            sex = birth_year = None
            if sex_column:
                sex = pl.col(f"{sex_column}_clean") if f"{sex_column}_clean" in out.columns else sex_exprs(sex_column)[0]
            if dob_column:
                if f"{dob_column}_year" not in out.columns:
                    out = normalize_date_column(out, dob_column)
                birth_year = pl.col(f"{dob_column}_year")
            out = normalize_id_column(out, name, sex=sex, birth_year=birth_year)
    prefixed = [
        pl.col(f"{name}_problems").list.eval(pl.lit(f"{name}:") + pl.element()) for name, _ in columns
    ]
    problems = pl.concat_list(prefixed) if prefixed else pl.lit([], dtype=_LIST_STR)
    return out.with_columns(problems.alias("problems"))
