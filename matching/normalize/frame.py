"""Normalize a whole frame from a spec-like column list: the one entry point the pipeline uses.

`normalize_columns(df, [("ho_ten", "name"), ("ngay_sinh", "date"), ...], sex_column=...,
dob_column=...)` adds the derived columns of each kind (ARCHITECTURE.md, "Normalized columns")
and a combined `problems` column (List[str]) whose entries are prefixed by the column name
("ho_ten:legacy_tcvn3"). Rows are never dropped or reordered; source columns are never changed.

Kinds beyond the table in ARCHITECTURE.md:
- `year`: a year of birth only (land's nam_sinh): the date columns, precision `year`.
- `amount`: `c_clean` (Float64), problems `not_a_number`, `not_positive` (amounts.py).
- `text`: `c_clean` (trimmed, NFC, null when empty), `c_problems` (always empty).
Sex and date columns are processed first so the ID checks can use them.

Language: a column item may carry a third element, its language ("vi" by default, or "other";
`pipelines.spec.ColumnSpec.language`). Name and owner columns in another language get no
Vietnamese-only repair (names.py, "Languages"). Other kinds ignore it: dates, sex and amounts have
no Vietnamese text repair, IDs are left to the ID rules, and an address is read against the
Vietnamese administrative units whatever the column's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from matching.normalize.addresses import normalize_address_column
from matching.normalize.amounts import normalize_amount_column
from matching.normalize.dates import normalize_date_column
from matching.normalize.ids import normalize_id_column
from matching.normalize.names import check_language, normalize_name_column
from matching.normalize.owners import normalize_owner_column
from matching.normalize.problems import ProblemAccumulator, finish, prefix_col
from matching.normalize.sex import normalize_sex_column, sex_exprs

KINDS = ("name", "owner", "date", "year", "id", "sex", "address", "amount", "text")
_ORDER = {"sex": 0, "date": 1, "year": 1}


def normalize_text_column(df: pl.DataFrame, c: str, *, keep_prefixed: bool = False) -> pl.DataFrame:
    """Add c_clean (trimmed, NFC, single spaces, null when empty) and an empty c_problems."""
    clean = pl.col(c).cast(pl.Utf8).str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars()
    out = df.with_columns(
        pl.when(clean == "").then(None).otherwise(clean).alias(f"{c}_clean"),
        pl.lit("").alias(prefix_col(c)),
    )
    return finish(out, c, keep_prefixed)


def _item(c) -> tuple[str, str, str]:
    """(name, kind, language) of a column item: a ColumnSpec-like object or a 2- or 3-tuple."""
    if hasattr(c, "kind"):
        return c.name, c.kind, getattr(c, "language", "vi")
    name, kind, *rest = c
    return name, kind, rest[0] if rest else "vi"


def normalize_columns(
    df: pl.DataFrame,
    columns: Sequence,
    *,
    sex_column: str | None = None,
    dob_column: str | None = None,
    on_column: Callable[[str, int, int], None] | None = None,
) -> pl.DataFrame:
    """Add the derived columns for each (column, kind[, language]) and the combined `problems` column.

    Items may also be objects with `.name`, `.kind` and `.language` (pipelines.spec.ColumnSpec).
    `on_column(name, done, total)` is called after each column, so a caller can show progress:
    the work goes column by column over all rows (values are parsed once per distinct value, so
    cutting the rows into chunks would redo the common values in every chunk)."""
    columns = [_item(c) for c in columns]
    for name, kind, language in columns:
        if kind not in KINDS:
            raise ValueError(f"unknown column kind {kind!r} for {name!r}")
        check_language(language)
        if name not in df.columns:
            raise KeyError(f"column {name!r} not in frame")
    ordered = sorted(columns, key=lambda nkl: _ORDER.get(nkl[1], 2))
    out = df
    acc = ProblemAccumulator(df.height)
    for done, (name, kind, language) in enumerate(ordered, start=1):
        if kind == "name":
            out = normalize_name_column(out, name, keep_prefixed=True, language=language)
        elif kind == "owner":
            out = normalize_owner_column(out, name, keep_prefixed=True, language=language)
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
                sex = (
                    pl.col(f"{sex_column}_clean") if f"{sex_column}_clean" in out.columns else sex_exprs(sex_column)[0]
                )
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
