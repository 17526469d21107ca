"""The link of `matching.link.link_records`, with blocking, comparison and scoring split into partitions.

Why: at national scale (about 100 million persons in CSDLQG, registries of millions of rows) the
candidate pairs and their comparison vectors are what outgrows one machine. This module cuts that
work into `n_partitions` independent pieces, each run by a plain function in its own DuckDB
connection (a Dask worker process, see `pipelines/cluster.py`; or one after the other), reading
its inputs from Parquet files in a shared directory — paths, not pickled frames, so a cluster
with a shared filesystem works. The engine stays free of Dask and Prefect: the caller hands in
`run_map(fn, list_of_argument_tuples) -> list_of_results`.

What runs where (the driver is the caller's process and DuckDB connection):
- driver: `_prepare` (registry copy, population view, term-frequency tables), reviewers'
  decisions, the ID passes and `_lk_fixed` (`link._fixed`), the Parquet files of the partitions
  (`_export`; each blocking rule's population buckets are then written by a task of their own,
  `bucket_rule`), the u sample, the EM fit, the one-to-one assignment, the household look-up and
  the evidence — the same functions `link_records` calls, so their SQL is the same text.
- partition i (`count_partition`, `compare_partition`, `score_partition`): the blocked pairs
  whose rule key hashes to i (`hash(keys) % n = i`, on the registry row and, through the
  population's per-rule buckets written by `_export`, on the person: a pair of a rule has equal
  keys, so both fall in the same partition), the ID passes' candidates and labelled pairs whose
  rec_id hashes to i; their comparison, pattern counts and, once the model is fitted, scores and
  top-k.

Every candidate pair is generated in exactly one partition. A pair that several blocking rules
find is kept only by its *first* rule (rule j's join also requires that no earlier rule's keys
agree — the pairs of `block`'s deduplicated union, each with the rule `block` names, min over
rule order); that rule's registry key hash picks one partition. A pair the ID passes handed over
(`_det_candidates`) is kept only in its rec_id's partition, where its rule is computed as
`link._index` does: the smaller name of its ID-pass rule and its first blocking rule. Labelled
pairs (decided and ID-pass links) go by rec_id too, and blocking only sees the remaining rows.

So the candidate set is the one `link_records` builds, cut into disjoint parts, and:
- the agreement-pattern counts of the partitions add up to the whole's: the model fitted on the
  summed patterns (sorted, `model.patterns`) is the same model to the last bit;
- the merged top-k is the global top-k. Proof: within a rec_id the ranking (`link.RANK_ORDER`:
  labelled, weight, pop_rec_id) is a total order, and a pair's weight is computed from its own
  two rows, so it is the same in any partition. A pair among the global first k+1 of its rec_id
  has at most k better pairs in the whole, hence at most k in its own partition (a subset): it
  is among its partition's first k+1. So the union of the partitions' top-(k+1) lists contains
  the global top-(k+1), and ranking that union by the same order gives exactly the global
  ranking of its first k+1. Each partition keeps k+1, not k, so the runner-up weight of the
  k-th candidate (`lead` over the ranking) is the global one too. No pair is in two partitions,
  so nothing needs deduplicating (checked anyway).

Memory and reading per partition: its share of the registry rows, pairs and comparison vectors
(about 1/n of each), one rule's bucket of the population at a time (rec_id and the key columns of
about 1/n of the persons), and the full rows of the persons its pairs name — found by one pass
over the population's Parquet file, the only read of the whole population a partition makes.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from matching import library, link
from matching.blocking import BlockingRule, PairLimitExceeded, count_pairs
from matching.comparisons import tf_columns
from matching.model import Model
from matching.settings import LinkSettings
from matching.sql import quote_literal, quote_name

RunMap = Callable[[Callable, list[tuple]], list]


def run_serially(fn: Callable, args: list[tuple]) -> list:
    """`run_map` without a cluster: the partitions one after the other, in this process."""
    return [fn(*a) for a in args]


@dataclass(frozen=True)
class Partitioning:
    """How a caller wants the match partitioned: `run_map` runs the partition functions (on a
    cluster's workers or here), `n_partitions` pieces, files in `workdir` (shared by all workers)."""

    run_map: RunMap
    n_partitions: int
    workdir: str | None = None


@dataclass(frozen=True)
class Plan:
    """What every partition is told: where the inputs are, how many partitions, the settings."""

    workdir: str
    n_partitions: int
    settings: LinkSettings

    def path(self, name: str) -> str:
        return str(Path(self.workdir) / name)

    def parquet(self, name: str) -> str:
        """SQL reading one of the shared files (a path is DDL text in a view: quoted, not bound)."""
        return f"read_parquet({quote_literal(self.path(name))})"

    def copy_to(self, name: str) -> str:
        return f"TO {quote_literal(self.path(name))} (FORMAT parquet)"

    def rules(self) -> list[BlockingRule]:
        return library.blocking_rules(self.settings.blocking_rules, self.settings.comparisons)


def _part(keys, n: int) -> str:
    """The partition of a row by the hash of `keys`, as text: the same on both sides (a year typed
    SMALLINT on one side and INTEGER on the other hashes alike) and in every process (DuckDB's hash)."""
    return f"(hash({', '.join(f'{k}::VARCHAR' for k in keys)}) % {int(n)})"


def _agrees(rule: BlockingRule) -> str:
    """TRUE when the rule would pair r and p (all keys equal, none NULL)."""
    return f"coalesce({rule.condition('r', 'p')}, FALSE)"


def _first_rule(rules: list[BlockingRule]) -> str:
    """The index of the first rule that pairs r and p, NULL when none does."""
    if not rules:
        return "NULL::INTEGER"
    return "CASE " + " ".join(f"WHEN {_agrees(rule)} THEN {j}" for j, rule in enumerate(rules)) + " END"


def _key_columns(rules: list[BlockingRule]) -> list[str]:
    """Every column some rule joins on (a bucket carries them all: a pair is kept by its first rule)."""
    return list(dict.fromkeys(k for rule in rules for k in rule.keys))


def _bucket(plan: Plan, j: int, i: int) -> str | None:
    """The population's bucket of rule j for partition i (rows whose rule-j key hashes to i: rec_id
    and the key columns), or None when no person falls in it."""
    folder = Path(plan.path(f"block_{j}")) / f"part={int(i)}"
    if not folder.is_dir():
        return None
    return f"read_parquet({quote_literal(str(folder / '*.parquet'))}, hive_partitioning = false)"


def _duckdb() -> duckdb.DuckDBPyConnection:
    """A partition's own in-memory DuckDB (no progress bar: a worker's output is not a terminal)."""
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _connect(plan: Plan) -> duckdb.DuckDBPyConnection:
    """A partition's own DuckDB, with views of the shared inputs (registry rows left for blocking)."""
    con = _duckdb()
    for name in ("registry", "population", "rem", "labelled", "extra", "exclude"):
        con.execute(f"CREATE VIEW _pt_{name} AS SELECT * FROM {plan.parquet(name + '.parquet')}")
    con.execute("CREATE VIEW _pt_rem_rows AS SELECT r.* FROM _pt_registry r SEMI JOIN _pt_rem m USING (rec_id)")
    return con


def _left(con, plan: Plan, rule: BlockingRule, i: int) -> None:
    """`_pt_left`: the registry rows left for blocking whose rule key hashes to partition i."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _pt_left AS SELECT * FROM _pt_rem_rows "
        f"WHERE {_part(rule.keys, plan.n_partitions)} = {int(i)}"
    )


def count_partition(plan: Plan, i: int) -> list[tuple[str, int]]:
    """(rule, pairs) the rules would make in partition i, counted without making them."""
    con = _connect(plan)
    try:
        counts = []
        for j, rule in enumerate(plan.rules()):
            bucket = _bucket(plan, j, i)
            if bucket is None:
                counts.append((rule.name, 0))
                continue
            _left(con, plan, rule, i)
            con.execute(f"CREATE OR REPLACE TEMP VIEW _pt_right AS SELECT * FROM {bucket}")
            counts.append((rule.name, count_pairs(con, rule, "_pt_left", "_pt_right")))
        return counts
    finally:
        con.close()


def _blocked(con, plan: Plan, i: int) -> None:
    """`_pt_blocked` (rec_id, pop_rec_id, rule): partition i's blocked pairs, each by its first rule only."""
    rules = plan.rules()
    con.execute("CREATE OR REPLACE TEMP TABLE _pt_blocked (rec_id BIGINT, pop_rec_id BIGINT, rule VARCHAR)")
    for j, rule in enumerate(rules):
        bucket = _bucket(plan, j, i)
        if bucket is None:
            continue
        _left(con, plan, rule, i)
        con.execute(
            f"""
            INSERT INTO _pt_blocked
            SELECT r.rec_id, p.rec_id, '{rule.name}'
            FROM _pt_left r JOIN {bucket} p ON {rule.condition()}
            WHERE NOT ({" OR ".join(_agrees(e) for e in rules[:j]) or "FALSE"})
            """
        )


def _candidates(con, plan: Plan, i: int) -> None:
    """`_lk_r`, `_lk_p` and `_lk_cand` of partition i: its share of the candidate pairs `link._index`
    makes (module docstring), and only the registry rows and persons they name."""
    rules, n, i = plan.rules(), plan.n_partitions, int(i)
    names = "[" + ", ".join(f"'{r.name}'" for r in rules) + "]"
    _blocked(con, plan, i)
    here = f"{_part(['rec_id'], n)} = {i}"
    con.execute(f"CREATE TEMP TABLE _pt_extra_here AS SELECT * FROM _pt_extra WHERE {here}")
    con.execute(f"CREATE TEMP TABLE _pt_labelled_here AS SELECT * FROM _pt_labelled WHERE {here}")
    con.execute(
        """
        CREATE TEMP TABLE _pt_pairs AS
        SELECT rec_id, pop_rec_id FROM _pt_blocked
        UNION ALL SELECT rec_id, pop_rec_id FROM _pt_extra_here
        UNION ALL SELECT rec_id, pop_rec_id FROM _pt_labelled_here
        """
    )
    con.execute(
        "CREATE TEMP TABLE _lk_r AS SELECT r.* FROM _pt_registry r SEMI JOIN _pt_pairs c ON c.rec_id = r.rec_id"
    )
    # the one full read of the population in a partition: the persons its pairs name
    con.execute(
        "CREATE TEMP TABLE _lk_p AS SELECT p.* FROM _pt_population p SEMI JOIN _pt_pairs c ON c.pop_rec_id = p.rec_id"
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lk_cand AS
        WITH blocked_here AS (
            SELECT b.rec_id, b.pop_rec_id, b.rule FROM _pt_blocked b
            ANTI JOIN _pt_extra d ON d.rec_id = b.rec_id AND d.pop_rec_id = b.pop_rec_id
            ANTI JOIN _pt_exclude x ON x.rec_id = b.rec_id AND x.pop_rec_id = b.pop_rec_id
        ),
        extra_here AS (  -- blocking saw only the remaining rows: their first rule counts, no other's
            SELECT d.rec_id, d.pop_rec_id, d.rule,
                   CASE WHEN d.rec_id IN (SELECT rec_id FROM _pt_rem) THEN {_first_rule(rules)} END AS first_rule
            FROM _pt_extra_here d JOIN _lk_r r ON r.rec_id = d.rec_id JOIN _lk_p p ON p.rec_id = d.pop_rec_id
        )
        SELECT rec_id, pop_rec_id, rule, labelled, anchor FROM _pt_labelled_here
        UNION ALL
        SELECT rec_id, pop_rec_id,
               CASE WHEN first_rule IS NULL THEN rule ELSE least(rule, ({names})[first_rule + 1]) END, FALSE, FALSE
        FROM extra_here
        UNION ALL
        SELECT rec_id, pop_rec_id, rule, FALSE, FALSE FROM blocked_here
        """
    )


def compare_partition(plan: Plan, i: int) -> tuple[np.ndarray, np.ndarray]:
    """Partition i's pairs compared (written to `cmp_<i>.parquet`); returns its labelled and
    unlabelled agreement-pattern counts, which the driver sums to fit the one model."""
    s = plan.settings
    comparisons = library.comparisons(s.comparisons)
    con = _connect(plan)
    try:
        _candidates(con, plan, i)
        for col, key in tf_columns(comparisons).items():
            con.execute(
                f"CREATE TEMP TABLE _lk_{col} AS SELECT t.* FROM {plan.parquet(f'tf_{col}.parquet')} t "
                f"SEMI JOIN _lk_p p ON p.{key} = t.{key}"
            )
        link._compare(con, comparisons)
        con.execute(f"COPY _lk_cmp {plan.copy_to(f'cmp_{int(i)}.parquet')}")
        return link._patterns(con, comparisons)
    finally:
        con.close()


def score_partition(plan: Plan, i: int, model: dict) -> str:
    """Partition i's pairs scored with the fitted model; its top-(k+1) per rec_id written to a
    Parquet file whose path is returned (k+1: see the module docstring's proof)."""
    s = plan.settings
    comparisons = library.comparisons(s.comparisons)
    con = _duckdb()
    try:
        con.execute(f"CREATE TEMP TABLE _lk_cmp AS SELECT * FROM {plan.parquet(f'cmp_{int(i)}.parquet')}")
        link._score(con, comparisons, Model.from_dict(model, comparisons), dataclasses.replace(s, top_k=s.top_k + 1))
        con.execute(f"COPY _lk_top {plan.copy_to(f'top_{int(i)}.parquet')}")
        return plan.path(f"top_{int(i)}.parquet")
    finally:
        con.close()


def _export(con, plan: Plan) -> None:
    """The driver's inputs for the partitions, as Parquet files in the shared directory.

    `labelled.parquet`: the labelled candidates (`link.LABELLED_SQL`); `extra.parquet`: the other
    unlabelled candidates than blocked pairs (`link.EXTRA_SQL`, min rule per pair, after
    `link.UNLABELLED_WHERE`); `exclude.parquet`: pairs never an unlabelled candidate (rejected by a
    reviewer, or a kept link, labelled); `rem.parquet`: the rows blocking sees."""
    files = {
        "registry.parquet": "SELECT * FROM _lk_r",
        "population.parquet": "SELECT * FROM _lk_p",
        "rem.parquet": "SELECT rec_id FROM _lk_rem",
        "labelled.parquet": link.LABELLED_SQL,
        "extra.parquet": f"""
            SELECT rec_id, pop_rec_id, min(rule) AS rule FROM ({link.EXTRA_SQL}) c
            WHERE {link.UNLABELLED_WHERE}
            GROUP BY rec_id, pop_rec_id""",
        "exclude.parquet": """
            SELECT rec_id, pop_rec_id FROM _lk_dec WHERE decision = 'reject'
            UNION SELECT rec_id, pop_rec_id FROM _lk_kept""",
    }
    for col in tf_columns(library.comparisons(plan.settings.comparisons)):
        files[f"tf_{col}.parquet"] = f"SELECT * FROM _lk_{col}"
    for name, sql in files.items():
        con.execute(f"COPY ({sql}) {plan.copy_to(name)}")


def bucket_rule(plan: Plan, j: int) -> None:
    """Rule j's population buckets, one per partition: rec_id and the key columns of the persons
    whose rule-j key hashes to it (a task of its own, so the workers write the rules' buckets side by side)."""
    rules = plan.rules()
    keys = ", ".join(_key_columns(rules))
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in rules[j].keys)
    con = _duckdb()
    try:
        con.execute(
            f"COPY (SELECT rec_id, {keys}, {_part(rules[j].keys, plan.n_partitions)} AS part "
            f"FROM {plan.parquet('population.parquet')} WHERE {not_null}) "
            f"TO {quote_literal(plan.path(f'block_{int(j)}'))} (FORMAT parquet, PARTITION_BY (part))"
        )
    finally:
        con.close()


def _sum_patterns(parts: list[np.ndarray], width: int) -> np.ndarray:
    """The partitions' pattern counts added up per pattern, sorted as `model.patterns` sorts them."""
    rows = [p for p in parts if len(p)]
    if not rows:
        return np.zeros((0, width + 1), dtype=np.int64)
    frame = pl.DataFrame(np.concatenate(rows), schema=[f"c{j}" for j in range(width + 1)], orient="row")
    keys = [f"c{j}" for j in range(width)]
    summed = frame.group_by(keys).agg(pl.col(f"c{width}").sum()).sort(keys)
    return summed.to_numpy().astype(np.int64)


def _merge_top(con, paths: list[str], top_k: int) -> None:
    """`_lk_top` from the partitions' top-(k+1) lists: ranked again, first k kept (module docstring)."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lk_top AS
        WITH merged AS (SELECT * EXCLUDE (rank, runner_up_weight) FROM read_parquet($paths)),
        ranked AS (
            SELECT *,
                   row_number() OVER (PARTITION BY rec_id ORDER BY {link.RANK_ORDER}) AS rank,
                   lead(match_weight) OVER (PARTITION BY rec_id ORDER BY {link.RANK_ORDER}) AS runner_up_weight
            FROM merged
        )
        SELECT * FROM ranked WHERE rank <= {int(top_k)}
        """,
        {"paths": paths},
    )
    twice = con.execute("SELECT count(*) - count(DISTINCT (rec_id, pop_rec_id)) FROM _lk_top").fetchone()[0]
    if twice:
        raise RuntimeError(f"{twice} candidate pairs came from two partitions: the partitioning is broken")


def link_partitioned(
    con: duckdb.DuckDBPyConnection,
    registry_table: str,
    population_table: str,
    settings,
    decisions: pl.DataFrame | None = None,
    *,
    n_partitions: int,
    run_map: RunMap = run_serially,
    workdir: str | Path | None = None,
    kept: pl.DataFrame | None = None,
    rematch_kept: bool = True,
    model: dict | None = None,
    term_frequencies: dict[str, pl.DataFrame] | None = None,
) -> link.LinkResult:
    """`link_records`' result (same parameters), with blocking, comparison and scoring run in
    `n_partitions` pieces through `run_map` (module docstring). `workdir`: a directory every worker
    can read and write (a shared filesystem on a cluster); the run's files go to a private folder
    in it, removed at the end."""
    s, comparisons, rules, fields = link.resolve_settings(settings, model, rematch_kept)
    n = max(1, int(n_partitions))
    folder = Path(tempfile.mkdtemp(prefix="doisoat-partitions-", dir=workdir))
    plan = Plan(workdir=str(folder), n_partitions=n, settings=s)
    t = {"start": time.perf_counter()}
    try:
        _, n_p = link._prepare(con, quote_name(registry_table), quote_name(population_table), comparisons, fields)
        if model is not None and term_frequencies is not None:
            link._frozen_term_frequencies(con, comparisons, term_frequencies)
        link._decisions(con, decisions)
        link._kept(con, kept)
        t["prepare"] = time.perf_counter()
        link._fixed(con, rematch_kept)
        _export(con, plan)
        run_map(bucket_rule, [(plan, j) for j in range(len(rules))])
        t["export"] = time.perf_counter()
        totals = {rule.name: 0 for rule in rules}
        for part in run_map(count_partition, [(plan, i) for i in range(n)]):
            for name, pairs in part:
                totals[name] += pairs
        for rule in rules:
            if totals[rule.name] > s.max_pairs_per_rule:
                raise PairLimitExceeded(rule.name, totals[rule.name], s.max_pairs_per_rule)
        t["index"] = time.perf_counter()
        compared = run_map(compare_partition, [(plan, i) for i in range(n)])
        t["compare"] = time.perf_counter()
        if model is not None:
            fitted = Model.from_dict(model, comparisons)
        else:
            lab = _sum_patterns([c[0] for c in compared], len(comparisons))
            unl = _sum_patterns([c[1] for c in compared], len(comparisons))
            fitted = link._fit(con, comparisons, s, n_p, lab, unl)
        t["train"] = time.perf_counter()
        tops = run_map(score_partition, [(plan, i, fitted.to_dict()) for i in range(n)])
        _merge_top(con, tops, s.top_k)
        t["score"] = time.perf_counter()
        links = link._household(con, link._assign(con, s))
        t["assign"] = time.perf_counter()
        evidence = link._evidence(con, comparisons)
        t["evidence"] = time.perf_counter()
        blocking = link._blocking_frame(con, [(rule.name, totals[rule.name]) for rule in rules])
        frequencies = link._term_frequencies(con, comparisons)
    finally:
        link._cleanup(con, comparisons)
        shutil.rmtree(folder, ignore_errors=True)
    keys = list(t)
    timings = {k: round(t[k] - t[keys[i - 1]], 3) for i, k in enumerate(keys) if i}
    md = fitted.to_dict()
    md["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.__dict__.items()}
    return link.LinkResult(
        links=links, evidence=evidence, blocking=blocking, model=md, timings=timings, term_frequencies=frequencies
    )
