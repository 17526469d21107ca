"""A trained model describes itself: its levels' SQL travel with it, so an old run explains as scored.

Why: a run's links were scored with the comparison code of its day. When matching/templates.py
changes later (a threshold raised, a level's condition rewritten), re-explaining that run's
link must still give the levels and weights the run gave, not what today's code would say.
"""

import dataclasses
import json

import duckdb
import polars as pl
import pytest
from matching_factory import background_registry, copy_as_registry, load, population

from matching import templates
from matching.comparisons import from_saved, has_saved_sql
from matching.explain import explain_pair
from matching.link import link_records
from matching.model import Model
from matching.settings import LinkSettings
from matching.templates import COMPARISONS

SETTINGS = LinkSettings(u_sample_pairs=100_000, comparisons=("ho_ten", "ngay_sinh", "gioi_tinh", "id", "dia_chi"))


@pytest.fixture(scope="module")
def trained():
    """A linked run: one row known only by its birth year, one with a mistyped given name."""
    pop = population(3000)
    p_year, p_typo = pop[40], pop[41]
    given = p_typo["ho_ten"].split()
    typo = " ".join(given[:-1] + [given[-1][:-1] + ("x" if given[-1][-1] != "x" else "y")])
    con = duckdb.connect()
    load(con, "population", pop)
    load(
        con,
        "registry",
        background_registry(pop)
        + [
            copy_as_registry(p_year, 1, id12=None, dob=(p_year["ngay_sinh_year"],)),
            copy_as_registry(p_typo, 2, id12=None, name=typo),
        ],
    )
    res = link_records(con, "registry", "population", SETTINGS)
    saved = json.loads(json.dumps(res.model))  # as the warehouse keeps it (match_models.model)
    pairs = {1: p_year["rec_id"], 2: p_typo["rec_id"]}
    return con, res, saved, pairs


def explained(con, saved, pairs) -> dict:
    out = {}
    for rec, pop_rec in pairs.items():
        ex = explain_pair(con, "registry", "population", rec, pop_rec, saved)
        out[rec] = {
            r["comparison"]: (r["level"], r["partial_weight"], r["model_source"]) for r in ex.iter_rows(named=True)
        }
    return out


def weights_only(saved: dict) -> dict:
    """The same model in the layout saved before levels carried SQL (a list of m/u/weight per comparison)."""
    old = {k: v for k, v in saved.items() if k != "format"}
    old["comparisons"] = {
        name: [
            {
                "level": lv["level"],
                "m": lv["m"],
                "u": lv["u"],
                "weight": lv["weight"],
                "tf": lv["tf"]["column"] if lv["tf"] else None,
            }
            for lv in c["levels"]
        ]
        for name, c in saved["comparisons"].items()
    }
    return old


def test_saved_model_rebuilds_the_comparisons_it_was_trained_with(trained):
    _, res, saved, _ = trained
    assert saved["format"] == 2 and has_saved_sql(saved["comparisons"])
    rebuilt = from_saved(saved["comparisons"])
    assert [c.name for c in rebuilt] == list(SETTINGS.comparisons)
    for c in rebuilt:
        code = COMPARISONS[c.name]
        assert c.case_sql() == code.case_sql()
        assert c == code  # labels, SQL, gates, null levels, term-frequency columns and keys
        assert [lv.params for lv in c.levels] == [lv.params for lv in code.levels]
        assert saved["comparisons"][c.name]["columns"] == list(code.columns)
    name_levels = {lv["level"]: lv for lv in saved["comparisons"]["ho_ten"]["levels"]}
    assert name_levels["jw_0.90"]["params"] == {"function": "jaro_winkler_similarity", "threshold": 0.90}
    assert name_levels["jw_0.90"]["gate"] == templates.JW_GATE
    assert name_levels["exact"]["tf"] == {
        "column": "tf_name",
        "key": "ho_ten_key_nomid",
        "mean": saved["tf_mean"]["tf_name"],
    }
    assert name_levels["different"]["tf"] is None
    assert "ho_ten_key_nomid" in saved["comparisons"]["ho_ten"]["columns"]
    m = Model.from_dict(saved)
    assert m.source == "saved"
    for c in rebuilt:
        for i, lv in enumerate(saved["comparisons"][c.name]["levels"]):
            assert m.weight(c.name, i) == pytest.approx(lv["weight"])
            assert (lv["m"], lv["u"]) == (m.m[c.name][i], m.u[c.name][i])


