"""Land: one certificate row names one owner, a couple, a household head or an organization.

What is truly land-specific in the pipeline, switched on by `spec.owner_split` and
`spec.repeat_persons`: one person-schema record per named owner (owner_index 0, 1), the row's
year of birth and ID given to the first-named owner only; organizations get no record (they are
not persons: `links` shows them as unmatched with method `organization`); and a person holding
several certificates is linked several times without being a duplicate.
"""

from __future__ import annotations

import polars as pl

from pipelines.spec import RegistrySpec


def persons(spec: RegistrySpec, ok: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """One record per named owner; the row's birth year and ID go to the first-named owner."""
    owner = spec.role_column("ho_ten").name
    entity = pl.col(f"{owner}_entity").fill_null("person")
    people = ok.filter(entity != "organization").select(
        "source_row", entity.alias("entity"), pl.col(f"{owner}_owners").alias("_owners")
    )
    owners = (
        people.explode("_owners")
        .filter(pl.col("_owners").is_not_null())
        .with_columns(pl.int_range(pl.len()).over("source_row").cast(pl.Int16).alias("owner_index"))
    )
    o = pl.col("_owners").struct
    first = base.drop("ho_ten", "ho_ten_key", "ho_ten_key_nomid", "ho_key", "ten_key", "gioi_tinh")
    persons = owners.select(
        "source_row",
        "owner_index",
        "entity",
        o.field("ho_ten_clean").alias("ho_ten"),
        o.field("key").alias("ho_ten_key"),
        o.field("key_nomid").alias("ho_ten_key_nomid"),
        o.field("ho_key").alias("ho_key"),
        o.field("ten_key").alias("ten_key"),
        o.field("sex").alias("gioi_tinh"),
    ).join(first, on="source_row", how="left")
    # only the first owner carries the row's birth year and ID
    later = pl.col("owner_index") > 0
    persons = persons.with_columns(
        pl.when(later).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("ngay_sinh_year", "ngay_sinh_month", "ngay_sinh_day", "ngay_sinh_precision", "id12", "cmnd9")
    )
    # owner text no person could be read from (but an ID is there): one record, as the row gives it
    unread = people.join(persons.select("source_row"), on="source_row", how="anti").select("source_row", "entity")
    fallback = base.join(unread, on="source_row").with_columns(pl.lit(0, dtype=pl.Int16).alias("owner_index"))
    persons = pl.concat([persons, fallback.select(persons.columns)], how="vertical_relaxed")
    return persons.with_columns((pl.col("source_row") * 10 + pl.col("owner_index")).alias("rec_id"))


def organization_rows(spec: RegistrySpec, rows: pl.DataFrame) -> pl.DataFrame:
    if not spec.owner_split:
        return rows.head(0).select("source_row")
    owner = spec.role_column("ho_ten").name
    return rows.filter((pl.col("row_status") == "ok") & (pl.col(f"{owner}_entity") == "organization")).select(
        "source_row"
    )


def repeated_persons_are_not_duplicates(spec: RegistrySpec, rows: pl.DataFrame, linked: pl.DataFrame) -> pl.DataFrame:
    """Land: a person holding two certificates is linked twice, legitimately. Only a row that
    repeats the first row's record number (the same certificate listed again) stays a duplicate."""
    key = rows.select("source_row", pl.col(f"{spec.key_column}_clean").alias("_key"))
    first = key.rename({"source_row": "_first_row", "_key": "_first_key"})
    out = (
        linked.with_columns(
            (pl.col("rec_id") // 10).alias("source_row"), (pl.col("duplicate_of") // 10).alias("_first_row")
        )
        .join(key, on="source_row", how="left")
        .join(first, on="_first_row", how="left")
    )
    same_certificate = (pl.col("_key") == pl.col("_first_key")).fill_null(False)
    demote = (pl.col("status") == "duplicate") & ~same_certificate
    return out.with_columns(
        pl.when(demote).then(pl.lit("matched")).otherwise(pl.col("status")).alias("status"),
        pl.when(demote).then(None).otherwise(pl.col("duplicate_of")).alias("duplicate_of"),
    ).drop("source_row", "_first_row", "_key", "_first_key")
