"""The partitioned link (matching/partitioned.py) on a crafted population: its partitions cut
`link_records`' candidate pairs into disjoint parts, and its result is `link_records`' result.

The partitions run one after the other here (`run_serially`); tests/test_dask_equivalence.py runs
them on a Dask LocalCluster at 200,000 x 20,000."""

import random

import duckdb
import polars as pl
import pytest
from matching_factory import background_registry, copy_as_registry, load, person, population

from matching import library, link, partitioned
from matching.blocking import PairLimitExceeded
from matching.settings import LinkSettings

SETTINGS = LinkSettings(u_sample_pairs=100_000)
N = 3


@pytest.fixture(scope="module")
def pop():
    return population(3000)


def _registry(pop: list[dict]) -> list[dict]:
    """Background rows plus rows with the usual defects and no ID (so blocking, not the ID pass, finds
    them, often by several rules), IDs one digit off with another name (id_near) and another
    person's ID (id_conflict): every source of candidate pairs."""
    rnd = random.Random(5)
    rows = background_registry(pop)
    for j, p in enumerate(rnd.sample(pop, 400)):
        rec = 200000 + j * 10
        y, m, d = p["ngay_sinh_year"], p["ngay_sinh_month"], p["ngay_sinh_day"]
        kind = j % 5
        if kind == 0:  # the year mistyped: name + day/month still pair it
            rows.append(copy_as_registry(p, rec, id12=None, dob=(y + 1, m, d)))
        elif kind == 1:  # a name typo: the date of birth rules pair it
            rows.append(copy_as_registry(p, rec, id12=None, name=p["ho_ten"][:-1] + "x"))
        elif kind == 2:  # clean but no ID: many rules pair it
            rows.append(copy_as_registry(p, rec, id12=None))
        elif kind == 3:  # an ID one digit off, another name and date: handed over as id_near
            near = p["id12"][:-1] + str((int(p["id12"][-1]) + 1) % 10)
            rows.append(person(rec, "Trần Văn Khác", (1950, 1, 1), "Nam", id12=near, ma_tinh=p["ma_tinh"]))
        else:  # someone else's ID with this person's name and date: id_conflict
            other = pop[(pop.index(p) + 7) % len(pop)]
            rows.append(copy_as_registry(p, rec, id12=other["id12"]))
    return rows


def _decisions(con) -> pl.DataFrame:
    """A reviewer accepted one blocked pair and rejected another (both paths of `_lk_dec`)."""
    pairs = con.execute(
        "SELECT rec_id, pop_rec_id FROM _lk_cand WHERE NOT labelled ORDER BY rec_id, pop_rec_id LIMIT 40"
    ).fetchall()
    return pl.DataFrame(
        {
            "rec_id": [pairs[0][0], pairs[20][0]],
            "pop_rec_id": [pairs[0][1], pairs[20][1]],
            "decision": ["accept", "reject"],
        }
    )


def _connect(pop) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load(con, "population", pop)
    load(con, "registry", _registry(pop))
    return con


def _candidates_whole(con, decisions) -> pl.DataFrame:
    comparisons = library.comparisons(SETTINGS.comparisons)
    fields = library.field_columns(library.field_preparations(SETTINGS.comparisons))
    link._prepare(con, "registry", "population", comparisons, fields)
    link._decisions(con, decisions)
    link._kept(con, None)
    link._index(con, SETTINGS, library.blocking_rules(SETTINGS.blocking_rules, SETTINGS.comparisons), True)
    return con.execute("SELECT rec_id, pop_rec_id, rule, labelled, anchor FROM _lk_cand").pl()


def test_each_candidate_pair_is_made_in_exactly_one_partition(pop, tmp_path):
    con = _connect(pop)
    first = _candidates_whole(con, None)  # the decided pairs are chosen among these
    decisions = _decisions(con)
    whole = _candidates_whole(con, decisions)
    assert whole.height == first.height - 1  # the rejected pair is gone
    rules = set(whole["rule"])
    assert {"id_exact", "decision", "id_near", "id_conflict", "ho_ten_nam_sinh", "ten_ngay_sinh"} <= rules, rules

    plan = partitioned.Plan(str(tmp_path), N, SETTINGS)
    partitioned._export(con, plan)
    for j in range(len(plan.rules())):
        partitioned.bucket_rule(plan, j)
    parts = []
    for i in range(N):
        pcon = partitioned._connect(plan)
        partitioned._candidates(pcon, plan, i)
        parts.append(pcon.execute(f"SELECT rec_id, pop_rec_id, rule, labelled, anchor, {i} AS part FROM _lk_cand").pl())
        pcon.close()
    union = pl.concat(parts)
    assert all(p.height for p in parts), [p.height for p in parts]
    assert not union.select("rec_id", "pop_rec_id").is_duplicated().any()  # no pair in two partitions
    key = ["rec_id", "pop_rec_id"]
    assert union.drop("part").sort(key).equals(whole.sort(key))  # nor any pair, rule or label changed
    # many pairs are found by several rules (each made only where its first rule puts it)
    made_by_rules = sum(n for i in range(N) for _, n in partitioned.count_partition(plan, i))
    blocked = whole.filter(~pl.col("labelled") & ~pl.col("rule").str.starts_with("id_")).height
    assert made_by_rules > 1.5 * blocked > 0


