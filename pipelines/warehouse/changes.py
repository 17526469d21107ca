"""What changed since the registry's previous run: the views `changes` and `coverage_changes`.

Why views and not tables: a run's findings are recomputed when reviewers' decisions come back
(`doisoat review`), and the previous run's too; a view always compares what the warehouse holds
now, so the monthly report to the province ("Biến động so với lần trước") never shows a stale
difference. Records are recognized across runs by their fingerprint `registry_persons.record_key`
(the registry's own key and the owner's place), never by row number, so a file re-sorted by the
commune shows no change at all.

`changes`: one row per difference between a succeeded run and the registry's previous succeeded
run, `change` one of
- record_added / record_removed / record_changed (the row as read differs: record_hash);
- mismatch_fixed / mismatch_new (a field that disagreed with CSDLQG now agrees, or the reverse),
  missing_fixed / missing_new (a required field filled in, or emptied): what the communes corrected;
- dead_still_paid_new (an alert "dead but still paid" that the previous run did not raise);
- link_changed (the record's CSDLQG person or status after review changed; `detail` says from/to).
`coverage_changes`: each coverage figure of the run beside the previous run's.
"""

from __future__ import annotations

# Succeeded runs, each with the registry's previous succeeded run.
_PAIRS = """
pairs AS (
    SELECT run_id, registry, previous_run_id FROM (
        SELECT run_id, registry,
               lag(run_id) OVER (PARTITION BY registry ORDER BY started_at, run_id) AS previous_run_id
        FROM runs WHERE status = 'succeeded'
    ) WHERE previous_run_id IS NOT NULL
)"""

CHANGES_SQL = f"""
WITH {_PAIRS},
records AS (      -- one row per record key and run (a key listed twice: its first row)
    SELECT run_id, record_key, min(source_row) AS source_row, min(owner_index) AS owner_index,
           min(record_hash) AS record_hash
    FROM registry_persons WHERE record_key IS NOT NULL GROUP BY run_id, record_key
),
keyed AS (        -- a finding's record key, for any table keyed by (run_id, source_row, owner_index)
    SELECT run_id, source_row, owner_index, record_key FROM registry_persons
),
record_changes AS (   -- records new in this run, or whose row as read differs
    SELECT p.run_id, p.registry, p.previous_run_id, n.record_key, n.source_row, n.owner_index,
           o.source_row AS previous_source_row,
           CASE WHEN o.record_key IS NULL THEN 'record_added' ELSE 'record_changed' END AS change,
           NULL::VARCHAR AS field, NULL::VARCHAR AS detail
    FROM pairs p
    JOIN records n ON n.run_id = p.run_id
    LEFT JOIN records o ON o.run_id = p.previous_run_id AND o.record_key = n.record_key
    WHERE o.record_key IS NULL OR n.record_hash <> o.record_hash
),
removed AS (          -- records of the previous run absent now
    SELECT p.run_id, p.registry, p.previous_run_id, o.record_key, NULL::BIGINT AS source_row, o.owner_index,
           o.source_row AS previous_source_row, 'record_removed' AS change,
           NULL::VARCHAR AS field, NULL::VARCHAR AS detail
    FROM pairs p JOIN records o ON o.run_id = p.previous_run_id
    WHERE NOT EXISTS (SELECT 1 FROM records n WHERE n.run_id = p.run_id AND n.record_key = o.record_key)
),
findings AS (         -- mismatches, missing fields and dead-still-paid alerts with their record keys
    SELECT m.run_id, k.record_key, 'mismatch' AS what, m.field FROM mismatches m
    JOIN keyed k USING (run_id, source_row, owner_index)
    UNION ALL
    SELECT f.run_id, k.record_key, 'missing', f.field FROM missing_fields f
    JOIN keyed k USING (run_id, source_row, owner_index)
    UNION ALL
    SELECT a.run_id, k.record_key, 'dead_still_paid', NULL FROM alerts a
    JOIN keyed k USING (run_id, source_row, owner_index) WHERE a.kind = 'dead_still_paid'
),
both_runs AS (        -- records in both runs: only they can have a finding fixed or new
    SELECT p.run_id, p.registry, p.previous_run_id, n.record_key, n.source_row, n.owner_index,
           o.source_row AS previous_source_row
    FROM pairs p
    JOIN records n ON n.run_id = p.run_id
    JOIN records o ON o.run_id = p.previous_run_id AND o.record_key = n.record_key
),
finding_new AS (
    SELECT b.run_id, b.registry, b.previous_run_id, b.record_key, b.source_row, b.owner_index, b.previous_source_row,
           f.what || '_new' AS change, f.field, NULL::VARCHAR AS detail
    FROM both_runs b JOIN findings f ON f.run_id = b.run_id AND f.record_key = b.record_key
    WHERE NOT EXISTS (SELECT 1 FROM findings g WHERE g.run_id = b.previous_run_id AND g.record_key = b.record_key
                      AND g.what = f.what AND g.field IS NOT DISTINCT FROM f.field)
),
finding_fixed AS (
    SELECT b.run_id, b.registry, b.previous_run_id, b.record_key, b.source_row, b.owner_index, b.previous_source_row,
           f.what || '_fixed' AS change, f.field, NULL::VARCHAR AS detail
    FROM both_runs b JOIN findings f ON f.run_id = b.previous_run_id AND f.record_key = b.record_key
    WHERE f.what <> 'dead_still_paid'
      AND NOT EXISTS (SELECT 1 FROM findings g WHERE g.run_id = b.run_id AND g.record_key = b.record_key
                      AND g.what = f.what AND g.field IS NOT DISTINCT FROM f.field)
),
effective AS (
    SELECT e.run_id, k.record_key, e.source_row, e.owner_index, e.status, e.so_dinh_danh
    FROM links_effective e JOIN keyed k USING (run_id, source_row, owner_index)
),
link_changes AS (
    SELECT p.run_id, p.registry, p.previous_run_id, n.record_key, n.source_row, n.owner_index,
           o.source_row AS previous_source_row, 'link_changed' AS change, NULL::VARCHAR AS field,
           o.status || ' → ' || n.status AS detail
    FROM pairs p
    JOIN effective n ON n.run_id = p.run_id
    JOIN effective o ON o.run_id = p.previous_run_id AND o.record_key = n.record_key
    WHERE n.status IS DISTINCT FROM o.status OR n.so_dinh_danh IS DISTINCT FROM o.so_dinh_danh
)
SELECT run_id, registry, previous_run_id, change, record_key, source_row, owner_index, previous_source_row, field,
       detail
FROM (
    SELECT * FROM record_changes
    UNION ALL SELECT * FROM removed
    UNION ALL SELECT * FROM finding_new
    UNION ALL SELECT * FROM finding_fixed
    UNION ALL SELECT * FROM link_changes
)
"""

