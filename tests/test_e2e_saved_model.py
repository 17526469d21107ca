"""End to end, the warehouse keeps a self-describing model per run: every level's SQL is in
`match_models.model`, and a stored link re-explained from that saved model alone (the run's own
person records and population extract, read back from the warehouse) gives the levels and
weights the run recorded in `link_evidence`."""

import json

import duckdb
import pytest
from e2e_support import e2e_run

from matching.explain import explain_pair
from matching.person_schema import SCHEMA
from matching.sql import quote_literal
from matching.templates import COMPARISONS

PAIRS_PER_RUN = 25


def _person_views(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    """The run's registry persons and its population extract in the person schema, as the matcher saw them."""
    run = quote_literal(run_id)  # a view cannot take bound parameters
    con.execute(f"CREATE OR REPLACE TEMP VIEW reg AS SELECT * FROM w.registry_persons WHERE run_id = {run}")
    renamed = {"rec_id": "pop_rec_id", "ho_ten": "ho_ten_clean", "gioi_tinh": "gioi_tinh_clean"}
    cols = ", ".join(f"p.{renamed.get(c, c)} AS {c}" for c in SCHEMA)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP VIEW pop AS
        SELECT {cols} FROM w.population p
        WHERE p.extract_sha256 = (SELECT population_sha256 FROM w.runs WHERE run_id = {run})
        """
    )


@pytest.fixture(scope="module")
def warehouse():
    e2e = e2e_run()
    con = duckdb.connect()
    con.execute(f"ATTACH '{e2e.db}' AS w (READ_ONLY)")
    yield con, e2e
    con.close()


def test_every_run_saves_its_levels_sql(warehouse):
    con, e2e = warehouse
    models = dict(
        con.execute(
            "SELECT run_id, model FROM w.match_models WHERE run_id IN (SELECT unnest($ids))",
            {"ids": [s.run_id for s in e2e.summaries.values()]},
        ).fetchall()
    )
    assert set(models) == {s.run_id for s in e2e.summaries.values()}
    names = set()
    for model in map(json.loads, models.values()):
        assert model["format"] == 2
        for name, c in model["comparisons"].items():
            names.add(name)
            levels = c["levels"]
            assert [lv["level"] for lv in levels] == COMPARISONS[name].labels()
            assert [lv["sql"] for lv in levels] == [lv.sql for lv in COMPARISONS[name].levels]
            assert all({"gate", "params", "m", "u", "weight", "tf", "is_null"} <= set(lv) for lv in levels)
            assert c["columns"]
    assert {"ho_ten", "ngay_sinh", "ho_ten_cha"} <= names  # births compare the parents' names too


def test_stored_links_re_explain_from_the_saved_model(warehouse):
    con, e2e = warehouse
    checked = 0
    for registry, summary in e2e.summaries.items():
        run_id = summary.run_id
        (model,) = con.execute("SELECT model FROM w.match_models WHERE run_id = $r", {"r": run_id}).fetchone()
        model = json.loads(model)
        _person_views(con, run_id)
        pairs = con.execute(
            """
            SELECT DISTINCT rec_id, pop_rec_id FROM w.link_evidence WHERE run_id = $r
            ORDER BY hash(rec_id, pop_rec_id) LIMIT $n
            """,
            {"r": run_id, "n": PAIRS_PER_RUN},
        ).fetchall()
        assert pairs, registry
        for rec_id, pop_rec_id in pairs:
            recorded = {
                comp: (level, w)
                for comp, level, w in con.execute(
                    "SELECT comparison, level, partial_weight FROM w.link_evidence "
                    "WHERE run_id = $r AND rec_id = $rec AND pop_rec_id = $pop",
                    {"r": run_id, "rec": rec_id, "pop": pop_rec_id},
                ).fetchall()
            }
            ex = explain_pair(con, "reg", "pop", rec_id, pop_rec_id, model)
            assert set(ex["model_source"]) == {"saved"}
            got = {r["comparison"]: (r["level"], r["partial_weight"]) for r in ex.iter_rows(named=True)}
            assert got.keys() == recorded.keys(), registry
            for comp, (level, w) in got.items():
                assert level == recorded[comp][0], (registry, comp)
                assert w == pytest.approx(recorded[comp][1], abs=1e-9), (registry, comp)
            checked += 1
    assert checked >= 4 * PAIRS_PER_RUN
