"""Build the person schema (ARCHITECTURE.md) from a normalized frame.

Why one function: every registry and the population must feed the matcher exactly the same
columns, derived the same way from the normalizers' output (`c_clean`, `c_key`, `c_year`,
`c_kind`, `c_ma_xa`, ...). The pipeline (`pipelines/normalize.py`, which the benchmark also
runs) calls it; `roles` says which source column plays which person role:

    to_person_schema(df, {"ho_ten": "ho_ten", "ngay_sinh": "ngay_sinh", "gioi_tinh": "gioi_tinh",
                          "id": "so_cccd", "dia_chi": "dia_chi"})
    to_person_schema(pop, {"ho_ten": "ho_ten", "ngay_sinh": "ngay_sinh", "gioi_tinh": "gioi_tinh",
                           "id12": "so_dinh_danh", "cmnd9": "so_cmnd_cu", "ma_tinh": "ma_tinh",
                           "ma_xa": "ma_xa", "ho_ten_cha": "ho_ten_cha", "ho_ten_me": "ho_ten_me"})

Roles: ho_ten, ngay_sinh, gioi_tinh, id (a registry ID of any kind: sorted into id12 / cmnd9 by
its `c_kind`), id12 and cmnd9 (population ID columns, normalized or raw), dia_chi (a normalized
address: its current commune/province codes; a split legacy ward gives no commune), ma_tinh and
ma_xa (code columns used as they are), ho_ten_cha, ho_ten_me. A role that is absent gives NULL.
Optional role ma_ho (population household code) adds a column `ma_ho` (see OPTIONAL).

rec_id: the frame's `rec_id` if present; else source_row × 10 + owner_index (owner_index 0 when
absent), the registry contract; else the row number from 1 (population).

An ID that lost its leading zero in Excel (11 digits) is restored to 12 digits here, so the
deterministic pass can use it; the normalizer may already have done so.

Fields: a spec may compare columns that are no person role (a passport number, a postcode, given
and family names apart) through the comparison library; `fields` (from
`matching.library.field_preparations`) names each prepared column `f_<column>` and how it is made
from the normalized frame (`field_columns`). Both sides prepare theirs with the same code, so
"AB 123-45" and "ab12345" meet as "AB12345". Optional `ref_key`: the reference record's own key
(the population's so_dinh_danh, or a reference list's key that is no Vietnamese ID) carried to the
links.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from matching.normalize.fold import fold_expr

SCHEMA: dict[str, pl.DataType] = {
    "rec_id": pl.Int64,
    "ho_ten": pl.String,
    "ho_ten_key": pl.String,
    "ho_ten_key_nomid": pl.String,
    "ho_key": pl.String,
    "ten_key": pl.String,
    "ngay_sinh_year": pl.Int16,
    "ngay_sinh_month": pl.Int16,
    "ngay_sinh_day": pl.Int16,
    "ngay_sinh_precision": pl.String,
    "gioi_tinh": pl.String,
    "id12": pl.String,
    "cmnd9": pl.String,
    "ma_tinh": pl.String,
    "ma_xa": pl.String,
    "ho_ten_cha_key": pl.String,
    "ho_ten_me_key": pl.String,
}
# Optional columns, emitted only when their role is given: the population's household code lets
# the matcher find a land co-owner ("Ông A và bà B") in the household of the owner it linked.
OPTIONAL: dict[str, pl.DataType] = {"ma_ho": pl.String, "ref_key": pl.String}
ROLES = (
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "id",
    "id12",
    "cmnd9",
    "dia_chi",
    "ma_tinh",
    "ma_xa",
    "ho_ten_cha",
    "ho_ten_me",
    "ma_ho",
    "ref_key",
)


def _need(df: pl.DataFrame, col: str, role: str) -> pl.Expr:
    if col not in df.columns:
        raise ValueError(f"role {role!r}: column {col!r} missing — normalize the frame first (matching.normalize)")
    return pl.col(col)


def _digits(expr: pl.Expr) -> pl.Expr:
    d = expr.cast(pl.String).str.replace_all(r"\D", "")
    d = pl.when(d.str.len_chars() == 11).then(pl.lit("0") + d).otherwise(d)
    return pl.when(d.str.len_chars() > 0).then(d)


def _raw_or_clean(df: pl.DataFrame, c: str) -> pl.Expr:
    return pl.col(f"{c}_clean") if f"{c}_clean" in df.columns else _need(df, c, c)


def _rec_id(df: pl.DataFrame) -> pl.Expr:
    if "rec_id" in df.columns:
        return pl.col("rec_id").cast(pl.Int64)
    if "source_row" in df.columns:
        owner = pl.col("owner_index") if "owner_index" in df.columns else pl.lit(0)
        return pl.col("source_row").cast(pl.Int64) * 10 + owner.cast(pl.Int64)
    return pl.int_range(1, pl.len() + 1, dtype=pl.Int64)


def _source(df: pl.DataFrame, c: str) -> pl.Expr:
    """A column's normalized value when the normalizer made one, else the value as read."""
    return pl.col(f"{c}_clean") if f"{c}_clean" in df.columns else _need(df, c, "field")


def _blank_is_null(e: pl.Expr) -> pl.Expr:
    return pl.when(e.str.len_chars() > 0).then(e)


