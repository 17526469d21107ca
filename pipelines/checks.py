"""Checks on linked rows: "đúng" (mismatches), "sạch" (duplicates) and "sống" (alerts).

Why after matching: a difference with CSDLQG only means something once we know which CSDLQG
person the row is. Only confidently linked records are compared (status matched, or duplicate:
a second listing of a linked person); review candidates are not trusted enough to accuse a row
of being wrong.

Alerts cross registries: a welfare or pension row linked to someone dead — in CSDLQG
(`population.ngay_mat`) or in the latest civil-status death registrations in the warehouse —
is flagged with both dates; a death registration whose person CSDLQG still shows alive is
flagged too (CSDLQG must be updated); an old 9-digit CMND that CSDLQG has replaced by a 12-digit
ID becomes a suggested update.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.spec import RegistrySpec

LINKED = ("matched", "duplicate")  # a second listing of a linked person is still that person


def _date_at_precision() -> pl.Expr:
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


def linked_pairs(links: pl.DataFrame, persons: pl.DataFrame, rows: pl.DataFrame, population: pl.DataFrame) -> pl.DataFrame:
    """Matched records with the registry's person fields (r_*), row values and CSDLQG's (p_*)."""
    pop = population.select(pl.all().name.prefix("p_"))
    per = persons.select(pl.col("rec_id"), pl.all().exclude("rec_id", "source_row", "owner_index", "entity").name.prefix("r_"))
    return (
        links.filter(pl.col("status").is_in(LINKED))
        .join(per, on="rec_id", how="left")
        .join(rows.drop("source_file", "excel_row"), on="source_row", how="left")
        .join(pop, left_on="pop_rec_id", right_on="p_pop_rec_id", how="left")
    )


KEY = ["run_id", "registry", "source_file", "source_row", "excel_row", "owner_index", "so_dinh_danh"]


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
            with_reg = pairs.with_columns(_date_at_precision().alias("_reg_dob")).with_columns(pl.col("p_ngay_sinh_clean").str.slice(0, pl.col("_reg_dob").str.len_chars()).alias("_pop_dob"))
            sub = with_reg.filter(pl.col("r_ngay_sinh_year").is_not_null() & (pl.col("_reg_dob") != pl.col("_pop_dob")).fill_null(False))
            parts.append(
                sub.select(
                    *KEY, pl.lit(col.name).alias("field"), pl.col("_reg_dob").alias("registry_value"),
                    pl.col("p_ngay_sinh_clean").alias("csdlqg_value"), pl.lit("value").alias("kind"), pl.col("method"),
                )
            )
        elif role == "gioi_tinh":
            add(col.name, pl.col("r_gioi_tinh") != pl.col("p_gioi_tinh_clean"), pl.col("r_gioi_tinh"), pl.col("p_gioi_tinh_clean"))
        elif role == "dia_chi":
            differs = pl.when(pl.col("r_ma_xa").is_not_null()).then(pl.col("r_ma_xa") != pl.col("p_ma_xa")).otherwise(
                pl.col("r_ma_tinh").is_not_null() & (pl.col("r_ma_tinh") != pl.col("p_ma_tinh"))
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
        add(id_col.name, pl.col("r_id12") != pl.col("p_so_dinh_danh"), pl.col("r_id12"), pl.col("p_so_dinh_danh"), kind="id")
        add(id_col.name, pl.col("r_cmnd9") != pl.col("p_so_cmnd_cu"), pl.col("r_cmnd9"), pl.col("p_so_cmnd_cu"), kind="cmnd9")
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="vertical_relaxed").sort("source_row", "owner_index", "field")


def duplicates(spec: RegistrySpec, links: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """Same person listed again (status duplicate) and the same registry record number repeated."""
    same_person = links.filter(pl.col("status") == "duplicate").select(
        *KEY, pl.col("duplicate_of"), pl.lit("same_person").alias("basis")
    )
    key = pl.col(f"{spec.key_column}_clean")
    keyed = rows.filter(key.is_not_null()).with_columns(
        pl.col("source_row").min().over(key).alias("_first")
    ).filter(pl.col("source_row") != pl.col("_first"))
    same_key = keyed.select("source_row", pl.col("_first").cast(pl.Int64).alias("duplicate_of")).join(
        links.filter(pl.col("owner_index") == 0).select(KEY), on="source_row", how="inner"
    ).select(*KEY, "duplicate_of", pl.lit("same_key").alias("basis"))
    return pl.concat([same_person, same_key], how="vertical_relaxed")


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
    cols = [*KEY, "kind", "severity", "death_source", "ngay_mat_csdlqg", "ngay_mat_khai_tu", "old_value", "new_value", "message_vi"]
    if spec.alive_check and pairs.height:
        j = pairs.join(deaths, on="so_dinh_danh", how="left") if deaths.height else pairs.with_columns(
            pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_khai_tu")
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
                pl.lit("Người hưởng đã chết nhưng vẫn có trong danh sách chi trả: dừng chi trả và thu hồi nếu đã chi sau ngày mất.").alias("message_vi"),
            )
        )
    if spec.death_column and pairs.height:
        reg = pl.col(f"{spec.death_column}_clean")
        not_in = pairs.filter(pl.col("p_ngay_mat_clean").is_null())
        parts.append(
            not_in.select(
                *KEY, pl.lit("death_not_in_csdlqg").alias("kind"), pl.lit("high").alias("severity"),
                pl.lit("civil_deaths").alias("death_source"), pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_csdlqg"),
                reg.alias("ngay_mat_khai_tu"), pl.lit(None, dtype=pl.Utf8).alias("old_value"), pl.lit(None, dtype=pl.Utf8).alias("new_value"),
                pl.lit("Đã đăng ký khai tử nhưng CSDLQG vẫn ghi nhận còn sống: cần cập nhật CSDLQG (xoá đăng ký thường trú).").alias("message_vi"),
            )
        )
        differs = pairs.filter(pl.col("p_ngay_mat_clean").is_not_null() & reg.is_not_null() & (reg != pl.col("p_ngay_mat_clean")))
        parts.append(
            differs.select(
                *KEY, pl.lit("death_date_differs").alias("kind"), pl.lit("medium").alias("severity"),
                pl.lit("csdlqg;civil_deaths").alias("death_source"), pl.col("p_ngay_mat_clean").alias("ngay_mat_csdlqg"),
                reg.alias("ngay_mat_khai_tu"), pl.lit(None, dtype=pl.Utf8).alias("old_value"), pl.lit(None, dtype=pl.Utf8).alias("new_value"),
                pl.lit("Ngày mất trong giấy khai tử khác ngày mất trong CSDLQG.").alias("message_vi"),
            )
        )
    if pairs.height and "r_cmnd9" in pairs.columns:
        old = pairs.filter(pl.col("r_cmnd9").is_not_null() & pl.col("so_dinh_danh").is_not_null())
        parts.append(
            old.select(
                *KEY, pl.lit("suggested_id_update").alias("kind"), pl.lit("low").alias("severity"),
                pl.lit(None, dtype=pl.Utf8).alias("death_source"), pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_csdlqg"),
                pl.lit(None, dtype=pl.Utf8).alias("ngay_mat_khai_tu"), pl.col("r_cmnd9").alias("old_value"),
                pl.col("so_dinh_danh").alias("new_value"),
                pl.lit("Sổ còn ghi CMND 9 số; CSDLQG đã cấp số định danh cá nhân 12 số: đề nghị cập nhật.").alias("message_vi"),
            )
        )
    if not parts:
        return pl.DataFrame()
    return pl.concat([p.select(cols) for p in parts], how="vertical_relaxed")


def findings(spec: RegistrySpec, links: pl.DataFrame, persons: pl.DataFrame, rows: pl.DataFrame,
             population: pl.DataFrame, deaths: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """All finding tables of a run from its links: the pipeline calls this after matching, and
    `doisoat review` again after reviewers' decisions changed which rows are linked."""
    from validation.completeness import missing_fields

    pairs = linked_pairs(links, persons, rows, population)
    return {
        "mismatches": mismatches(spec, pairs),
        "missing_fields": missing_fields(spec, rows, population, links),
        "duplicates": duplicates(spec, links, rows),
        "alerts": alerts(spec, pairs, deaths),
    }


