"""End to end, birth registrations: half the children have no ID yet and are matched through
name, date of birth and the parents' names."""

import polars as pl
from e2e_support import assert_row_accounting, e2e_run, links_and_truth, scores

REGISTRY = "civil_births"


def test_precision_and_recall_against_truth():
    s = scores(links_and_truth(e2e_run(), REGISTRY))
    assert s["precision"] >= 0.98, s  # measured 1.000
    assert s["recall"] >= 0.95, s  # measured 0.986


def test_children_without_an_id_are_found():
    frame = links_and_truth(e2e_run(), REGISTRY).filter(
        pl.col("defects").str.contains("id_missing") & pl.col("duplicate_of").is_null()
    )
    assert frame.height > 20
    s = scores(frame)
    assert s["precision"] >= 0.98 and s["recall"] >= 0.9, s


def test_every_row_has_exactly_one_outcome():
    assert_row_accounting(e2e_run(), REGISTRY)