def field_columns(df: pl.DataFrame, fields: Mapping[str, tuple[str, tuple[str, ...]]]) -> list[pl.Expr]:
    """The prepared field columns (`f_<column>`, see module docstring), each as the library says.

    Preparations (matching.library.PREPARATIONS): name and text folded (accents, case; text's
    punctuation becomes spaces and each word is kept once), code trimmed upper case, id letters
    and digits only, number the first number, date the normalizer's year/month/day (the column
    must be of kind date or year)."""
    out: dict[str, pl.Expr] = {}
    for column, (prep, sources) in fields.items():
        if prep == "concat":
            continue
        (src,) = sources
        if prep == "date":
            for part in ("year", "month", "day"):
                if f"{src}_{part}" not in df.columns:
                    raise ValueError(f"field {src!r} is compared as a date: declare the column with kind date or year")
                out[f"{column}_{part}"] = pl.col(f"{src}_{part}").cast(pl.Int16)
            continue
        value = _source(df, src).cast(pl.String)
        if prep == "name":
            e = fold_expr(value.str.replace_all(r"[^\p{L}\p{N}\s]", "")).str.replace_all(r"\s+", " ")
        elif prep == "text":
            words = fold_expr(value).str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars().str.split(" ")
            e = words.list.unique(maintain_order=True).list.join(" ")  # each word once (text_tokens)
        elif prep == "code":
            e = value.str.strip_chars().str.replace_all(r"\s+", " ").str.to_uppercase()
        elif prep == "id":
            e = _need(df, src, "field").cast(pl.String).str.to_uppercase().str.replace_all(r"[^0-9A-Z]", "")
        elif prep == "number":
            number = value.str.extract(r"(\d+(?:[.,]\d+)?)", 1).str.replace(",", ".")
            out[column] = number.cast(pl.Float64, strict=False)
            continue
        else:
            raise ValueError(f"unknown field preparation {prep!r} for {src!r}")
        out[column] = _blank_is_null(e)
    for column, (prep, sources) in fields.items():
        if prep == "concat":
            joined = pl.concat_str([out[s] for s in sources], separator=" ", ignore_nulls=True)
            out[column] = _blank_is_null(joined)
    return [e.alias(name) for name, e in out.items()]


def to_person_schema(
    df: pl.DataFrame, roles: Mapping[str, str], fields: Mapping[str, tuple[str, tuple[str, ...]]] | None = None
) -> pl.DataFrame:
    """Return a frame with exactly the person-schema columns (see module docstring), plus the
    optional columns whose role is given and the prepared `fields`."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown person role(s) {sorted(unknown)}; known: {ROLES}")
    e: dict[str, pl.Expr] = {"rec_id": _rec_id(df)}
    if c := roles.get("ho_ten"):
        e["ho_ten"] = _need(df, f"{c}_clean", "ho_ten")
        for out, suf in (
            ("ho_ten_key", "key"),
            ("ho_ten_key_nomid", "key_nomid"),
            ("ho_key", "ho_key"),
            ("ten_key", "ten_key"),
        ):
            e[out] = _need(df, f"{c}_{suf}", "ho_ten")
    if c := roles.get("ngay_sinh"):
        for part in ("year", "month", "day", "precision"):
            e[f"ngay_sinh_{part}"] = _need(df, f"{c}_{part}", "ngay_sinh")
    if c := roles.get("gioi_tinh"):
        e["gioi_tinh"] = _raw_or_clean(df, c)
    if c := roles.get("id"):
        digits = _digits(_need(df, f"{c}_clean", "id"))
        kind = _need(df, f"{c}_kind", "id")
        e["id12"] = pl.when(kind.is_in(["cccd12", "cmnd12"]) | (digits.str.len_chars() == 12)).then(digits)
        e["cmnd9"] = pl.when(kind == "cmnd9").then(digits)
    if c := roles.get("id12"):
        e["id12"] = _digits(_raw_or_clean(df, c))
    if c := roles.get("cmnd9"):
        e["cmnd9"] = _digits(_raw_or_clean(df, c))
    if c := roles.get("dia_chi"):
        e["ma_tinh"] = _need(df, f"{c}_ma_tinh", "dia_chi")
        xa = _need(df, f"{c}_ma_xa", "dia_chi")
        if f"{c}_address_status" in df.columns:
            xa = pl.when(pl.col(f"{c}_address_status") == "legacy_split").then(None).otherwise(xa)
        e["ma_xa"] = xa
    if c := roles.get("ma_tinh"):
        e["ma_tinh"] = _need(df, c, "ma_tinh")
    if c := roles.get("ma_xa"):
        e["ma_xa"] = _need(df, c, "ma_xa")
    for role in ("ho_ten_cha", "ho_ten_me"):
        if c := roles.get(role):
            e[f"{role}_key"] = _need(df, f"{c}_key", role)
    cols = [(e[name] if name in e else pl.lit(None)).cast(dtype).alias(name) for name, dtype in SCHEMA.items()]
    for role in OPTIONAL:
        if c := roles.get(role):
            cols.append(_raw_or_clean(df, c).cast(pl.String).alias(role))
    out = df.select(cols + field_columns(df, fields or {}))
    # Empty strings are missing values, never a key two people can share.
    return out.with_columns(pl.col(pl.String).replace("", None))
