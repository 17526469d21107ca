"""The engine end to end on a crafted population: ID passes, pair limit, assignment, TF, explain."""

import math

import duckdb
import polars as pl
import pytest
from matching_factory import (
    background_registry,
    copy_as_registry,
    load,
    person,
    population,
)

from matching.blocking import RULES, PairLimitExceeded, count_pairs
from matching.explain import explain_pair
from matching.link import link_records
from matching.settings import LinkSettings

SETTINGS = LinkSettings(u_sample_pairs=100_000)


@pytest.fixture(scope="module")
def pop():
    return population(3000)


def run(pop, extra, settings=SETTINGS):
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", background_registry(pop) + extra)
    res = link_records(con, "registry", "population", settings)
    return con, res, {r["rec_id"]: r for r in res.links.iter_rows(named=True)}


def test_every_row_has_one_outcome(pop):
    _, res, _ = run(pop, [])
    assert res.links["rec_id"].n_unique() == res.links.height == 600
    assert set(res.links["status"]) <= {"matched", "review", "unmatched", "duplicate"}
    assert res.links.filter(pl.col("status") == "matched").height >= 595


def test_deterministic_rules(pop):
    p1, p2, p3, p4, p5 = pop[10], pop[11], pop[12], pop[13], pop[14]
    p2 = {**p2}
    pop = [*pop]
    pop[11] = {**p2, "cmnd9": "245678901"}
    sub = p3["id12"][:-1] + str((int(p3["id12"][-1]) + 1) % 10)
    swapped = p4["id12"][:5] + p4["id12"][6] + p4["id12"][5] + p4["id12"][7:]
    assert swapped != p4["id12"]
    wrong_name = p5["id12"][:-1] + str((int(p5["id12"][-1]) + 3) % 10)
    extra = [
        copy_as_registry(p1, 1),
        copy_as_registry(pop[11], 2, id12=None, cmnd9="245678901"),
        copy_as_registry(p3, 3, id12=sub),
        copy_as_registry(p4, 4, id12=swapped),
        # one edit away from p5's ID but a different name and date: not accepted by the ID pass
        person(
            5,
            "Đặng Minh Khoa",
            (1999, 2, 3),
            "Nam",
            id12=wrong_name[:-1] + "7" if wrong_name[-1] != "7" else wrong_name[:-1] + "8",
        ),
    ]
    p6 = pop[15]
    first_half = p6["id12"][:1] + str((int(p6["id12"][1]) + 5) % 10) + p6["id12"][2:]
    extra.append(copy_as_registry(p6, 6, id12=first_half))
    _, res, links = run(pop, extra)
    assert (links[6]["method"], links[6]["pop_rec_id"]) == ("id_one_edit", p6["rec_id"])
    assert (links[1]["method"], links[1]["pop_rec_id"]) == ("id_exact", p1["rec_id"])
    assert (links[2]["method"], links[2]["pop_rec_id"]) == ("cmnd9", p2["rec_id"])
    assert (links[3]["method"], links[3]["pop_rec_id"]) == ("id_one_edit", p3["rec_id"])
    assert (links[4]["method"], links[4]["pop_rec_id"]) == ("id_one_edit", p4["rec_id"])
    assert links[5]["status"] == "unmatched"


def test_id_conflict_is_not_linked_blindly(pop):
    p = pop[20]
    other = next(
        q for q in pop if q["ho_ten_key"] != p["ho_ten_key"] and abs(q["ngay_sinh_year"] - p["ngay_sinh_year"]) > 5
    )
    row = copy_as_registry(other, 1, id12=p["id12"], ma_tinh=None, ma_xa=None)
    # A mistyped ID that hits another person born the same year (the ID encodes the year).
    same_year = next(
        q
        for q in pop
        if q["ho_ten_key"] != p["ho_ten_key"]
        and q["ten_key"] != p["ten_key"]
        and q["ngay_sinh_year"] == p["ngay_sinh_year"]
        and q["ngay_sinh_month"] != p["ngay_sinh_month"]
    )
    row2 = copy_as_registry(same_year, 2, id12=p["id12"])
    _, res, links = run(pop, [row, row2])
    assert links[1]["method"] != "id_exact"
    assert links[1]["status"] != "matched" or links[1]["pop_rec_id"] == other["rec_id"]
    assert links[2]["method"] != "id_exact"
    assert links[2]["status"] != "matched" or links[2]["pop_rec_id"] == same_year["rec_id"]


