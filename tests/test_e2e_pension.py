"""End to end, pension: generated sample with known truth, read the way offices keep it
(see e2e_support: welfare as a Windows-1258 CSV, pension as an Excel sheet with title rows, a
merged two-row header and a totals row); precision/recall thresholds set a little below the
values measured at seed 6, 2,500 persons."""

import polars as pl
from e2e_support import (
    alerts_of,
    assert_row_accounting,
    e2e_run,
    links_and_truth,
    scores,
)

REGISTRY = "pension"


def test_precision_and_recall_against_truth():
    s = scores(links_and_truth(e2e_run(), REGISTRY))
    assert s["precision"] >= 0.98, s  # measured 1.000
    assert s["recall"] >= 0.96, s  # measured 0.996-1.000


def test_every_row_has_exactly_one_outcome():
    assert_row_accounting(e2e_run(), REGISTRY)


def test_deceased_beneficiaries_still_paid_are_alerted():
    e2e = e2e_run()
    truth = pl.read_csv(e2e.sample / "truth" / f"{REGISTRY}.csv", infer_schema=False)
    dead = set(truth.filter(pl.col("defects").str.contains("deceased_still_paid"))["source_row"].cast(pl.Int64))
    assert dead, "the sample must hold deceased persons still paid"
    assert dead <= alerts_of(e2e, REGISTRY, "dead_still_paid")


def test_excel_totals_row_is_dropped_and_reported():
    notes = e2e_run().summaries[REGISTRY].notes
    assert any("luong_huu.xlsx" in n and "tổng cộng" in n for n in notes), notes
