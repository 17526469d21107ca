"""Why a pair scored what it scored: each comparison's level and partial weight.

`link_records` already returns this for every kept candidate (`LinkResult.evidence`); this
module explains *any* pair on demand — an officer reviewing a row may ask about a person the
engine did not propose — from the saved model (`LinkResult.model`, stored per run). Vietnamese labels
come from `matching.labels`, the table the reports use too.

The comparisons are those saved with the model (their SQL, as the run scored with it), so an old
run explains as it was scored even after matching/comparisons.py changed; only a model saved
before levels carried their SQL takes today's code, and every output row says which
(`model_source`: "saved" or "code"). The saved SQL runs as code: it comes from the project's own
warehouse, never from an input file.
"""

from __future__ import annotations

import duckdb
import polars as pl

from matching.comparisons import level_sql, tf_columns
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
    """One row per comparison: comparison, level, partial_weight, Vietnamese labels, model_source.

    The weights are those the saved model gives; their sum plus `model["prior_log2_odds"]` is
    the pair's match_weight.
    """
    m = Model.from_dict(model)
    comparisons = m.comparisons
    reg, pop = quote_name(registry_table), quote_name(population_table)
    weights = ", ".join(f"{m.weight_sql(c)} AS w_{c.name}" for c in comparisons)
    # each term frequency the levels use: the share of the population holding p's value
    tfs = "".join(
        f",\n (SELECT count(*) FROM {pop} x WHERE x.{quote_name(key)} = p.{quote_name(key)})"
        f" / (SELECT count(*) FROM {pop})::DOUBLE AS {quote_name(col)}"
        for col, key in tf_columns(comparisons).items()
    )
    row = con.execute(
        f"""
        WITH pair AS (
            SELECT {level_sql(comparisons)}{tfs}
            FROM {reg} r, {pop} p WHERE r.rec_id = $rec AND p.rec_id = $pop
        ),
        weighted AS (SELECT *, {weights} FROM pair)
        SELECT {", ".join(c.column for c in comparisons)}, {", ".join(f"w_{c.name}" for c in comparisons)}
        FROM weighted
        """,
        {"rec": rec_id, "pop": pop_rec_id},
    ).fetchone()
    if row is None:
        raise KeyError(f"no registry row {rec_id} or population row {pop_rec_id}")
    n = len(comparisons)
    levels, ws = row[:n], row[n:]
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
                "model_source": m.source,
            }
        )
    return pl.DataFrame(out)
