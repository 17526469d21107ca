"""Writing a run's link evidence once: an incremental run points to the evidence it did not change.

Why: `link_evidence` is one row per (candidate pair, comparison) — about five rows per registry
record — and an incremental month keeps most links unchanged (issue 14 item 7: the warehouse
must not grow by a full copy every month). An incremental run still scores each kept pair with
the frozen model; when every comparison's level and weight is the one an earlier run stored for
that record and that person, the run stores a pointer (`link_evidence_kept`: this run's rec_id →
the run and rec_id holding the rows) instead of the rows. Nothing is assumed: the run's own rows
are compared with the stored ones and only identical evidence is replaced, so the view
`link_evidence` gives exactly the rows the run computed (its row numbers, person row, rank 1 —
the only pair an incremental run scores for a kept record). A pointer always names a run that
stored the rows itself (a chain of incremental months points to the same first run), so no
earlier run's rows are ever needed twice; first and full runs store everything.
"""

from __future__ import annotations

import duckdb
import polars as pl

from matching.sql import quote_identifier

# This run's kept links whose evidence is identical to the evidence of the previous run's record
# with the same record_key (or to the rows the previous run pointed to) for the same person.
# `_evidence_now` is the run's evidence frame; links and registry_persons hold the run's rows.
POINTERS_SQL = """
WITH kept AS (          -- this run's links carried from an earlier run
    SELECT l.rec_id, l.source_row, l.owner_index, l.pop_rec_id, l.so_dinh_danh, rp.record_key
    FROM links l
    JOIN registry_persons rp ON rp.run_id = l.run_id AND rp.rec_id = l.rec_id
    WHERE l.run_id = $run_id AND l.status = 'matched' AND l.link_from_run <> l.run_id
      AND l.so_dinh_danh IS NOT NULL AND rp.record_key IS NOT NULL
),
previous AS (          -- the previous run's record of each key listed once there
    SELECT record_key, rec_id AS previous_rec_id
    FROM registry_persons
    WHERE run_id = $previous_run_id AND record_key IS NOT NULL
    QUALIFY count(*) OVER (PARTITION BY record_key) = 1
),
pointed AS (           -- where that record's rows are: the previous run's own, or where it pointed
    SELECT k.*, coalesce(pk.from_run_id, $previous_run_id) AS from_run_id,
           coalesce(pk.from_rec_id, p.previous_rec_id) AS from_rec_id
    FROM kept k
    JOIN previous p USING (record_key)
    LEFT JOIN link_evidence_kept pk ON pk.run_id = $previous_run_id AND pk.rec_id = p.previous_rec_id
),
now_rows AS (          -- this run's evidence of each kept record: only the kept pair, rank 1?
    SELECT e.rec_id,
           string_agg(concat_ws('|', e.comparison, coalesce(e.level, '∅'), coalesce(e.partial_weight::VARCHAR, '∅')),
                      '\n' ORDER BY e.comparison) AS evidence,
           bool_and(e.so_dinh_danh = k.so_dinh_danh AND e.pop_rec_id = k.pop_rec_id AND e.candidate_rank = 1
                    AND e.source_row = k.source_row AND e.owner_index = k.owner_index) AS only_the_kept_pair
    FROM _evidence_now e
    JOIN kept k USING (rec_id)
    GROUP BY e.rec_id
),
then_rows AS (         -- the stored evidence of the same record and person
    SELECT p.rec_id,
           string_agg(concat_ws('|', e.comparison, coalesce(e.level, '∅'), coalesce(e.partial_weight::VARCHAR, '∅')),
                      '\n' ORDER BY e.comparison) AS evidence
    FROM pointed p
    JOIN link_evidence_stored e
      ON e.run_id = p.from_run_id AND e.rec_id = p.from_rec_id AND e.so_dinh_danh = p.so_dinh_danh
    GROUP BY p.rec_id
)
SELECT p.rec_id, p.from_run_id, p.from_rec_id
FROM pointed p
JOIN now_rows n USING (rec_id)
JOIN then_rows t USING (rec_id)
WHERE n.only_the_kept_pair AND n.evidence = t.evidence
"""


def write_evidence(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    registry: str,
    evidence: pl.DataFrame,
    previous_run_id: str | None,
) -> tuple[int, int]:
    """Insert the run's evidence (inside the run's transaction, after its links and
    registry_persons): with a previous run, identical kept-link evidence as pointers.
    Returns (rows stored, kept links pointed to earlier rows)."""
    if evidence.height == 0:
        return 0, 0
    con.register("_evidence_now", evidence.to_arrow())
    try:
        pointers = 0
        if previous_run_id is not None:
            con.execute(
                "CREATE OR REPLACE TEMP TABLE _evidence_pointers AS " + POINTERS_SQL,
                {"run_id": run_id, "previous_run_id": previous_run_id},
            )
            pointers = con.execute(
                "INSERT INTO link_evidence_kept (run_id, registry, rec_id, from_run_id, from_rec_id) "
                "SELECT $run_id, $registry, rec_id, from_run_id, from_rec_id FROM _evidence_pointers",
                {"run_id": run_id, "registry": registry},
            ).fetchone()[0]
            source = "(SELECT * FROM _evidence_now ANTI JOIN _evidence_pointers USING (rec_id))"
        else:
            source = "_evidence_now"
        cols = ", ".join(quote_identifier(c) for c in evidence.columns)
        stored = con.execute(f"INSERT INTO link_evidence_stored ({cols}) SELECT {cols} FROM {source}").fetchone()[0]
    finally:
        con.execute("DROP TABLE IF EXISTS _evidence_pointers")
        con.unregister("_evidence_now")
    return stored, pointers
