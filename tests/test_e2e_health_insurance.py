"""End to end, health-insurance cards (BHYT, a registry added as a spec file): generated sample
with known truth (e2e_support.later_run: 2,000 persons, 160 cards); precision/recall thresholds set
a little below the values measured at seed 6."""

import duckdb
import polars as pl
from e2e_support import assert_row_accounting, later_run, links_and_truth, scores

REGISTRY = "health_insurance"


def test_precision_and_recall_against_truth():
    s = scores(links_and_truth(later_run(), REGISTRY))
    assert s["precision"] >= 0.98, s  # measured 1.000
    assert s["recall"] >= 0.96, s  # measured 1.000 (0.987-1.000 at seeds 6-8)


def test_every_row_has_exactly_one_outcome():
    assert_row_accounting(later_run(), REGISTRY)


def test_card_holders_absent_from_csdlqg_are_not_linked():
    frame = links_and_truth(later_run(), REGISTRY)
    absent = frame.filter(pl.col("entity") == "absent")
    assert absent.height > 0, "the sample must hold card holders absent from CSDLQG"
    assert absent.filter(pl.col("status") == "matched").height == 0


def test_card_codes_keep_their_shape_in_the_warehouse():
    """The key column is read as text: 15 characters, the 10-digit BHXH code at the end untouched."""
    e2e = later_run()
    with duckdb.connect(str(e2e.db), read_only=True) as con:
        codes = con.execute(
            "SELECT ma_the_bhyt_clean FROM health_insurance_rows WHERE run_id = ?", [e2e.summaries[REGISTRY].run_id]
        ).fetchall()
    assert codes and all(
        c[0] is not None and len(c[0]) == 15 and c[0][:2].isalpha() and c[0][2:].isdigit() for c in codes
    )