def test_pair_limit_refusal_names_rule_and_count(pop):
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", [{**r, "id12": None} for r in background_registry(pop)])  # none linked by ID
    n = count_pairs(con, RULES["ho_ten_key"], "registry", "population")
    assert n > 1000
    with pytest.raises(PairLimitExceeded) as err:
        link_records(
            con,
            "registry",
            "population",
            LinkSettings(
                blocking_rules=("ten_ngay_sinh", "ho_ten_key"), max_pairs_per_rule=1000, u_sample_pairs=10_000
            ),
        )
    msg = str(err.value)
    assert "ho_ten_key" in msg and f"{n:,}" in msg and "1,000" in msg


def test_pair_counts_are_reported_per_rule(pop):
    _, res, _ = run(pop, [])
    rules = dict(res.blocking.iter_rows())
    assert set(SETTINGS.blocking_rules) <= set(rules)
    assert rules["id_exact"] > 400


def test_one_to_one_with_duplicates(pop):
    p, q = pop[30], pop[31]
    extra = [
        copy_as_registry(p, 1, id12=None),  # no ID, found by name and DOB
        copy_as_registry(p, 2, id12=None),  # the same person listed again
        copy_as_registry(q, 3),  # q by ID ...
        copy_as_registry(q, 4, id12=None, name=q["ho_ten"].upper().title()),  # ... and again without
    ]
    _, res, links = run(pop, extra)
    assert links[1]["status"] == "matched" and links[1]["pop_rec_id"] == p["rec_id"]
    assert links[2]["status"] == "duplicate" and links[2]["duplicate_of"] == 1 and links[2]["pop_rec_id"] == p["rec_id"]
    assert links[3]["status"] == "matched" and links[3]["method"] == "id_exact"
    assert links[4]["status"] == "duplicate" and links[4]["duplicate_of"] == 3
    matched = res.links.filter(pl.col("status") == "matched")
    assert matched["pop_rec_id"].n_unique() == matched.height


def test_absent_person_is_not_linked(pop):
    # Same common name and birth year as someone in the population, but another day, no ID.
    p = next(q for q in pop if q["ho_ten_key"].startswith("nguyen van"))
    absent = [
        person(
            1,
            p["ho_ten"],
            (p["ngay_sinh_year"], (p["ngay_sinh_month"] % 12) + 1, 9),
            p["gioi_tinh"],
            ma_tinh=p["ma_tinh"],
            ma_xa=p["ma_xa"],
        ),
        person(2, "Kpă Y Blin", (1971, 3, 4), "Nam", id12="066071999999", ma_tinh="66", ma_xa="66001"),
        person(
            3,
            p["ho_ten"],
            (p["ngay_sinh_year"] + 7, p["ngay_sinh_month"], p["ngay_sinh_day"]),
            p["gioi_tinh"],
            id12="099999999999",
            ma_tinh=p["ma_tinh"],
        ),
    ]
    _, res, links = run(pop, absent)
    for rec in (1, 2, 3):
        assert links[rec]["status"] != "matched", links[rec]


def test_term_frequency_lowers_common_name_weight(pop):
    from collections import Counter

    common, n_common = Counter(q["ho_ten_key_nomid"] for q in pop).most_common(1)[0]
    rare = [person(5001, "Kpă Y Blin", (1971, 3, 4), "Nam", id12="066071000001", ma_tinh="01", ma_xa="01001")]
    assert n_common > 1
    con = duckdb.connect()
    load(con, "population", pop + rare)
    p = next(q for q in pop if q["ho_ten_key_nomid"] == common)
    reg = background_registry(pop) + [
        copy_as_registry(p, 1, id12=None),
        copy_as_registry(rare[0], 2, id12=None),
    ]
    load(con, "registry", reg)
    res = link_records(con, "registry", "population", SETTINGS)
    ev = res.evidence.filter(pl.col("comparison") == "ho_ten")
    w_common = ev.filter((pl.col("rec_id") == 1) & (pl.col("pop_rec_id") == p["rec_id"]))["partial_weight"][0]
    w_rare = ev.filter((pl.col("rec_id") == 2) & (pl.col("pop_rec_id") == 5001))["partial_weight"][0]
    # The rare name is unique, the common one shared by n_common people: log2(n_common) bits less.
    assert w_rare - w_common == pytest.approx(math.log2(n_common))
    assert n_common >= 4


