""" "Đúng": one row per linked record and field where the registry and CSDLQG differ."""

from __future__ import annotations

import polars as pl

from pipelines.findings.linked import KEY, date_at_precision
from pipelines.spec import RegistrySpec


def mismatches(spec: RegistrySpec, pairs: pl.DataFrame) -> pl.DataFrame:
    """One row per (linked record, field in spec.mismatch_fields) where registry and CSDLQG differ."""
    parts: list[pl.DataFrame] = []

    def add(field: str, differs: pl.Expr, reg: pl.Expr, pop: pl.Expr, kind: str = "value") -> None:
        parts.append(
            pairs.filter(differs.fill_null(False)).select(
                *KEY,
                pl.lit(field).alias("field"),
                reg.cast(pl.Utf8).alias("registry_value"),
                pop.cast(pl.Utf8).alias("csdlqg_value"),
                pl.lit(kind).alias("kind"),
                pl.col("method"),
            )
        )

    for role in spec.mismatch_fields:
        col = spec.role_column(role)
        if col is None:
            continue
        if role == "ho_ten":
            add(col.name, pl.col("r_ho_ten") != pl.col("p_ho_ten_clean"), pl.col("r_ho_ten"), pl.col("p_ho_ten_clean"))
        elif role == "ngay_sinh":
            with_reg = pairs.with_columns(date_at_precision().alias("_reg_dob")).with_columns(
                pl.col("p_ngay_sinh_clean").str.slice(0, pl.col("_reg_dob").str.len_chars()).alias("_pop_dob")
            )
            sub = with_reg.filter(
                pl.col("r_ngay_sinh_year").is_not_null() & (pl.col("_reg_dob") != pl.col("_pop_dob")).fill_null(False)
            )
            parts.append(
                sub.select(
                    *KEY,
                    pl.lit(col.name).alias("field"),
                    pl.col("_reg_dob").alias("registry_value"),
                    pl.col("p_ngay_sinh_clean").alias("csdlqg_value"),
                    pl.lit("value").alias("kind"),
                    pl.col("method"),
                )
            )
        elif role == "gioi_tinh":
            add(
                col.name,
                pl.col("r_gioi_tinh") != pl.col("p_gioi_tinh_clean"),
                pl.col("r_gioi_tinh"),
                pl.col("p_gioi_tinh_clean"),
            )
        elif role == "dia_chi":
            differs = (
                pl.when(pl.col("r_ma_xa").is_not_null())
                .then(pl.col("r_ma_xa") != pl.col("p_ma_xa"))
                .otherwise(pl.col("r_ma_tinh").is_not_null() & (pl.col("r_ma_tinh") != pl.col("p_ma_tinh")))
            )
            reg = pl.col(f"{col.name}_clean") if f"{col.name}_clean" in pairs.columns else pl.col(col.name)
            pop = pl.concat_str([pl.col("p_ten_xa"), pl.col("p_ten_tinh")], separator=", ", ignore_nulls=True)
            add(col.name, differs, reg, pop, kind="residence")
        elif role in ("ho_ten_cha", "ho_ten_me"):
            add(
                col.name,
                pl.col(f"r_{role}_key") != pl.col(f"p_{role}_key"),
                pl.col(f"{col.name}_clean"),
                pl.col(f"p_{role}"),
            )
    id_col = spec.role_column("id")
    if id_col is not None and "r_id12" in pairs.columns:
        # The ID is checked whatever spec.mismatch_fields says: a row linked through a one-digit-off
        # ID, probabilistically or by a reviewer is only "đúng" when its ID is CSDLQG's. A 12-digit
        # number is compared with so_dinh_danh; a 9-digit CMND with so_cmnd_cu — when CSDLQG keeps
        # that old number the row is not wrong, only outdated (alert suggested_id_update).
        add(
            id_col.name,
            pl.col("r_id12") != pl.col("p_so_dinh_danh"),
            pl.col("r_id12"),
            pl.col("p_so_dinh_danh"),
            kind="id",
        )
        add(
            id_col.name,
            pl.col("r_cmnd9") != pl.col("p_so_cmnd_cu"),
            pl.col("r_cmnd9"),
            pl.col("p_so_cmnd_cu"),
            kind="cmnd9",
        )
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="vertical_relaxed").sort("source_row", "owner_index", "field")
