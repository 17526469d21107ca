"""The one accent-folding rule, written for the three places it is evaluated.

Vietnamese text is compared accent-free in many places (header aliases, decision words, payment
modes, surname keys, address parts, date words). Each used to carry its own copy of the rule and
the copies drifted; now there is one rule — đ/Đ → d, canonical decomposition, combining marks
dropped, lower case, runs of whitespace collapsed and trimmed — rendered for Python strings
(`fold`), polars columns (`fold_expr`) and DuckDB SQL (`fold_sql`). Callers that need a stricter
key (letters and digits only) strip further from the folded text (`compact_key`).
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

_SPACES = re.compile(r"\s+")
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def fold(text: object) -> str:
    """Accent-free, lower-case text with single spaces ("  Đỗ  Thị " -> "do thi")."""
    decomposed = unicodedata.normalize("NFD", str(text or "").replace("đ", "d").replace("Đ", "D"))
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", bare.lower()).strip()


def compact_key(text: object) -> str:
    """`fold` keeping letters and digits only: the key of a header or a typed word ("HỌ VÀ TÊN" -> "hovaten")."""
    return _NOT_ALNUM.sub("", fold(text))


def fold_expr(expr: pl.Expr) -> pl.Expr:
    """`fold` as a polars expression (vectorized: no Python call per row)."""
    return (
        expr.str.replace_all("[đĐ]", "d")
        .str.normalize("NFD")
        .str.replace_all(r"\p{M}", "")
        .str.to_lowercase()
        .str.replace_all(r"\s+", " ")
        .str.strip_chars()
    )


def fold_sql(sql_expr: str) -> str:
    """`fold` as a DuckDB expression over `sql_expr` (an expression of the caller's, never input text)."""
    replaced = f"replace(replace({sql_expr}, 'đ', 'd'), 'Đ', 'D')"
    return f"trim(regexp_replace(lower(strip_accents({replaced})), '\\s+', ' ', 'g'))"
