""" "Sống": alerts that cross registries.

A welfare or pension row linked to someone dead — in CSDLQG (`population.ngay_mat`) or in the
latest civil-status death registrations in the warehouse — is flagged with both dates; a death
registration whose person CSDLQG still shows alive is flagged too (CSDLQG must be updated); an old
9-digit CMND that CSDLQG has replaced by a 12-digit ID becomes a suggested update.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.findings.linked import KEY
from pipelines.spec import RegistrySpec


def registered_deaths(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """so_dinh_danh → registered date of death, from the latest succeeded civil_deaths run."""
    return con.execute(
        """
        WITH latest AS (
            SELECT run_id FROM runs
            WHERE registry = 'civil_deaths' AND status = 'succeeded'
            ORDER BY finished_at DESC LIMIT 1
        ),
        linked AS (
            SELECT l.so_dinh_danh, r.ngay_mat_clean
            FROM links l
            JOIN civil_deaths_rows r ON r.run_id = l.run_id AND r.source_row = l.source_row
            WHERE l.run_id IN (SELECT run_id FROM latest) AND l.status = 'matched'
        )
        SELECT so_dinh_danh, min(ngay_mat_clean) AS ngay_mat_khai_tu FROM linked GROUP BY so_dinh_danh
        """
    ).pl()


def alerts(spec: RegistrySpec, pairs: pl.DataFrame, deaths: pl.DataFrame) -> pl.DataFrame:
    parts: list[pl.DataFrame] = []
    cols = [
        *KEY,
        "kind",
        "severity",
        "death_source",
        "ngay_mat_csdlqg",
        "ngay_mat_khai_tu",
        "old_value",
        "new_value",
        "message_vi",
    ]
    if spec.alive_check and pairs.height:
        j = (
            pairs.join(deaths, on="so_dinh_danh", how="left")
            if deaths.height
            else pairs.with_columns(pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_khai_tu"))
        )
        dead = j.filter(pl.col("p_ngay_mat_clean").is_not_null() | pl.col("ngay_mat_khai_tu").is_not_null())
        parts.append(
            dead.select(
                *KEY,
                pl.lit("dead_still_paid").alias("kind"),
                pl.lit("high").alias("severity"),
                pl.when(pl.col("p_ngay_mat_clean").is_not_null() & pl.col("ngay_mat_khai_tu").is_not_null())
                .then(pl.lit("csdlqg;civil_deaths"))
                .when(pl.col("p_ngay_mat_clean").is_not_null())
                .then(pl.lit("csdlqg"))
                .otherwise(pl.lit("civil_deaths"))
                .alias("death_source"),
                pl.col("p_ngay_mat_clean").alias("ngay_mat_csdlqg"),
                pl.col("ngay_mat_khai_tu").cast(pl.Utf8),
                pl.lit(None, dtype=pl.Utf8).alias("old_value"),
                pl.lit(None, dtype=pl.Utf8).alias("new_value"),
                pl.lit(
                    "Người hưởng đã chết nhưng vẫn có trong danh sách chi trả: "
                    "dừng chi trả và thu hồi nếu đã chi sau ngày mất."
                ).alias("message_vi"),
            )
        )
    if spec.death_column and pairs.height:
        reg = pl.col(f"{spec.death_column}_clean")
        not_in = pairs.filter(pl.col("p_ngay_mat_clean").is_null())
        parts.append(
            not_in.select(
                *KEY,
                pl.lit("death_not_in_csdlqg").alias("kind"),
                pl.lit("high").alias("severity"),
                pl.lit("civil_deaths").alias("death_source"),
                pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_csdlqg"),
                reg.alias("ngay_mat_khai_tu"),
                pl.lit(None, dtype=pl.Utf8).alias("old_value"),
                pl.lit(None, dtype=pl.Utf8).alias("new_value"),
                pl.lit(
                    "Đã đăng ký khai tử nhưng CSDLQG vẫn ghi nhận còn sống: "
                    "cần cập nhật CSDLQG (xoá đăng ký thường trú)."
                ).alias("message_vi"),
            )
        )
        differs = pairs.filter(
            pl.col("p_ngay_mat_clean").is_not_null() & reg.is_not_null() & (reg != pl.col("p_ngay_mat_clean"))
        )
        parts.append(
            differs.select(
                *KEY,
                pl.lit("death_date_differs").alias("kind"),
                pl.lit("medium").alias("severity"),
                pl.lit("csdlqg;civil_deaths").alias("death_source"),
                pl.col("p_ngay_mat_clean").alias("ngay_mat_csdlqg"),
                reg.alias("ngay_mat_khai_tu"),
                pl.lit(None, dtype=pl.Utf8).alias("old_value"),
                pl.lit(None, dtype=pl.Utf8).alias("new_value"),
                pl.lit("Ngày mất trong giấy khai tử khác ngày mất trong CSDLQG.").alias("message_vi"),
            )
        )
    if pairs.height and "r_cmnd9" in pairs.columns:
        old = pairs.filter(pl.col("r_cmnd9").is_not_null() & pl.col("so_dinh_danh").is_not_null())
        parts.append(
            old.select(
                *KEY,
                pl.lit("suggested_id_update").alias("kind"),
                pl.lit("low").alias("severity"),
                pl.lit(None, dtype=pl.Utf8).alias("death_source"),
                pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_csdlqg"),
                pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_khai_tu"),
                pl.col("r_cmnd9").alias("old_value"),
                pl.col("so_dinh_danh").alias("new_value"),
                pl.lit("Sổ còn ghi CMND 9 số; CSDLQG đã cấp số định danh cá nhân 12 số: đề nghị cập nhật.").alias(
                    "message_vi"
                ),
            )
        )
    if not parts:
        return pl.DataFrame()
    return pl.concat([p.select(cols) for p in parts], how="vertical_relaxed")
