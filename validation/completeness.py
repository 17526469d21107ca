"""Missing-field report ("đủ"): which required field is empty in each registry row, and the
value CSDLQG could supply for it when the row is linked to a person.

Why here and not in the reports: the list is a result of the run (it goes into the warehouse
table `missing_fields`), and the Excel sheet "Thiếu thông tin" only displays it. A field counts
as missing when its raw value is empty after trimming; an account number also counts as
missing when the row says it is paid through an account (spec.payment).

Only confidently linked records (status matched, or duplicate — a second listing of a linked
person) get a suggested value; review candidates are not trusted to fill a registry.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from matching.normalize.fold import fold, fold_expr
from pipelines.spec import RegistrySpec
from validation.suites import PERSON_ONLY_ROLES, blank_to_null, is_person_expr

LINKED_STATUSES = ("matched", "duplicate")

OUTPUT_SCHEMA = {
    "registry": pl.Utf8,
    "source_file": pl.Utf8,
    "source_row": pl.Int64,
    "excel_row": pl.Int64,
    "owner_index": pl.Int16,
    "so_dinh_danh": pl.Utf8,
    "field": pl.Utf8,
    "csdlqg_value": pl.Utf8,
}


def _frame(df: Any) -> pl.DataFrame:
    return df if isinstance(df, pl.DataFrame) else pl.from_pandas(df)


def _display_date(iso: str | None) -> str | None:
    """CSDLQG dates are stored yyyy-mm-dd (or yyyy-mm, yyyy); officers write dd/mm/yyyy."""
    if not iso:
        return None
    parts = iso.split("-")
    return "/".join(reversed(parts))


def _population_values(spec: RegistrySpec, population: pl.DataFrame) -> dict[str, pl.Expr]:
    """For each registry column CSDLQG can fill, the expression over population giving it."""

    def col(*names: str) -> pl.Expr | None:
        for n in names:
            if n in population.columns:
                return blank_to_null(pl.col(n))
        return None

    by_role: dict[str, pl.Expr | None] = {
        "ho_ten": col("ho_ten_clean", "ho_ten"),
        "gioi_tinh": col("gioi_tinh_clean", "gioi_tinh"),
        "id": col("so_dinh_danh"),
        "dia_chi": col("dia_chi_thuong_tru"),
        "ho_ten_cha": col("ho_ten_cha"),
        "ho_ten_me": col("ho_ten_me"),
    }
    birth = col("ngay_sinh_clean", "ngay_sinh")
    out: dict[str, pl.Expr] = {}
    for c in spec.columns:
        expr = None
        if c.role == "ngay_sinh" and birth is not None:
            expr = (
                birth.str.slice(0, 4) if c.kind == "year" else birth.map_elements(_display_date, return_dtype=pl.Utf8)
            )
        elif c.role is not None:
            expr = by_role.get(c.role)
        elif spec.death_column and c.name == spec.death_column:
            death = col("ngay_mat_clean", "ngay_mat")
            expr = None if death is None else death.map_elements(_display_date, return_dtype=pl.Utf8)
        if expr is not None:
            out[c.name] = expr.alias(f"__pop_{c.name}")
    return out


def missing_fields(spec: RegistrySpec, registry_df: Any, population_df: Any, links_df: Any) -> pl.DataFrame:
    """One row per (registry record, empty required field), with CSDLQG's value when linked.

    `registry_df` has source_file, source_row, excel_row and the raw spec columns;
    `links_df` has source_row, owner_index, status, so_dinh_danh; `population_df` has
    so_dinh_danh and the CSDLQG columns (ho_ten, ngay_sinh or ngay_sinh_clean, ...)."""
    rows = _frame(registry_df)
    links = _frame(links_df)
    population = _frame(population_df)

    if "entity" not in rows.columns and "entity" in links.columns:  # organizations, from the links
        first = (
            links.filter(pl.col("owner_index") == 0)
            .select(pl.col("source_row").cast(pl.Int64), "entity")
            .unique("source_row")
        )
        rows = rows.with_columns(pl.col("source_row").cast(pl.Int64)).join(first, on="source_row", how="left")
    person = is_person_expr(spec, rows)
    checks: list[tuple[str, pl.Expr]] = []
    for c in spec.columns:
        if not c.required:
            continue
        empty = blank_to_null(pl.col(c.name)).is_null() if c.name in rows.columns else pl.lit(True)
        if spec.owner_split and c.role in PERSON_ONLY_ROLES:
            empty = empty & person  # an organization has no birth year or personal ID to give
        checks.append((c.name, empty))
    if spec.payment is not None and spec.payment.account_column not in spec.required_columns:
        accounts = {fold(v) for v in spec.payment.account_values}
        mode = blank_to_null(pl.col(spec.payment.mode_column))
        paid_by_account = fold_expr(mode).is_in(sorted(accounts)).fill_null(False)
        account_empty = (
            blank_to_null(pl.col(spec.payment.account_column)).is_null()
            if spec.payment.account_column in rows.columns
            else pl.lit(True)
        )
        checks.append((spec.payment.account_column, paid_by_account & account_empty))

    if not checks or rows.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)

    flags = rows.select(
        pl.col("source_file").cast(pl.Utf8),
        pl.col("source_row").cast(pl.Int64),
        pl.col("excel_row").cast(pl.Int64),
        *[expr.alias(f"__missing_{name}") for name, expr in checks],
    )
    long = (
        flags.unpivot(
            index=["source_file", "source_row", "excel_row"],
            on=[f"__missing_{name}" for name, _ in checks],
            variable_name="field",
            value_name="is_missing",
        )
        .filter(pl.col("is_missing"))
        .with_columns(pl.col("field").str.strip_prefix("__missing_"))
        .drop("is_missing")
    )

    records = links.select(
        pl.col("source_row").cast(pl.Int64),
        pl.col("owner_index").cast(pl.Int16),
        pl.when(pl.col("status").is_in(LINKED_STATUSES))
        .then(pl.col("so_dinh_danh").cast(pl.Utf8))
        .otherwise(None)
        .alias("so_dinh_danh"),
    ).unique(["source_row", "owner_index"], keep="first")
    long = long.join(records, on="source_row", how="left").with_columns(pl.col("owner_index").fill_null(0))

    pop_exprs = _population_values(spec, population)
    if pop_exprs:
        pop = population.select(pl.col("so_dinh_danh").cast(pl.Utf8), *pop_exprs.values()).unique(
            "so_dinh_danh", keep="first"
        )
        long = long.join(pop, on="so_dinh_danh", how="left")
        supplied = pl.lit(None, dtype=pl.Utf8)
        for name in pop_exprs:
            supplied = pl.when(pl.col("field") == name).then(pl.col(f"__pop_{name}")).otherwise(supplied)
        long = long.with_columns(
            pl.when(pl.col("so_dinh_danh").is_not_null()).then(supplied).otherwise(None).alias("csdlqg_value")
        )
    else:
        long = long.with_columns(pl.lit(None, dtype=pl.Utf8).alias("csdlqg_value"))

    return (
        long.with_columns(pl.lit(spec.name).alias("registry"))
        .select(list(OUTPUT_SCHEMA))
        .cast(OUTPUT_SCHEMA)
        .sort("source_row", "owner_index", "field")
    )
