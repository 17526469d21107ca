"""Problems of the CSDLQG extract itself (duplicate IDs, IDs contradicting sex or birth year, ...)."""

from __future__ import annotations

import polars as pl

from matching.normalize.ids import normalize_id_column
from pipelines.labels import POPULATION_ISSUE

# The normalized extract's columns the checks read (a caller holding the extract on disk reads only these).
POPULATION_ISSUE_INPUT = (
    "pop_rec_id",
    "excel_row",
    "so_dinh_danh",
    "gioi_tinh_clean",
    "ngay_sinh_year",
    "ngay_sinh_clean",
    "ngay_mat_clean",
)

POPULATION_ISSUES = ("duplicate_id", "id_invalid", "id_sex_mismatch", "id_birth_year_mismatch", "death_before_birth")


def population_issues(population: pl.DataFrame, key_is_id: bool = True) -> pl.DataFrame:
    """Problems of the CSDLQG extract: one row per (extract row, issue).

    Why: every finding assumes CSDLQG is right. An extract in which one so_dinh_danh names two
    people, whose ID digits contradict the recorded sex or birth year, or whose date of death
    precedes the birth, would silently make registries look wrong (or right). These are
    reported, never fatal — the matcher already refuses to link an ambiguous ID — except when
    no row has a usable so_dinh_danh at all (`population_unusable`). The ID checks are the ID
    normalizer's own (`normalize_id_column` with sex and birth year), not a second copy.
    `key_is_id=False`: a reference list whose key is its own record number (not a personal ID):
    only a repeated key and a death before birth are problems."""
    frame = population.select(
        "pop_rec_id",
        (pl.col("excel_row") if "excel_row" in population.columns else pl.lit(None, dtype=pl.Int64)).alias("excel_row"),
        "so_dinh_danh",
        "gioi_tinh_clean",
        "ngay_sinh_year",
        "ngay_sinh_clean",
        "ngay_mat_clean",
    )
    checked = normalize_id_column(
        frame, "so_dinh_danh", sex=pl.col("gioi_tinh_clean"), birth_year=pl.col("ngay_sinh_year")
    )
    base = ["pop_rec_id", "excel_row", "so_dinh_danh"]
    parts: list[pl.DataFrame] = []
    row_ref = pl.coalesce(pl.col("excel_row"), pl.col("pop_rec_id")).cast(pl.Utf8)
    repeated = checked.filter(pl.col("so_dinh_danh").is_not_null() & pl.col("so_dinh_danh").is_duplicated())
    if repeated.height:
        rows_of = repeated.group_by("so_dinh_danh").agg(row_ref.sort().alias("_rows"), pl.len().alias("_n"))
        parts.append(
            repeated.join(rows_of, on="so_dinh_danh").select(
                *base,
                pl.lit("duplicate_id").alias("issue"),
                pl.format("{} dòng cùng số: {}", pl.col("_n"), pl.col("_rows").list.join(", ")).alias("detail"),
            )
        )
    kind = pl.col("so_dinh_danh_kind")
    if key_is_id:  # a reference list's own key: a repeated key is a problem, its format is not
        parts.append(
            checked.filter(kind.is_null() | ~kind.is_in(["cccd12", "cmnd12"])).select(
                *base, pl.lit("id_invalid").alias("issue"), pl.coalesce(kind, pl.lit("empty")).alias("detail")
            )
        )
        for code in ("id_sex_mismatch", "id_birth_year_mismatch"):
            parts.append(
                checked.filter(pl.col("so_dinh_danh_problems").list.contains(code)).select(
                    *base, pl.lit(code).alias("issue"), pl.lit(None, dtype=pl.Utf8).alias("detail")
                )
            )
    # compare at the coarser of the two precisions: "1990" vs "1990-05-02" compares years only
    n = pl.min_horizontal(pl.col("ngay_sinh_clean").str.len_chars(), pl.col("ngay_mat_clean").str.len_chars())
    parts.append(
        checked.filter(
            (pl.col("ngay_mat_clean").str.slice(0, n) < pl.col("ngay_sinh_clean").str.slice(0, n)).fill_null(False)
        ).select(*base, pl.lit("death_before_birth").alias("issue"), pl.lit(None, dtype=pl.Utf8).alias("detail"))
    )
    return pl.concat(parts, how="vertical_relaxed").sort("pop_rec_id", "issue")


def population_issue_notes(issues: pl.DataFrame, rows: int, file: str) -> list[str]:
    """Run notes on the extract's problems: counts only, no ID and no name."""
    if issues.height == 0:
        return []
    counts = dict(issues.group_by("issue").agg(pl.col("pop_rec_id").n_unique()).iter_rows())
    parts = []
    for code in POPULATION_ISSUES:
        if not counts.get(code):
            continue
        if code == "duplicate_id":
            ids = issues.filter(pl.col("issue") == code)["so_dinh_danh"].n_unique()
            parts.append(f"{ids:,} số định danh lặp lại ({counts[code]:,} dòng)")
        else:
            parts.append(f"{counts[code]:,} dòng: {POPULATION_ISSUE[code].lower()}")
    return [
        f"Trích xuất CSDLQG {file} ({rows:,} dòng) có vấn đề: "
        + "; ".join(parts)
        + '. Xem mục "Vấn đề của trích xuất CSDLQG" trong báo cáo.'
    ]
