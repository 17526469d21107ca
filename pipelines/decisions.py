"""Reviewers' decisions carried forward: a question answered once is not asked again.

Why: officers run the same registry every month. Without memory the same "Cần xem xét" rows come
back each month and a reviewer answers them again. A decision (`review_decisions`, imported by
`doisoat review`) is about a pair: this registry record is, or is not, this CSDLQG person. It
is recognized in a later run by both sides' fingerprints (`pipelines/normalize.py`): the record
by `record_key` (its own key and owner place, whatever its row number) and `identity_hash`
(what the matcher compares), the person by `so_dinh_danh` and `person_hash`. While both are
unchanged the decision is applied (`matching.link.link_records(decisions=...)`: an accepted pair
stays linked even below the threshold, a rejected pair never links again); when either side
changed the question comes back, with the earlier decision shown beside it.

`carried_decisions` returns one row per earlier decision that concerns a record of this run, with
its `state`: applied, record_changed, person_changed or person_missing (the person is no longer
in the extract). The run stores them (warehouse table `carried_decisions`) and the reports show them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from pipelines import warehouse
from pipelines.spec import RegistrySpec

# The latest decision per (record, person) over all earlier runs of the registry, with both
# sides' fingerprints as they were when it was taken (the record from that run's registry_persons,
# the person from that run's extract). An accept names the chosen person; a reject, the review
# link's candidate (review_decisions.so_dinh_danh).
EARLIER_DECISIONS_SQL = """
WITH decided AS (
    SELECT d.run_id AS from_run_id, d.decision, d.reviewer, d.decided_at, d.note, d.decision_file_sha256,
           d.so_dinh_danh, rp.record_key, rp.identity_hash, r.population_sha256
    FROM review_decisions_latest d
    JOIN registry_persons rp
      ON rp.run_id = d.run_id AND rp.source_row = d.source_row AND rp.owner_index = d.owner_index
    JOIN runs r ON r.run_id = d.run_id
    WHERE d.registry = $registry AND d.run_id <> $run_id AND d.so_dinh_danh IS NOT NULL
      AND rp.record_key IS NOT NULL
),
with_person AS (
    SELECT x.*, (SELECT any_value(p.person_hash) FROM population p
                 WHERE p.extract_sha256 = x.population_sha256 AND p.so_dinh_danh = x.so_dinh_danh) AS person_hash
    FROM decided x
)
SELECT * EXCLUDE (population_sha256) FROM with_person
QUALIFY row_number() OVER (PARTITION BY record_key, so_dinh_danh ORDER BY decided_at DESC) = 1
"""

SCHEMA = {
    "source_row": pl.Int64,
    "owner_index": pl.Int16,
    "rec_id": pl.Int64,
    "pop_rec_id": pl.Int64,
    "so_dinh_danh": pl.String,
    "decision": pl.String,
    "state": pl.String,
    "from_run_id": pl.String,
    "reviewer": pl.String,
    "decided_at": pl.Datetime("us", "UTC"),
    "note": pl.String,
    "decision_file_sha256": pl.String,
}


def earlier_decisions(db: Path, spec: RegistrySpec, run_id: str) -> pl.DataFrame:
    con = warehouse.connect(db, [spec])
    try:
        return con.execute(EARLIER_DECISIONS_SQL, {"registry": spec.name, "run_id": run_id}).pl()
    finally:
        con.close()


def carried_decisions(
    db: Path, spec: RegistrySpec, run_id: str, persons: pl.DataFrame, population: pl.DataFrame
) -> pl.DataFrame:
    """Earlier decisions about this run's records, each with its state (see module docstring).

    `persons`: this run's registry person records with their fingerprints; `population`: this run's
    extract frame (pop_rec_id, so_dinh_danh, person_hash). A person whose so_dinh_danh is not unique
    in the extract cannot be recognized: person_missing."""
    earlier = earlier_decisions(db, spec, run_id)
    if earlier.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    unique = population.filter(pl.col("so_dinh_danh").is_not_null()).filter(pl.col("so_dinh_danh").is_unique())
    now = earlier.join(
        persons.select("source_row", "owner_index", "rec_id", "record_key", pl.col("identity_hash").alias("id_now")),
        on="record_key",
        how="inner",
    ).join(
        unique.select("so_dinh_danh", "pop_rec_id", pl.col("person_hash").alias("person_now")),
        on="so_dinh_danh",
        how="left",
    )
    state = (
        pl.when(pl.col("id_now") != pl.col("identity_hash"))
        .then(pl.lit("record_changed"))
        .when(pl.col("pop_rec_id").is_null())
        .then(pl.lit("person_missing"))
        .when(pl.col("person_now") != pl.col("person_hash"))
        .then(pl.lit("person_changed"))
        .otherwise(pl.lit("applied"))
    )
    out = now.with_columns(state.alias("state"))
    # one accepted person per record: the latest accept applies, earlier accepts of others do not
    latest_accept = pl.col("decided_at").rank("ordinal", descending=True).over(["rec_id", "decision", "state"]) == 1
    out = out.filter((pl.col("decision") != "accept") | (pl.col("state") != "applied") | latest_accept)
    return out.select([pl.col(c).cast(t) for c, t in SCHEMA.items()]).sort("source_row", "owner_index", "decided_at")


def constraints(carried: pl.DataFrame) -> pl.DataFrame:
    """The pairs the engine must respect (`link_records(decisions=...)`): applied decisions only."""
    return carried.filter(pl.col("state") == "applied").select("rec_id", "pop_rec_id", "decision")