# ---------------------------------------------------------------- the CSDLQG extract itself --

POPULATION_ISSUES = ("duplicate_id", "id_invalid", "id_sex_mismatch", "id_birth_year_mismatch", "death_before_birth")


def population_issues(population: pl.DataFrame) -> pl.DataFrame:
    """Problems of the CSDLQG extract: one row per (extract row, issue).

    Why: every finding assumes CSDLQG is right. An extract in which one so_dinh_danh names two
    people, whose ID digits contradict the recorded sex or birth year, or whose date of death
    precedes the birth, would silently make registries look wrong (or right). These are
    reported, never fatal — the matcher already refuses to link an ambiguous ID — except when
    no row has a usable so_dinh_danh at all (`population_unusable`). The ID checks are the ID
    normalizer's own (`normalize_id_column` with sex and birth year), not a second copy."""
    from matching.normalize.ids import normalize_id_column

    frame = population.select(
        "pop_rec_id",
        (pl.col("excel_row") if "excel_row" in population.columns else pl.lit(None, dtype=pl.Int64)).alias("excel_row"),
        "so_dinh_danh", "gioi_tinh_clean", "ngay_sinh_year", "ngay_sinh_clean", "ngay_mat_clean",
    )
    checked = normalize_id_column(frame, "so_dinh_danh", sex=pl.col("gioi_tinh_clean"), birth_year=pl.col("ngay_sinh_year"))
    base = ["pop_rec_id", "excel_row", "so_dinh_danh"]
    parts: list[pl.DataFrame] = []
    row_ref = pl.coalesce(pl.col("excel_row"), pl.col("pop_rec_id")).cast(pl.Utf8)
    repeated = checked.filter(pl.col("so_dinh_danh").is_not_null() & pl.col("so_dinh_danh").is_duplicated())
    if repeated.height:
        rows_of = repeated.group_by("so_dinh_danh").agg(row_ref.sort().alias("_rows"), pl.len().alias("_n"))
        parts.append(
            repeated.join(rows_of, on="so_dinh_danh").select(
                *base, pl.lit("duplicate_id").alias("issue"),
                pl.format("{} dòng cùng số: {}", pl.col("_n"), pl.col("_rows").list.join(", ")).alias("detail"),
            )
        )
    kind = pl.col("so_dinh_danh_kind")
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
    from pipelines.reports.labels import POPULATION_ISSUE

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
    return [f"Trích xuất CSDLQG {file} ({rows:,} dòng) có vấn đề: " + "; ".join(parts)
            + ". Xem mục \"Vấn đề của trích xuất CSDLQG\" trong báo cáo."]
