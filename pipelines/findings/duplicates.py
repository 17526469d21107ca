""" "Sạch": a second listing of a person already linked, or of a registry key already seen."""

from __future__ import annotations

import polars as pl

from pipelines.findings.linked import KEY
from pipelines.spec import RegistrySpec


def duplicates(spec: RegistrySpec, links: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Same person listed again (status duplicate) and the same registry record number repeated."""
    same_person = links.filter(pl.col("status") == "duplicate").select(
        *KEY, pl.col("duplicate_of"), pl.lit("same_person").alias("basis")
    )
    key = pl.col(f"{spec.key_column}_clean")
    keyed = (
        rows.filter(key.is_not_null())
        .with_columns(pl.col("source_row").min().over(key).alias("_first"))
        .filter(pl.col("source_row") != pl.col("_first"))
    )
    same_key = (
        keyed.select("source_row", pl.col("_first").cast(pl.Int64).alias("duplicate_of"))
        .join(links.filter(pl.col("owner_index") == 0).select(KEY), on="source_row", how="inner")
        .select(*KEY, "duplicate_of", pl.lit("same_key").alias("basis"))
    )
    return pl.concat([same_person, same_key], how="vertical_relaxed")