def test_explain_pair_matches_evidence(pop):
    p = pop[40]
    con, res, links = run(pop, [copy_as_registry(p, 1, id12=None, dob=(p["ngay_sinh_year"],))])
    ex = explain_pair(con, "registry", "population", 1, p["rec_id"], res.model)
    ev = res.evidence.filter((pl.col("rec_id") == 1) & (pl.col("pop_rec_id") == p["rec_id"]))
    got = {r["comparison"]: (r["level"], round(r["partial_weight"], 6)) for r in ex.iter_rows(named=True)}
    want = {r["comparison"]: (r["level"], round(r["partial_weight"], 6)) for r in ev.iter_rows(named=True)}
    assert got == want and got["ngay_sinh"][0] == "year_only"
    total = res.model["prior_log2_odds"] + ex["partial_weight"].sum()
    assert total == pytest.approx(links[1]["match_weight"])
    assert set(ex["level_vi"]) and all(ex["comparison_vi"])


def test_pair_count_equals_pairs_made(pop):
    from matching.blocking import block, get_rules

    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", background_registry(pop))
    rules = get_rules(("ho_ten_nam_sinh", "ten_ngay_sinh"))
    counts = dict(block(con, rules, "registry", "population", "pairs", 10**9))
    for rule in rules:
        made = con.execute(f"SELECT count(*) FROM registry r JOIN population p ON {rule.condition()}").fetchone()[0]
        assert counts[rule.name] == made
    union = con.execute("SELECT count(*), count(DISTINCT (rec_id, pop_rec_id)) FROM pairs").fetchone()
    assert union[0] == union[1] <= sum(counts.values())


def test_reviewers_decisions_outrank_the_scores(pop):
    """An accepted pair is linked however it scores (method decision), even over an ID-pass link;
    a rejected pair is never linked again, not even by an exact ID."""
    background = background_registry(pop)
    listed = {(r["ho_ten"], r["ngay_sinh_year"], r["ngay_sinh_month"], r["ngay_sinh_day"]) for r in background}
    free = [
        p for p in pop if (p["ho_ten"], p["ngay_sinh_year"], p["ngay_sinh_month"], p["ngay_sinh_day"]) not in listed
    ]
    a, b, c, d = free[:4]
    weak = copy_as_registry(a, 1, name="Trần Thị Lan", dob=(1901, 1, 1), id12=None, ma_xa=None, ma_tinh=None)
    exact = copy_as_registry(b, 2)
    other = copy_as_registry(c, 3)
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", background + [weak, exact, other])
    before = {r["rec_id"]: r for r in link_records(con, "registry", "population", SETTINGS).links.iter_rows(named=True)}
    assert before[1]["status"] == "unmatched" and before[2]["method"] == "id_exact"
    decisions = pl.DataFrame(
        {
            "rec_id": [1, 2, 3],
            "pop_rec_id": [a["rec_id"], b["rec_id"], d["rec_id"]],
            "decision": ["accept", "reject", "accept"],
        }
    )
    after = {
        r["rec_id"]: r
        for r in link_records(con, "registry", "population", SETTINGS, decisions=decisions).links.iter_rows(named=True)
    }
    assert (after[1]["status"], after[1]["method"], after[1]["pop_rec_id"]) == ("matched", "decision", a["rec_id"])
    assert after[2]["pop_rec_id"] != b["rec_id"]  # the rejected person, though the ID is equal
    assert (after[3]["status"], after[3]["method"], after[3]["pop_rec_id"]) == ("matched", "decision", d["rec_id"])
    unchanged = [r for r in before if r not in (1, 2, 3)]
    assert all(before[r]["pop_rec_id"] == after[r]["pop_rec_id"] for r in unchanged)


