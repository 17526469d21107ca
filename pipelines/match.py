"""The match stage: the thin adapter between the pipeline and the engine (`matching.link`).

normalize → **match** → checks. `match_registry` hands the person-schema frames of
`pipelines/normalize.py` to `matching.link.link_records` in a scratch DuckDB;
`assemble_links` turns the engine's links into exactly one outcome per registry person record
(rejected rows and land organizations included) and `row_counts` checks that accounting.
"""

from __future__ import annotations

import duckdb
import polars as pl

from matching import person_schema
from matching.link import link_records
from matching.partitioned import Partitioning, link_partitioned
from matching.templates import FIELD_PREFIX
from pipelines import foreigners, warehouse
from pipelines.land import owners as land
from pipelines.spec import RegistrySpec


def engine_input(frame: pl.DataFrame) -> pl.DataFrame:
    """The person-schema columns (and the optional ones and prepared fields present), typed, as the engine reads them.

    The benchmark writes its inputs through this too, so both tools read what the pipeline links."""
    schema = person_schema.SCHEMA | {c: t for c, t in person_schema.OPTIONAL.items() if c in frame.columns}
    fields = [c for c in frame.columns if c.startswith(FIELD_PREFIX)]  # the comparison library's prepared fields
    return frame.select([pl.col(c).cast(t) for c, t in schema.items()] + fields)


def match_registry(
    spec: RegistrySpec,
    persons: pl.DataFrame,
    pop_persons: pl.DataFrame,
    decisions: pl.DataFrame | None = None,
    partitioning: Partitioning | None = None,
    **remembered,
):
    """Run the matcher in a scratch in-memory DuckDB (the warehouse is only touched at write time);
    `decisions`: reviewers' earlier decisions that still hold (pipelines/decisions.constraints);
    `partitioning`: blocking, comparison and scoring in partitions on a Dask cluster
    (matching/partitioned.py: the same result as one machine's);
    `remembered`: what the previous run hands on (pipelines/incremental.Plan.engine_options)."""
    con = duckdb.connect()
    try:
        for name, frame in (("registry_person", persons), ("population_person", pop_persons)):
            con.register(f"_{name}", engine_input(frame).to_arrow())
            con.execute(f"CREATE TABLE {name} AS SELECT * FROM _{name}")
            con.unregister(f"_{name}")
        if partitioning is not None:
            return link_partitioned(
                con,
                "registry_person",
                "population_person",
                spec.match,
                decisions,
                n_partitions=partitioning.n_partitions,
                run_map=partitioning.run_map,
                workdir=partitioning.workdir,
                **remembered,
            )
        return link_records(con, "registry_person", "population_person", spec.match, decisions=decisions, **remembered)
    finally:
        con.close()


def _row_outcome(rows: pl.DataFrame, status: str, method: str, entity: str, reason: pl.Expr) -> pl.DataFrame:
    """One outcome for a whole row the matcher never saw (owner_index 0)."""
    return rows.select(
        "source_row",
        pl.lit(0, dtype=pl.Int16).alias("owner_index"),
        pl.lit(status).alias("status"),
        pl.lit(method).alias("method"),
        pl.lit(entity).alias("entity"),
        reason.alias("reason"),
    )


def assemble_links(
    spec: RegistrySpec,
    run_id: str,
    rows: pl.DataFrame,
    persons: pl.DataFrame,
    linked: pl.DataFrame,
    population: pl.DataFrame | None = None,
    kept: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Exactly one outcome per registry person record, rejected rows, organizations and foreigners included.

    `population` (pop_rec_id, person_hash) stamps each candidate person's fingerprint; `kept`
    (rec_id, pop_rec_id, link_from_run) the links carried from an earlier run (else made now)."""
    keys = rows.select("source_file", "source_row", "excel_row")
    if spec.repeat_persons:
        linked = land.repeated_persons_are_not_duplicates(spec, rows, linked)
    if kept is not None and kept.height:
        linked = linked.join(
            kept.select("rec_id", "pop_rec_id", "link_from_run"), on=["rec_id", "pop_rec_id"], how="left"
        )
    else:
        linked = linked.with_columns(pl.lit(None, dtype=pl.String).alias("link_from_run"))
    linked = linked.with_columns(
        pl.when(pl.col("pop_rec_id").is_not_null())
        .then(pl.coalesce("link_from_run", pl.lit(run_id)))
        .alias("link_from_run")
    )
    if population is not None:
        linked = linked.join(population.select("pop_rec_id", "person_hash"), on="pop_rec_id", how="left")
    matched = (
        persons.select("rec_id", "source_row", "owner_index", "entity")
        .join(linked, on="rec_id", how="left")
        .with_columns(
            pl.col("status").fill_null("unmatched"),
            pl.col("method").fill_null("none"),
            (pl.col("duplicate_of") // 10).cast(pl.Int64).alias("duplicate_of"),
            pl.lit(None, dtype=pl.Utf8).alias("reason"),
        )
    )
    rejected = _row_outcome(
        rows.filter(pl.col("row_status") == "rejected"), "rejected", "rejected", "person", pl.col("reject_reason")
    )
    orgs = _row_outcome(
        land.organization_rows(spec, rows),
        "unmatched",
        "organization",
        "organization",
        pl.lit("organization_not_person"),
    )
    aliens = _row_outcome(
        foreigners.foreigner_rows(spec, rows),
        "unmatched",
        foreigners.ENTITY,
        foreigners.ENTITY,
        pl.lit(foreigners.REASON),
    )
    links = pl.concat([matched, rejected, orgs, aliens], how="diagonal_relaxed").join(keys, on="source_row", how="left")
    return (
        links.with_columns(
            pl.lit(run_id).alias("run_id"),
            pl.lit(spec.name).alias("registry"),
            (pl.col("source_row") * 10 + pl.col("owner_index")).cast(pl.Int64).alias("rec_id"),
        )
        .select(warehouse.TABLES["links"].column_names)
        .sort("source_row", "owner_index")
    )


def row_counts(rows: pl.DataFrame, links: pl.DataFrame) -> dict[str, int]:
    """Outcome counts, and the accounting invariant: every input row has at least one outcome and
    every person record exactly one."""
    counts = {s: 0 for s in warehouse.LINK_STATUSES}
    counts.update(dict(links.group_by("status").len().iter_rows()))
    counts = {"input_rows": rows.height, "records": links.height, **counts}
    counts["organizations"] = links.filter(pl.col("method") == "organization").height
    counts["foreigners"] = links.filter(pl.col("method") == foreigners.ENTITY).height
    counts["extra_owner_records"] = links.filter(pl.col("owner_index") > 0).height
    rows_with_outcome = links["source_row"].n_unique()
    if rows_with_outcome != rows.height or links.select(["source_row", "owner_index"]).is_duplicated().any():
        raise AssertionError(f"row accounting broken: {rows.height} input rows, {rows_with_outcome} with an outcome")
    if sum(counts[s] for s in warehouse.LINK_STATUSES) != links.height:
        raise AssertionError("row accounting broken: statuses do not add up to the records")
    if rows.height + counts["extra_owner_records"] != links.height:
        raise AssertionError("row accounting broken: input rows + extra owners != records")
    return counts