def test_partitioned_result_is_link_records_result(pop):
    con = _connect(pop)
    _candidates_whole(con, None)
    decisions = _decisions(con)
    link._cleanup(con, library.comparisons(SETTINGS.comparisons))
    one = link.link_records(con, "registry", "population", SETTINGS, decisions=decisions)
    calls = []

    def counted(fn, args):
        calls.append((fn.__name__, len(args)))
        return partitioned.run_serially(fn, args)

    parts = partitioned.link_partitioned(
        con, "registry", "population", SETTINGS, n_partitions=N, run_map=counted, decisions=decisions
    )
    rules = len(SETTINGS.blocking_rules)
    assert calls == [("bucket_rule", rules), ("count_partition", N), ("compare_partition", N), ("score_partition", N)]
    assert parts.links.equals(one.links)
    assert parts.evidence.equals(one.evidence)
    assert parts.model == one.model
    assert parts.blocking.sort("rule").equals(one.blocking.sort("rule"))
    statuses = set(one.links["status"])
    assert {"matched", "duplicate", "unmatched"} <= statuses, statuses
    assert one.links.filter(pl.col("method") == "decision").height == 1


def test_kept_links_and_a_frozen_model_give_the_same_result(pop):
    """An incremental run's engine options (issue 14): links kept from an earlier run, re-matched or
    not, scored with the earlier run's frozen model and term frequencies."""
    first = link.link_records(_connect(pop), "registry", "population", SETTINGS)
    matched = first.links.filter(pl.col("status") == "matched").sort("rec_id")
    kept = matched.gather_every(3).select("rec_id", "pop_rec_id", "method")
    frozen = {"model": first.model, "term_frequencies": first.term_frequencies}
    for options in ({"kept": kept}, {"kept": kept, "rematch_kept": False, **frozen}, frozen):
        one = link.link_records(_connect(pop), "registry", "population", SETTINGS, **options)
        parts = partitioned.link_partitioned(
            _connect(pop), "registry", "population", SETTINGS, n_partitions=N, **options
        )
        assert parts.links.equals(one.links), options.keys()
        if "kept" in options:  # each kept link stays, with its method
            stayed = one.links.join(kept, on=["rec_id", "pop_rec_id", "method"], how="semi")
            assert stayed.height == kept.height and set(stayed["status"]) == {"matched"}
        assert parts.evidence.equals(one.evidence) and parts.model == one.model
        assert parts.blocking.sort("rule").equals(one.blocking.sort("rule"))
        assert parts.term_frequencies.keys() == one.term_frequencies.keys()
        assert all(
            parts.term_frequencies[k].sort(pl.all()).equals(one.term_frequencies[k].sort(pl.all()))
            for k in one.term_frequencies
        )


def test_pair_limit_is_checked_on_the_whole_count(pop):
    """Each partition's share stays under the limit; the sum does not: refused, as on one machine."""
    counts = link.link_records(_connect(pop), "registry", "population", SETTINGS).blocking
    largest = counts.filter(~pl.col("rule").str.starts_with("id_") & (pl.col("rule") != "cmnd9"))["pairs"].max()
    tight = LinkSettings(u_sample_pairs=100_000, max_pairs_per_rule=largest - 1)
    with pytest.raises(PairLimitExceeded) as one:
        link.link_records(_connect(pop), "registry", "population", tight)
    shares = []

    def recorded(fn, args):
        results = partitioned.run_serially(fn, args)
        if fn is partitioned.count_partition:
            shares.extend(n for part in results for rule, n in part if rule == one.value.rule)
        return results

    with pytest.raises(PairLimitExceeded) as parts:
        partitioned.link_partitioned(_connect(pop), "registry", "population", tight, n_partitions=N, run_map=recorded)
    assert (parts.value.rule, parts.value.pairs) == (one.value.rule, one.value.pairs)
    assert len(shares) == N and sum(shares) == one.value.pairs
    assert max(shares) <= tight.max_pairs_per_rule  # no partition alone was over the limit