CHANGES_COLUMNS = (
    ("run_id", "The run"),
    ("registry", "Registry name"),
    ("previous_run_id", "The registry's previous succeeded run, compared with"),
    (
        "change",
        "record_added, record_removed, record_changed, mismatch_fixed, mismatch_new, missing_fixed, missing_new, "
        "dead_still_paid_new, link_changed",
    ),
    ("record_key", "registry_persons.record_key: the record across runs (own key and owner place)"),
    ("source_row", "Row in this run's file (NULL for a removed record)"),
    ("owner_index", "Owner position within the row (land); 0 otherwise"),
    ("previous_source_row", "Row in the previous run's file (NULL for an added record)"),
    ("field", "The field of a mismatch or missing-field change"),
    ("detail", "link_changed: previous status → this status (the person may have changed too)"),
)

COVERAGE_CHANGES_SQL = f"""
WITH {_PAIRS}
SELECT p.run_id, p.registry, p.previous_run_id, n.level, n.ma_don_vi, n.ten_don_vi, n.metric,
       o.value AS previous_value, n.value, n.value - o.value AS change, n.numerator, o.numerator AS previous_numerator
FROM pairs p
JOIN coverage n ON n.run_id = p.run_id
LEFT JOIN coverage o
  ON o.run_id = p.previous_run_id AND o.level = n.level AND o.metric = n.metric
 AND o.ma_don_vi IS NOT DISTINCT FROM n.ma_don_vi
"""

COVERAGE_CHANGES_COLUMNS = (
    ("run_id", "The run"),
    ("registry", "Registry name"),
    ("previous_run_id", "The registry's previous succeeded run"),
    ("level", "coverage.level"),
    ("ma_don_vi", "coverage.ma_don_vi"),
    ("ten_don_vi", "coverage.ten_don_vi"),
    ("metric", "coverage.metric"),
    ("previous_value", "The previous run's share (NULL: the unit was not in it)"),
    ("value", "This run's share"),
    ("change", "value - previous_value"),
    ("numerator", "This run's count"),
    ("previous_numerator", "The previous run's count"),
)
