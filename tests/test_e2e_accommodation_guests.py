"""End to end, guests declared through the ASM accommodation software (a registry added as a spec
file): Vietnamese guests and foreigners in one list (e2e_support.later_run: 2,000 persons, 160
declarations, a quarter of them foreigners). Foreigners are not in CSDLQG: none may be linked,
not even the Việt kiều whose Vietnamese-born name a CSDLQG person also bears, and their names,
in a `language: other` column, are never rewritten by the Vietnamese repairs ("Harry" is not "Hảy")."""

import duckdb
import polars as pl
from e2e_support import assert_row_accounting, later_run, links_and_truth, scores

from matching.normalize.frame import normalize_columns
from pipelines.registries import get_spec

REGISTRY = "accommodation_guests"


def test_precision_and_recall_against_truth():
    s = scores(links_and_truth(later_run(), REGISTRY))
    assert s["precision"] >= 0.98, s  # measured 1.000
    assert s["recall"] >= 0.96, s  # measured 0.983 (1.000 at seeds 7, 8)


def test_every_row_has_exactly_one_outcome():
    assert_row_accounting(later_run(), REGISTRY)


def test_foreigners_are_never_matched_and_count_apart():
    """The spec's `foreigners` key: every foreign guest — the Việt kiều bearing a CSDLQG citizen's
    name included — gets one outcome, unmatched with method foreigner, no candidate; and the
    coverage counts the Vietnamese guests only."""
    e2e = later_run()
    frame = links_and_truth(e2e, REGISTRY)
    foreign = frame.filter(pl.col("entity") == "foreigner")
    assert foreign.height >= 30 and foreign.filter(pl.col("defects").str.contains("namesake")).height >= 5
    assert set(foreign["status"]) == {"unmatched"} and set(foreign["method"]) == {"foreigner"}
    assert frame.filter(pl.col("method") == "foreigner").height == foreign.height  # no citizen taken for one
    run_id = e2e.summaries[REGISTRY].run_id
    assert e2e.summaries[REGISTRY].row_counts["foreigners"] == foreign.height
    with duckdb.connect(str(e2e.db), read_only=True) as con:
        evidence = con.execute(
            "SELECT count(*) FROM link_evidence WHERE run_id = ? AND source_row IN (SELECT unnest(?))",
            [run_id, foreign["source_row"].to_list()],
        ).fetchone()[0]
        counted = con.execute(
            "SELECT denominator FROM coverage WHERE run_id = ? AND level = 'all' AND metric = 'linked'", [run_id]
        ).fetchone()[0]
    assert evidence == 0
    assert counted == frame.height - foreign.height


def test_a_guest_staying_twice_is_not_a_duplicate():
    frame = links_and_truth(later_run(), REGISTRY)
    again = frame.filter(pl.col("defects").fill_null("").str.contains("repeat_stay"))
    assert again.height > 0
    assert again.filter(pl.col("status") == "duplicate").is_empty()


def test_foreign_names_are_not_rewritten():
    e2e = later_run()
    with duckdb.connect(str(e2e.db), read_only=True) as con:
        names = con.execute(
            "SELECT ho_ten, ho_ten_clean FROM accommodation_guests_rows WHERE run_id = ? AND quoc_tich <> 'Việt Nam'",
            [e2e.summaries[REGISTRY].run_id],
        ).fetchall()
    assert len(names) >= 30
    for raw, clean in names:  # only spaces and the case of an all-capital value may change
        assert clean.casefold() == " ".join(raw.split()).casefold(), (raw, clean)
    assert any(clean.split()[0] in ("Harry", "Max", "Paris", "Doris", "Chris") for _, clean in names)


def test_the_spec_keeps_foreign_names_that_a_vietnamese_column_would_rewrite():
    """The name column's `language: other` is what keeps "Harry Max": read as Vietnamese, the Telex
    repair makes it "Hảy Mã". The price, written in the spec file: a Vietnamese guest's Telex residue
    is not repaired either (the CCCD links that guest)."""
    names = pl.DataFrame({"ho_ten": ["Harry Max", "PARIS HILTON", "Jean-Luc Müller", "Nguyeenx Vawn An"]})
    asm = normalize_columns(names, [get_spec(REGISTRY).column("ho_ten")])["ho_ten_clean"].to_list()
    assert asm == ["Harry Max", "Paris Hilton", "Jean-Luc Müller", "Nguyeenx Vawn An"]
    as_vietnamese = normalize_columns(names, [("ho_ten", "name", "vi")])["ho_ten_clean"].to_list()
    assert as_vietnamese[:2] == ["Hảy Mã", "Pái Hilton"] and as_vietnamese[3] == "Nguyễn Văn An"
