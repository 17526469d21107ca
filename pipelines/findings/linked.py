"""The linked pairs every person-level finding starts from.

Why after matching: a difference with CSDLQG only means something once we know which CSDLQG
person the row is. Only confidently linked records are compared (status matched, or duplicate:
a second listing of a linked person); review candidates are not trusted enough to accuse a row
of being wrong.
"""

from __future__ import annotations

import polars as pl

LINKED = ("matched", "duplicate")  # a second listing of a linked person is still that person


def date_at_precision() -> pl.Expr:
    """Registry date of birth as text at its own precision (yyyy, yyyy-mm, yyyy-mm-dd)."""
    y = pl.col("r_ngay_sinh_year").cast(pl.Utf8).str.zfill(4)
    m = pl.col("r_ngay_sinh_month").cast(pl.Utf8).str.zfill(2)
    d = pl.col("r_ngay_sinh_day").cast(pl.Utf8).str.zfill(2)
    return (
        pl.when(pl.col("r_ngay_sinh_day").is_not_null() & pl.col("r_ngay_sinh_month").is_not_null())
        .then(pl.concat_str([y, m, d], separator="-"))
        .when(pl.col("r_ngay_sinh_month").is_not_null())
        .then(pl.concat_str([y, m], separator="-"))
        .otherwise(y)
    )


def linked_pairs(
    links: pl.DataFrame, persons: pl.DataFrame, rows: pl.DataFrame, population: pl.DataFrame
) -> pl.DataFrame:
    """Matched records with the registry's person fields (r_*), row values and CSDLQG's (p_*)."""
    pop = population.select(pl.all().name.prefix("p_"))
    per = persons.select(
        pl.col("rec_id"), pl.all().exclude("rec_id", "source_row", "owner_index", "entity").name.prefix("r_")
    )
    return (
        links.filter(pl.col("status").is_in(LINKED))
        .join(per, on="rec_id", how="left")
        .join(rows.drop("source_file", "excel_row"), on="source_row", how="left")
        .join(pop, left_on="pop_rec_id", right_on="p_pop_rec_id", how="left")
    )


KEY = ["run_id", "registry", "source_file", "source_row", "excel_row", "owner_index", "so_dinh_danh"]
