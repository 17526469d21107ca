"""The partitioned match on a real Dask cluster gives exactly the one-machine result (issue 16, item 3).

200,000 generated persons (`doisoat sample`'s generator, its defects and truth) and 20,000 welfare
rows, prepared by the pipeline's own ingest/normalize path, linked twice through the match stage
(`pipelines.match.match_registry`): on one machine, and on a LocalCluster of 4 worker processes
(`pipelines.cluster.partitioning`), with reviewers' decisions carried in both. Links, statuses,
weights and probabilities, evidence, the model and the pair counts must be identical — not close:
the proof is in matching/partitioned.py's docstring, and floats are compared exactly.
"""

from pathlib import Path

import polars as pl
import pytest

from pipelines import cluster, match, normalize
from pipelines.registries import REGISTRIES
from pipelines.sample.generator import generate

PERSONS, ROWS, WORKERS = 200_000, 20_000, 4
SMALL = {"pension": 1e-4, "civil_births": 1e-4, "civil_deaths": 1e-4, "land": 1e-4}
SPEC = REGISTRIES["social_welfare"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[pl.DataFrame, pl.DataFrame]:
    folder = tmp_path_factory.mktemp("sample200k")
    counts = generate(PERSONS, 16, folder, fractions={"social_welfare": ROWS / PERSONS, **SMALL})
    assert counts["social_welfare.csv"] == ROWS
    rows = normalize.normalize_registry(SPEC, normalize.ingest_registry(SPEC, folder / "social_welfare.csv"))
    persons = normalize.registry_persons(SPEC, rows)
    pop = normalize.population_persons(normalize.read_population(folder / "population.csv"))
    return persons, pop


def _decisions(links: pl.DataFrame, evidence: pl.DataFrame) -> pl.DataFrame:
    """Reviewers accepted a few unmatched rows' candidates and rejected a few probabilistic links."""
    unmatched = links.filter(pl.col("status") == "unmatched").select("rec_id")
    candidates = evidence.join(unmatched, on="rec_id").select("rec_id", "pop_rec_id").sort("rec_id", "pop_rec_id")
    best = candidates.unique(subset="rec_id", keep="first", maintain_order=True).head(5)  # one answer per row
    wrong = links.filter(pl.col("status") == "matched", pl.col("method") == "probabilistic").head(5)
    return pl.concat(
        [
            best.select("rec_id", "pop_rec_id", pl.lit("accept").alias("decision")),
            wrong.select("rec_id", "pop_rec_id", pl.lit("reject").alias("decision")),
        ]
    )


def test_dask_partitioned_match_equals_one_machine(inputs, tmp_path):
    persons, pop = inputs
    first = match.match_registry(SPEC, persons, pop)
    decisions = _decisions(first.links, first.evidence)
    assert decisions.height == 10, decisions.group_by("decision").len()

    one = match.match_registry(SPEC, persons, pop, decisions)
    workdir = tmp_path / "shared"
    workdir.mkdir()
    with cluster.partitioning(workers=WORKERS, workdir=str(workdir)) as partitioning:
        assert partitioning.n_partitions == WORKERS
        dask = match.match_registry(SPEC, persons, pop, decisions, partitioning)

    links = one.links
    assert links.height == persons.height
    statuses = dict(links.group_by("status").len().iter_rows())
    assert statuses.get("matched", 0) > 0.9 * ROWS and statuses.get("review", 0) and statuses.get("duplicate", 0)
    assert links.filter(pl.col("method") == "decision").height == 5  # the accepted pairs were kept
    assert dask.links.equals(links)  # rec_id, pop_rec_id, so_dinh_danh, method, weights, probabilities, status
    assert dask.evidence.height > 3 * ROWS and dask.evidence.equals(one.evidence)
    assert dask.model == one.model  # m, u, lambda, prior, term frequencies, counts: the same model
    assert dask.blocking.sort("rule").equals(one.blocking.sort("rule"))
    assert list(Path(workdir).iterdir()) == []  # the partitions' files (personal data) are gone