def test_old_run_explains_identically_after_the_code_changed(trained, monkeypatch):
    con, res, saved, pairs = trained
    before = explained(con, saved, pairs)
    assert before[1]["ngay_sinh"][0] == "year_only"
    assert before[2]["ho_ten"][0].startswith("jw_")
    assert {src for per in before.values() for _, _, src in per.values()} == {"saved"}
    # the explanation agrees with what the run itself recorded for those pairs
    ev = res.evidence.filter(pl.col("rec_id").is_in(list(pairs)))
    recorded = {
        (r["rec_id"], r["pop_rec_id"], r["comparison"]): (r["level"], r["partial_weight"])
        for r in ev.iter_rows(named=True)
    }
    for rec, per in before.items():
        for comp, (level, w, _) in per.items():
            assert recorded[(rec, pairs[rec], comp)][0] == level
            assert recorded[(rec, pairs[rec], comp)][1] == pytest.approx(w)
    # a weights-only model explains the same while today's code is unchanged
    assert explained(con, weights_only(saved), pairs) == {
        rec: {k: (lv, w, "code") for k, (lv, w, _) in per.items()} for rec, per in before.items()
    }

    # today's code changes: "year only" needs a known month now, the name bands are stricter
    dob = COMPARISONS["ngay_sinh"]
    year_only = next(i for i, lv in enumerate(dob.levels) if lv.label == "year_only")
    changed_dob = dataclasses.replace(
        dob,
        levels=tuple(
            dataclasses.replace(lv, sql=f"({lv.sql}) AND r.ngay_sinh_month IS NOT NULL") if i == year_only else lv
            for i, lv in enumerate(dob.levels)
        ),
    )
    name = COMPARISONS["ho_ten"]
    changed_name = dataclasses.replace(
        name,
        levels=tuple(
            templates._jw_level(lv.label, "r.ho_ten_key", "p.ho_ten_key", 0.999, gate=lv.gate)
            if lv.label.startswith("jw_")
            else lv
            for lv in name.levels
        ),
    )
    monkeypatch.setitem(COMPARISONS, "ngay_sinh", changed_dob)
    monkeypatch.setitem(COMPARISONS, "ho_ten", changed_name)

    assert explained(con, saved, pairs) == before  # the saved model: same levels, same weights
    today = explained(con, weights_only(saved), pairs)  # an old weights-only model takes today's code
    assert today[1]["ngay_sinh"][0] != "year_only"
    assert not today[2]["ho_ten"][0].startswith("jw_")
    assert today[1]["ngay_sinh"][1] != before[1]["ngay_sinh"][1]
    assert {src for per in today.values() for _, _, src in per.values()} == {"code"}


def test_weights_only_model_with_other_levels_is_refused(trained, monkeypatch):
    """An old model cannot be paired with code whose level count changed: weights would shift levels."""
    con, _, saved, pairs = trained
    dob = COMPARISONS["ngay_sinh"]
    monkeypatch.setitem(COMPARISONS, "ngay_sinh", dataclasses.replace(dob, levels=dob.levels[:-2] + dob.levels[-1:]))
    with pytest.raises(ValueError, match="levels for ngay_sinh"):
        explained(con, weights_only(saved), pairs)
    assert explained(con, saved, pairs)[1]["ngay_sinh"][0] == "year_only"