def _free_persons(pop, background):
    listed = {(r["ho_ten"], r["ngay_sinh_year"], r["ngay_sinh_month"], r["ngay_sinh_day"]) for r in background}
    return [
        p for p in pop if (p["ho_ten"], p["ngay_sinh_year"], p["ngay_sinh_month"], p["ngay_sinh_day"]) not in listed
    ]


def _by_rec(result) -> dict[int, tuple]:
    return {
        r["rec_id"]: (r["status"], r["pop_rec_id"], r["method"], r["duplicate_of"], r["match_weight"])
        for r in result.links.iter_rows(named=True)
    }


def test_a_frozen_model_scores_exactly_as_it_was_trained(pop):
    """The saved model and its term frequencies, given back, reproduce every link and weight
    without training — even against a population that has grown since (frozen counts)."""
    background = background_registry(pop)
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", background)
    first = link_records(con, "registry", "population", SETTINGS)
    assert set(first.term_frequencies) == {"tf_name", "tf_ten"}
    again = link_records(
        con, "registry", "population", SETTINGS, model=first.model, term_frequencies=first.term_frequencies
    )
    assert _by_rec(again) == _by_rec(first)
    assert again.evidence.equals(first.evidence)
    grown = population(3400)  # same first 3,000 persons (same seed) and 400 more: other name counts
    load(con, "population", grown)
    frozen = link_records(
        con, "registry", "population", SETTINGS, model=first.model, term_frequencies=first.term_frequencies
    )
    counted = link_records(con, "registry", "population", SETTINGS, model=first.model)  # tf of this population
    weights = {r: v[4] for r, v in _by_rec(frozen).items() if v[0] == "matched"}
    assert weights == {r: v[4] for r, v in _by_rec(first).items() if v[0] == "matched" and r in weights}
    assert any(a[4] != b[4] for a, b in zip(_by_rec(frozen).values(), _by_rec(counted).values(), strict=True) if a[4])


def test_a_kept_link_is_not_stolen_and_full_equals_incremental(pop):
    """Link stability: a record keeps its person (carried method) when a new row now matches that
    person better — even by exact ID —; the new row is its duplicate. Re-matching the kept records
    (full run) or scoring only their kept pair (incremental run) gives the same links."""
    background = background_registry(pop)
    a, b = _free_persons(pop, background)[:2]
    old = copy_as_registry(a, 1, id12=None, name=a["ho_ten"].upper())  # linked last month without an ID
    newcomer = copy_as_registry(a, 2)  # this month a row with the exact ID of the same person
    other = copy_as_registry(b, 3, id12=None)
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", background + [old, newcomer, other])
    first = link_records(con, "registry", "population", SETTINGS)
    unstable = _by_rec(first)
    assert unstable[2][:3] == ("matched", a["rec_id"], "id_exact") and unstable[1][0] == "duplicate"
    kept = pl.DataFrame({"rec_id": [1, 3], "pop_rec_id": [a["rec_id"], b["rec_id"]], "method": ["probabilistic"] * 2})
    frozen = {"model": first.model, "term_frequencies": first.term_frequencies}
    full = _by_rec(link_records(con, "registry", "population", SETTINGS, kept=kept, **frozen))
    assert full[1][:3] == ("matched", a["rec_id"], "probabilistic")
    assert full[2][0] == "duplicate" and full[2][3] == 1 and full[2][1] == a["rec_id"]
    assert full[3][:3] == ("matched", b["rec_id"], "probabilistic")
    incremental = _by_rec(
        link_records(con, "registry", "population", SETTINGS, kept=kept, rematch_kept=False, **frozen)
    )
    assert incremental == full
    assert {r: v for r, v in full.items() if r >= 100000} == {r: v for r, v in unstable.items() if r >= 100000}
    with pytest.raises(ValueError, match="frozen model"):
        link_records(con, "registry", "population", SETTINGS, kept=kept, rematch_kept=False)
