"""End to end, death registrations: names and last residence typed with a TCVN3 font (an old
office file); every registered death CSDLQG still shows alive must become an alert."""

import polars as pl
from e2e_support import (
    alerts_of,
    assert_row_accounting,
    e2e_run,
    links_and_truth,
    scores,
)

REGISTRY = "civil_deaths"


def test_precision_and_recall_against_truth():
    s = scores(links_and_truth(e2e_run(), REGISTRY))
    assert s["precision"] >= 0.98, s  # measured 1.000
    assert s["recall"] >= 0.94, s  # measured 0.98 (49 of 50)


def test_every_row_has_exactly_one_outcome():
    assert_row_accounting(e2e_run(), REGISTRY)


def test_tcvn3_text_is_detected_and_reported():
    notes = e2e_run().summaries[REGISTRY].notes
    assert any("TCVN3" in n and "ho_ten" in n for n in notes), notes


def test_deaths_csdlqg_has_not_recorded_are_alerts():
    e2e = e2e_run()
    truth = pl.read_csv(e2e.sample / "truth" / f"{REGISTRY}.csv", infer_schema=False)
    pop = pl.read_csv(e2e.sample / "population.csv", infer_schema=False).select("so_dinh_danh", "ngay_mat")
    alive = truth.join(pop, on="so_dinh_danh").filter(pl.col("ngay_mat").is_null())
    expected = set(alive["source_row"].cast(pl.Int64))
    flagged = alerts_of(e2e, REGISTRY, "death_not_in_csdlqg")
    assert expected, "the sample must hold deaths CSDLQG has not recorded"
    assert flagged <= expected, "an alert on a death CSDLQG already records is wrong"
    assert len(flagged & expected) >= 0.9 * len(expected)
