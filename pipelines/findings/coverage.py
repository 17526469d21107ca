"""Coverage against Đề án 06 targets, per registry, province and commune (one SQL query).

What is counted: person records of a run (`links_effective`: `links` after reviewers'
decisions, one row per person named in a registry row; land organizations and foreigners
(pipelines/foreigners.py) are excluded because CSDLQG holds Vietnamese citizens only). A review
candidate a reviewer accepted counts as linked probabilistically; one rejected counts as not
found. Each record gets flags —
linked (by ID, probabilistically, or — land co-owners — through the first owner's household;
the three parts add up to linked in every unit), verified ("đúng": linked and no mismatch), complete ("đủ":
no missing required field), duplicate, dead still paid, paid through an account — and the
flags are summed over GROUPING SETS ((), (province), (province, commune)). The unit of a record
is the current (2025) commune of its registry address; records whose address could not be
placed are counted under "Không xác định".

Targets come from `spec.targets` (share 0..1, 100 % for Đề án 06), "lower is better" metrics
(duplicates, dead still paid) have target 0. `gap` is the distance still to go (positive = to do).
"""

from __future__ import annotations

import duckdb
import polars as pl

from matching.normalize.fold import fold, fold_sql
from matching.reference.admin_units import current_units
from matching.sql import quote_identifier
from pipelines.foreigners import NOT_CSDLQG_SQL
from pipelines.registries import spec_of_run
from pipelines.spec import METRICS, RegistrySpec
from pipelines.warehouse import insert_frame, rows_table_name, transaction

# metric -> (direction, default target); None = shown without a target

DETERMINISTIC_METHODS = ("id_exact", "cmnd9", "cmnd12", "id_one_edit")
UNKNOWN_UNIT = "Không xác định"


def metrics_for(spec: RegistrySpec) -> list[str]:
    out = [m for m in METRICS if m not in ("dead_still_paid", "paid_by_account", "linked_household")]
    if spec.owner_split:  # co-owners found in the first owner's household (method household)
        out.insert(out.index("linked_probabilistic") + 1, "linked_household")
    if spec.alive_check:
        out.append("dead_still_paid")
    if spec.payment is not None:
        out.append("paid_by_account")
    return out


def _targets(spec: RegistrySpec) -> list[dict]:
    rows = []
    for m in metrics_for(spec):
        direction, default = METRICS[m]
        target = spec.targets.get(m, default) if direction != "info" else None
        rows.append({"metric": m, "direction": direction, "target": target})
    return rows


def _payment_sql(spec: RegistrySpec) -> str:
    """Flag expression for "paid through an account": an account mode and an account number."""
    if spec.payment is None:
        return "NULL::BOOLEAN"
    mode = f"r.{quote_identifier(spec.payment.mode_column)}"
    account = f"r.{quote_identifier(spec.payment.account_column)}"
    return f"(coalesce(list_contains($accounts, {fold_sql(mode)}), false) AND coalesce(trim({account}), '') <> '')"


