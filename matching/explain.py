"""Why a pair scored what it scored: each comparison's level and partial weight.

`link_records` already returns this for every kept candidate (`LinkResult.evidence`); this
module explains *any* pair on demand — an officer reviewing a row may ask about a person the
engine did not propose — from the saved model (`LinkResult.model`, stored per run). Vietnamese labels
come from `matching.labels`, the table the reports use too.
"""

from __future__ import annotations

import duckdb
import polars as pl

from matching.comparisons import get_comparisons, level_sql
from matching.labels import COMPARISON, COMPARISON_LEVEL
from matching.model import Model
from matching.sql import quote_name


def explain_pair(
    con: duckdb.DuckDBPyConnection,
    registry_table: str,
    population_table: str,
    rec_id: int,
    pop_rec_id: int,
    model: dict,
) -> pl.DataFrame:
    """One row per comparison: comparison, level, partial_weight, plus Vietnamese labels.

    The weights are those the saved model gives; their sum plus `model["prior_log2_odds"]` is
    the pair's match_weight.
    """
    comparisons = get_comparisons(list(model["comparisons"]))
    m = Model.from_dict(model, comparisons)
    reg, pop = quote_name(registry_table), quote_name(population_table)
    weights = ", ".join(f"{m.weight_sql(c)} AS w_{c.name}" for c in comparisons)
    row = con.execute(
        f"""
        WITH pair AS (
            SELECT {level_sql(comparisons)},
                   (SELECT count(*) FROM {pop} x WHERE x.ho_ten_key_nomid = p.ho_ten_key_nomid)
                     / (SELECT count(*) FROM {pop})::DOUBLE AS tf_name,
                   (SELECT count(*) FROM {pop} x WHERE x.ten_key = p.ten_key)
                     / (SELECT count(*) FROM {pop})::DOUBLE AS tf_ten
            FROM {reg} r, {pop} p WHERE r.rec_id = $rec AND p.rec_id = $pop
        )
        SELECT *, {weights} FROM pair
        """,
        {"rec": rec_id, "pop": pop_rec_id},
    ).fetchone()
    if row is None:
        raise KeyError(f"no registry row {rec_id} or population row {pop_rec_id}")
    n = len(comparisons)
    levels, ws = row[:n], row[n + 2 :]
    out = []
    for c, lv, w in zip(comparisons, levels, ws):
        label = c.levels[lv].label
        out.append(
            {
                "comparison": c.name,
                "level": label,
                "partial_weight": float(w),
                "comparison_vi": COMPARISON.get(c.name, c.name),
                "level_vi": COMPARISON_LEVEL.get(label, label),
            }
        )
    return pl.DataFrame(out)
