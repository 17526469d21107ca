"""Amounts (money, land area) as officers type them: "1.500.000", "1,500,000", "1 500 000 đ".

Why one module: the pipeline's normalization and the expectation suites (validation/suites.py)
both read amounts, and two parsers had drifted ("5 triệu" gave no value in one, 5.0 in the other).
This is the only amount parser.

What is read (exactly, or not at all):
- spaces, and the units "đ", "đồng", "VND"/"VNĐ", "m2"/"m²", are dropped: "1 500 000 đ" -> 1500000;
- a single kind of separator grouping every three digits is a thousands separator ("1.500.000",
  "1,500,000", "1.500" -> 1500); a single separator otherwise is the decimal mark ("120,5",
  "45.6"); with both kinds, the last one is the decimal mark ("1.500.000,5", "1,500,000.5");
- anything else is not a number (`not_a_number`, no value): other letters or words, including
  scale words ("5 triệu", "2 tỷ", "500 nghìn", "5tr") — reading them would mean guessing what the
  officer meant ("5 triệu rưỡi", "1,5 tr"), so the value is flagged for the officer to correct,
  never guessed; several decimal marks ("1.2.3"); digits mixed with text ("abc 7").
- zero or a negative value is read but flagged `not_positive`.
"""

from __future__ import annotations

import re

import polars as pl

from matching.normalize.problems import (
    Distinct,
    finish,
    flags_to_str,
    list_to_str,
    prefix_col,
)

_LIST_STR = pl.List(pl.Utf8)


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