def coverage_frame(con: duckdb.DuckDBPyConnection, run_id: str, spec: RegistrySpec | None = None) -> pl.DataFrame:
    """Coverage rows of a run (the `coverage` table's columns), computed from the warehouse."""
    if spec is None:
        spec = spec_of_run(con, run_id)
    rows = quote_identifier(rows_table_name(spec.name))
    sql = f"""
    WITH records AS (       -- every person record of the run with its unit
        SELECT l.source_file, l.source_row, l.owner_index, l.status, l.method, l.so_dinh_danh,
               r.ma_tinh, r.ma_xa, {_payment_sql(spec)} AS paid_by_account
        FROM links_effective l
        LEFT JOIN {rows} r ON r.run_id = l.run_id AND r.source_file = l.source_file AND r.source_row = l.source_row
        WHERE l.run_id = $run_id AND coalesce(l.entity, 'person') NOT IN {NOT_CSDLQG_SQL}
    ),
    mismatched AS (SELECT DISTINCT source_file, source_row, owner_index FROM mismatches WHERE run_id = $run_id),
    incomplete AS (SELECT DISTINCT source_file, source_row FROM missing_fields WHERE run_id = $run_id),
    duplicated AS (SELECT DISTINCT source_file, source_row, owner_index FROM duplicates WHERE run_id = $run_id),
    dead_paid AS (
        SELECT DISTINCT source_file, source_row, owner_index FROM alerts
        WHERE run_id = $run_id AND kind = 'dead_still_paid'
    ),
    flags AS (              -- one row per record, one boolean per metric
        SELECT rc.ma_tinh, rc.ma_xa,
               (rc.status IN ('matched', 'duplicate') AND rc.so_dinh_danh IS NOT NULL) AS linked,
               linked AND rc.method IN (SELECT unnest($deterministic)) AS linked_id,
               linked AND rc.method = 'household' AS linked_household,
               -- probabilistic, review_accepted and any other way: the three parts always add up to linked
               linked AND NOT coalesce(rc.method IN (SELECT unnest($deterministic)), false)
                      AND rc.method IS DISTINCT FROM 'household' AS linked_probabilistic,
               linked AND mm.source_row IS NULL AS verified,
               inc.source_row IS NULL AS complete,
               rc.status = 'review' AS review,
               rc.status IN ('unmatched', 'rejected') AS not_found,
               (rc.status = 'duplicate' OR du.source_row IS NOT NULL) AS duplicate,
               dp.source_row IS NOT NULL AS dead_still_paid,
               rc.paid_by_account
        FROM records rc
        LEFT JOIN mismatched mm USING (source_file, source_row, owner_index)
        LEFT JOIN incomplete inc USING (source_file, source_row)
        LEFT JOIN duplicated du USING (source_file, source_row, owner_index)
        LEFT JOIN dead_paid dp USING (source_file, source_row, owner_index)
    ),
    grouped AS (            -- all, per province, per commune
        SELECT CASE grouping(ma_tinh, ma_xa) WHEN 3 THEN 'all' WHEN 1 THEN 'province' ELSE 'commune' END AS level,
               ma_tinh, ma_xa, count(*) AS denominator,
               count(*) FILTER (linked) AS linked,
               count(*) FILTER (linked_id) AS linked_id,
               count(*) FILTER (linked_probabilistic) AS linked_probabilistic,
               count(*) FILTER (linked_household) AS linked_household,
               count(*) FILTER (verified) AS verified,
               count(*) FILTER (complete) AS complete,
               count(*) FILTER (review) AS review,
               count(*) FILTER (not_found) AS not_found,
               count(*) FILTER (duplicate) AS duplicate,
               count(*) FILTER (dead_still_paid) AS dead_still_paid,
               count(*) FILTER (paid_by_account) AS paid_by_account
        FROM flags
        GROUP BY GROUPING SETS ((), (ma_tinh), (ma_tinh, ma_xa))
    ),
    long AS (
        UNPIVOT grouped
        ON linked, linked_id, linked_probabilistic, linked_household, verified, complete, review, not_found,
           duplicate, dead_still_paid, paid_by_account
        INTO NAME metric VALUE numerator
    ),
    targets AS (SELECT unnest($targets, recursive := true)),
    provinces AS (SELECT DISTINCT ma_tinh, ten_tinh FROM units),
    communes AS (SELECT ma_xa, ten_xa FROM units)
    SELECT $run_id AS run_id, $registry AS registry, g.level,
           CASE g.level WHEN 'province' THEN g.ma_tinh WHEN 'commune' THEN g.ma_xa END AS ma_don_vi,
           CASE g.level
               WHEN 'all' THEN NULL
               WHEN 'province' THEN coalesce(p.ten_tinh, $unknown)
               ELSE coalesce(c.ten_xa, $unknown) || coalesce(', ' || p.ten_tinh, '')
           END AS ten_don_vi,
           g.metric, g.numerator::BIGINT AS numerator, g.denominator::BIGINT AS denominator,
           CASE WHEN g.denominator > 0 THEN g.numerator / g.denominator END AS value,
           t.target,
           CASE t.direction WHEN 'up' THEN t.target - value WHEN 'down' THEN value - t.target END AS gap
    FROM long g
    JOIN targets t USING (metric)
    LEFT JOIN provinces p ON p.ma_tinh = g.ma_tinh
    LEFT JOIN communes c ON c.ma_xa = g.ma_xa
    ORDER BY CASE g.level WHEN 'all' THEN 0 WHEN 'province' THEN 1 ELSE 2 END, g.ma_tinh NULLS LAST,
             g.ma_xa NULLS LAST, list_position($order, g.metric)
    """
    units = current_units().select("ma_tinh", "ten_tinh", "ma_xa", "ten_xa")
    accounts = sorted({fold(v) for v in spec.payment.account_values}) if spec.payment else []
    params = {
        "run_id": run_id,
        "registry": spec.name,
        "deterministic": list(DETERMINISTIC_METHODS),
        "targets": _targets(spec),
        "unknown": UNKNOWN_UNIT,
        "order": metrics_for(spec),
    }
    if spec.payment is not None:
        params["accounts"] = accounts
    con.register("units", units.to_arrow())
    try:
        return con.execute(sql, params).pl()
    finally:
        con.unregister("units")


def store_coverage(con: duckdb.DuckDBPyConnection, run_id: str, spec: RegistrySpec | None = None) -> pl.DataFrame:
    """Recompute a run's coverage and replace its rows in `coverage` (one transaction)."""

    frame = coverage_frame(con, run_id, spec)
    with transaction(con):
        con.execute("DELETE FROM coverage WHERE run_id = ?", [run_id])
        insert_frame(con, "coverage", frame)
    return frame


def coverage_rows_for_artifact(con: duckdb.DuckDBPyConnection, run_id: str) -> list[dict]:
    """Registry-level and province-level coverage as plain dicts for a Prefect table artifact.

    Aggregates only (counts and shares per unit); no row of any person is included."""
    frame = con.execute(
        """
        SELECT level, coalesce(ten_don_vi, 'Toàn bộ') AS don_vi, metric, numerator, denominator,
               round(100 * value, 2) AS phan_tram, round(100 * target, 2) AS muc_tieu, round(100 * gap, 2) AS con_thieu
        FROM coverage WHERE run_id = ? AND level IN ('all', 'province')
        ORDER BY level = 'province', don_vi, metric
        """,
        [run_id],
    ).pl()
    if frame.height == 0:
        frame = (
            coverage_frame(con, run_id)
            .filter(pl.col("level").is_in(["all", "province"]))
            .select(
                "level",
                pl.col("ten_don_vi").fill_null("Toàn bộ").alias("don_vi"),
                "metric",
                "numerator",
                "denominator",
                (pl.col("value") * 100).round(2).alias("phan_tram"),
                (pl.col("target") * 100).round(2).alias("muc_tieu"),
                (pl.col("gap") * 100).round(2).alias("con_thieu"),
            )
        )
    return frame.to_dicts()
