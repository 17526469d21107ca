"""Link a registry to the population: ID passes, then index → compare → classify, then assign.

`link_records(con, registry_table, population_table, settings) -> LinkResult` is the one entry
point (ARCHITECTURE.md, "Person schema"). Both tables are in the person schema. Everything runs
in the given DuckDB connection (temporary tables prefixed `_lk_`/`_det_`); the result comes back
as polars frames because the pipeline writes them to the warehouse and reports read them.

Classification is deliberately cautious, because a false link is the worst outcome for an
officer: a candidate is `matched` only when its probability reaches `match_threshold` *and* it
is clearly better than the runner-up (by `min_margin` bits); a pair whose ID equals but whose
name and date of birth both belong to someone else (`id_conflict`) is never better than
`review`. One population person takes at most one registry row; another row that also matches
that person strongly is a `duplicate` of the first, reported, not dropped. Finally a land
co-owner (rec_id % 10 > 0, a bare name) is looked up in the household (`ma_ho`, optional
population column) of the first owner, when that one was linked.

Two inputs make a run remember the previous one (issue 14): `model` (a model saved by an
earlier run, with its term-frequency tables) is used as it is, without training, and `kept`
(links carried from an earlier run whose record and person are both unchanged) are links like
a reviewer's accepted pair: the record keeps its person, and a row that now also matches that
person is its duplicate, not a thief of the link. With `rematch_kept` the kept records still go
through the ID passes and blocking (a full run: their candidates and evidence are recomputed);
without it they are scored on their kept pair only (an incremental run). The links are the same
either way (tests/matching/test_matching_link.py).

Measured (bench/bench_matching.py, 1,000,000 persons, 100,000 welfare rows, 2 shared cores):
2.0 s and 0.7 GiB for the whole link, against 19.8 s and 1.6 GiB for Splink 5 on the same input.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import duckdb
import polars as pl

from matching import library
from matching.blocking import BlockingRule, block
from matching.comparisons import Comparison, level_sql, tf_columns
from matching.deterministic import run_deterministic
from matching.model import Model, estimate_u, patterns, train
from matching.person_schema import OPTIONAL, SCHEMA
from matching.settings import LinkSettings
from matching.sql import quote_name

DETERMINISTIC_METHODS = ("id_exact", "cmnd9", "id_one_edit")
# A row's candidates in order: labelled first, then by weight; pop_rec_id makes the order total,
# so a partitioned run's merged ranking is the same as one machine's (matching/partitioned.py).
RANK_ORDER = "labelled DESC, match_weight DESC, pop_rec_id"


@dataclass
class LinkResult:
    links: pl.DataFrame  # one row per registry rec_id
    evidence: pl.DataFrame  # rec_id, pop_rec_id, comparison, level, partial_weight (top-k candidates)
    blocking: pl.DataFrame  # rule, pairs
    model: dict  # JSON-serializable m/u/lambda and counts
    timings: dict = field(default_factory=dict)
    # per term-frequency column: (key value, tf) as the model scored with them (saved with a trained model)
    term_frequencies: dict[str, pl.DataFrame] = field(default_factory=dict)


def _prepare(con, registry: str, population: str, comparisons: list[Comparison], fields: list[str]) -> tuple[int, int]:
    """Registry copy (small) and a *view* of the population (no copy), plus term-frequency tables.

    `fields`: the prepared field columns (`f_*`) the comparisons and blocking rules read; both
    sides must carry them (the reference spec declares the same columns as the registry's)."""
    for table, side in ((registry, "registry"), (population, "population")):
        have = {r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()}
        missing = [f for f in fields if f not in have]
        if missing:
            raise ValueError(
                f"the {side} side has no prepared field column(s) {missing}: declare the column on both sides"
            )
    pop_cols = {r[0] for r in con.execute(f"DESCRIBE {population}").fetchall()}
    cols = ", ".join([*SCHEMA, *fields])  # the person schema's columns, in its order, then the fields
    optional = ", ".join(c if c in pop_cols else f"NULL::VARCHAR AS {c}" for c in OPTIONAL)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _lk_r AS SELECT {cols} FROM {registry}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW _lk_p AS SELECT {cols}, {optional} FROM {population}")
    n_p = con.execute("SELECT count(*) FROM _lk_p").fetchone()[0]
    for col, key in tf_columns(comparisons).items():
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _lk_{col} AS SELECT {key}, count(*) / {float(max(n_p, 1))!r} AS tf "
            f"FROM _lk_p WHERE {key} IS NOT NULL GROUP BY ALL"
        )
    dup = con.execute("SELECT count(*) - count(DISTINCT rec_id) FROM _lk_r").fetchone()[0]
    if dup:
        raise ValueError(f"registry table has {dup} repeated rec_id values; rec_id must be unique")
    n_r = con.execute("SELECT count(*) FROM _lk_r").fetchone()[0]
    return n_r, n_p


def _tf_means(con, comparisons: list[Comparison]) -> dict[str, float]:
    """Average term frequency of a random population pair (sum of squared value shares).

    Added up in one order (a parallel sum's order, hence its last bits, varies from run to run)."""
    return {
        col: float(
            con.execute(f"SELECT coalesce(list_sum(list(tf * tf ORDER BY tf)), 1.0) FROM _lk_{col}").fetchone()[0]
        )
        for col in tf_columns(comparisons)
    }


def _pair_table(con, name: str, frame: pl.DataFrame | None, label: str, where: str = "TRUE") -> pl.DataFrame:
    """Temp table `name` (rec_id, pop_rec_id, label) of the given pairs among this run's records and persons."""
    empty = pl.DataFrame(schema={"rec_id": pl.Int64, "pop_rec_id": pl.Int64, label: pl.String})
    pairs = empty if frame is None or frame.is_empty() else frame.select(empty.columns).cast(empty.schema)
    con.register(f"{name}_in", pairs.to_arrow())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT x.rec_id, x.pop_rec_id, x.{label} FROM {name}_in x
        SEMI JOIN _lk_r r ON r.rec_id = x.rec_id
        SEMI JOIN _lk_p p ON p.rec_id = x.pop_rec_id
        WHERE {where}
        """
    )
    con.unregister(f"{name}_in")
    return pairs


def _decisions(con, decisions: pl.DataFrame | None) -> None:
    """Table `_lk_dec` (rec_id, pop_rec_id, decision): pairs a person already decided on.

    An accepted pair is linked like an ID-pass link (labelled, rule `decision`), whatever its score;
    a rejected pair is never a candidate again. Only pairs of this run's records and persons count."""
    _pair_table(con, "_lk_dec", decisions, "decision", "x.decision IN ('accept', 'reject')")


def _kept(con, kept: pl.DataFrame | None) -> None:
    """Table `_lk_kept` (rec_id, pop_rec_id, method): links carried from an earlier run (link stability).

    The pipeline keeps a link only while the record and the person are both unchanged
    (pipelines/incremental.py); here it is simply a fixed link with the method that made it."""
    pairs = _pair_table(con, "_lk_kept", kept, "method")
    if pairs["rec_id"].is_duplicated().any() or pairs["pop_rec_id"].is_duplicated().any():
        raise ValueError("kept links must name each record and each person at most once")


def _fixed(con, rematch_kept: bool) -> None:
    """`_lk_anchor`, `_lk_fixed` (kept, decided and deterministic links) and `_lk_rem` (the rows left for blocking).

    A reviewer's decision outranks the ID passes: an accepted pair replaces the record's ID-pass
    link, a rejected pair is dropped wherever it came from. A kept link outranks both (the pipeline
    keeps none for a record with a decision). `_lk_anchor` is what the ID passes and decisions
    linked — the model's labelled training data, the same with or without kept links. The
    partitioned run (matching/partitioned.py) runs this once, centrally, then blocks in partitions."""
    todo = "_lk_r" if rematch_kept else "(SELECT * FROM _lk_r ANTI JOIN _lk_kept USING (rec_id))"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _lk_todo AS SELECT * FROM {todo}")
    run_deterministic(con, "_lk_todo", "_lk_p")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lk_anchor AS
        SELECT rec_id, pop_rec_id, 'decision' AS method FROM _lk_dec WHERE decision = 'accept'
        UNION ALL
        SELECT d.rec_id, d.pop_rec_id, d.method FROM _det_links d
        WHERE d.rec_id NOT IN (SELECT rec_id FROM _lk_dec WHERE decision = 'accept')
          AND NOT EXISTS (SELECT 1 FROM _lk_dec x
                          WHERE x.decision = 'reject' AND x.rec_id = d.rec_id AND x.pop_rec_id = d.pop_rec_id)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _lk_fixed AS
        SELECT rec_id, pop_rec_id, method, TRUE AS kept FROM _lk_kept
        UNION ALL
        SELECT rec_id, pop_rec_id, method, FALSE FROM _lk_anchor WHERE rec_id NOT IN (SELECT rec_id FROM _lk_kept)
        """
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _lk_rem AS SELECT r.* FROM _lk_todo r ANTI JOIN _lk_anchor USING (rec_id)"
    )


# The labelled candidates: kept, decided and ID-pass links, each marked if the model trains on it.
LABELLED_SQL = """
    SELECT f.rec_id, f.pop_rec_id, f.method AS rule, TRUE AS labelled,
           EXISTS (SELECT 1 FROM _lk_anchor a WHERE a.rec_id = f.rec_id AND a.pop_rec_id = f.pop_rec_id) AS anchor
    FROM _lk_fixed f
"""
# Unlabelled candidates besides the blocked pairs: the ID passes' candidates and, for a kept record
# that is re-matched, its other candidates (evidence), an ID-pass link to another person among them.
EXTRA_SQL = """
    SELECT rec_id, pop_rec_id, rule FROM _det_candidates
    UNION ALL SELECT a.rec_id, a.pop_rec_id, a.method FROM _lk_anchor a SEMI JOIN _lk_kept k USING (rec_id)
"""
# An unlabelled pair `c` is a candidate unless its row has a fixed link of its own, a reviewer
# rejected it or it is the row's kept link (labelled above).
UNLABELLED_WHERE = """
    c.rec_id NOT IN (SELECT rec_id FROM _lk_fixed WHERE NOT kept)
    AND NOT EXISTS (SELECT 1 FROM _lk_dec x
                    WHERE x.decision = 'reject' AND x.rec_id = c.rec_id AND x.pop_rec_id = c.pop_rec_id)
    AND NOT EXISTS (SELECT 1 FROM _lk_kept k WHERE k.rec_id = c.rec_id AND k.pop_rec_id = c.pop_rec_id)
"""


def _index(con, s: LinkSettings, rules: list[BlockingRule], rematch_kept: bool) -> pl.DataFrame:
    """Candidate pairs: kept, decided and deterministic links (labelled) + their rejects + blocked pairs of the rest."""
    _fixed(con, rematch_kept)
    counts = block(con, rules, "_lk_rem", "_lk_p", "_lk_blocked", s.max_pairs_per_rule)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lk_cand AS
        WITH unlabelled AS (
            {EXTRA_SQL}
            UNION ALL SELECT rec_id, pop_rec_id, rule FROM _lk_blocked
        )
        {LABELLED_SQL}
        UNION ALL
        SELECT rec_id, pop_rec_id, min(rule), FALSE, FALSE FROM unlabelled c
        WHERE {UNLABELLED_WHERE}
        GROUP BY rec_id, pop_rec_id
        """
    )
    return _blocking_frame(con, counts)


def _blocking_frame(con, counts: list[tuple[str, int]]) -> pl.DataFrame:
    """(rule, pairs): the kept and ID-pass links and candidates, then each blocking rule's count."""
    det = con.execute(
        "SELECT rule, count(*) "
        "FROM (SELECT CASE WHEN kept THEN 'kept' ELSE method END AS rule FROM _lk_fixed "
        "      UNION ALL SELECT rule FROM _det_candidates) "
        "GROUP BY rule"
    ).fetchall()
    return pl.DataFrame(
        {"rule": [r for r, _ in det] + [r for r, _ in counts], "pairs": [n for _, n in det] + [n for _, n in counts]},
        schema={"rule": pl.String, "pairs": pl.Int64},
    )


def _compare(con, comparisons: list[Comparison]) -> None:
    tfs = tf_columns(comparisons)
    tf_cols = "".join(f"_lk_{col}.tf AS {col}, " for col in tfs)
    tf_joins = "\n".join(f"LEFT JOIN _lk_{col} ON _lk_{col}.{key} = p.{key}" for col, key in tfs.items())
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lk_cmp AS
        SELECT c.rec_id, c.pop_rec_id, c.rule, c.labelled, c.anchor, {tf_cols}
               {level_sql(comparisons)}
        FROM _lk_cand c JOIN _lk_r r ON r.rec_id = c.rec_id JOIN _lk_p p ON p.rec_id = c.pop_rec_id
        {tf_joins}
        """
    )


def _patterns(con, comparisons) -> tuple:
    """The agreement patterns of `_lk_cmp` the model trains on: anchored (labelled) and the rest."""
    return patterns(con, "_lk_cmp", comparisons, "anchor"), patterns(con, "_lk_cmp", comparisons, "NOT anchor")


def _train(con, comparisons, s: LinkSettings, n_p: int) -> Model:
    return _fit(con, comparisons, s, n_p, *_patterns(con, comparisons))


def _fit(con, comparisons, s: LinkSettings, n_p: int, lab, unl) -> Model:
    """u by random sampling of `_lk_r` x `_lk_p`, m and lambda by EM over the agreement patterns
    (`lab`, `unl`: counts, so a partitioned run sums its partitions' patterns and fits the same model)."""
    u, n_u = estimate_u(con, comparisons, "_lk_r", "_lk_p", s.u_sample_pairs, s.seed)
    n_rem = con.execute("SELECT count(*) FROM _lk_rem").fetchone()[0]
    n_unl = int(unl[:, -1].sum()) if len(unl) else 0
    m, prior, iters = train(comparisons, u, lab, unl, s.em_iterations, total_pairs=n_rem * n_p)

    model = Model(
        comparisons=comparisons,
        m=m,
        u=u,
        tf_mean=_tf_means(con, comparisons),
        n_population=n_p,
        lambda_blocked=prior * n_rem * n_p / max(n_unl, 1),
        prior_log2_odds=math.log2(prior / (1 - prior)),
        stats={
            "u_sample_pairs": n_u,
            "labelled_pairs": int(lab[:, -1].sum()) if len(lab) else 0,
            "unlabelled_pairs": n_unl,
            "em_iterations": iters,
            "remaining_rows": n_rem,
        },
    )
    return model


def _score(con, comparisons, model: Model, s: LinkSettings) -> None:
    wcols = ",\n".join(f"{model.weight_sql(c)} AS w_{c.name}" for c in comparisons)
    total = " + ".join(f"w_{c.name}" for c in comparisons)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _lk_top AS
        WITH weighted AS (SELECT *, {wcols} FROM _lk_cmp),
        scored AS (
            SELECT *, {model.prior_log2_odds!r} + {total} AS match_weight FROM weighted
        ),
        ranked AS (
            SELECT *, 1.0 / (1.0 + pow(2.0, -match_weight)) AS match_probability,
                   row_number() OVER (PARTITION BY rec_id ORDER BY {RANK_ORDER}) AS rank,
                   lead(match_weight) OVER (PARTITION BY rec_id ORDER BY {RANK_ORDER}) AS runner_up_weight
            FROM scored
        )
        SELECT * FROM ranked WHERE rank <= {int(s.top_k)}
        """
    )


def _assign(con, s: LinkSettings) -> pl.DataFrame:
    """Greedy one-to-one, duplicates kept and reported.

    Order: ID-pass links, then strong candidates (probability >= match_threshold, rank 1, leading
    the runner-up by min_margin bits, not an id_conflict), then the rest, each by descending
    probability — so an ambiguous candidate never takes a person from a clear one. A row left with
    only candidates (above the review threshold) whose person another row holds goes to review with
    its best one, never silently to unmatched.
    """
    cand = con.execute(
        f"""
        WITH c AS (
            SELECT t.rec_id, t.pop_rec_id, coalesce(p.ref_key, p.id12) AS so_dinh_danh, t.rule, t.labelled,
                   t.labelled AND EXISTS (SELECT 1 FROM _lk_kept k WHERE k.rec_id = t.rec_id) AS kept,
                   t.match_weight, t.match_probability,
                   t.labelled OR (t.match_probability >= {float(s.match_threshold)!r} AND t.rank = 1
                                  AND coalesce(t.match_weight - t.runner_up_weight >= {float(s.min_margin)!r}, TRUE)
                                  AND t.rule <> 'id_conflict') AS strong
            FROM _lk_top t JOIN _lk_p p ON p.rec_id = t.pop_rec_id
            WHERE t.labelled OR t.match_probability >= {float(s.review_threshold)!r}
        )
        SELECT * FROM c
        ORDER BY labelled DESC, strong DESC, match_probability DESC, match_weight DESC, rec_id, pop_rec_id
        """
    ).pl()
    # Kept, decided and ID-pass links (one candidate per row), vectorized: a kept link keeps its
    # person (link stability), else the likeliest row keeps it.
    lab = cand.filter(pl.col("labelled")).with_columns(
        pl.col("rec_id")
        .first()
        .over(
            "pop_rec_id",
            order_by=[
                -pl.col("kept").cast(pl.Int8),
                -pl.col("match_probability"),
                -pl.col("match_weight"),
                pl.col("rec_id"),
            ],
        )
        .alias("keeper")
    )
    fixed = set(lab["rec_id"].to_list())  # a re-matched kept record's other candidates are evidence only
    det = lab.select(
        "rec_id",
        "pop_rec_id",
        "so_dinh_danh",
        pl.col("rule").alias("method"),
        "match_weight",
        "match_probability",
        pl.when(pl.col("keeper") == pl.col("rec_id"))
        .then(pl.lit("matched"))
        .otherwise(pl.lit("duplicate"))
        .alias("status"),
        pl.when(pl.col("keeper") != pl.col("rec_id")).then(pl.col("keeper")).alias("duplicate_of"),
    )
    owner: dict[int, int] = dict(
        lab.filter(pl.col("keeper") == pl.col("rec_id")).select("pop_rec_id", "rec_id").iter_rows()
    )
    out: dict[int, tuple] = {}
    cols = (
        cand.filter(~pl.col("labelled"))
        .select(
            "rec_id",
            "pop_rec_id",
            "so_dinh_danh",
            "rule",
            "labelled",
            "match_weight",
            "match_probability",
            "strong",
        )
        .iter_rows()
    )
    taken: dict[int, tuple] = {}  # a row's best candidate that another row already holds
    for rec, pop, sdd, _rule, _labelled, w, prob, strong in cols:
        if rec in out or rec in fixed:
            continue
        method = "probabilistic"
        if pop in owner:
            if strong:  # the same person listed again: reported, not dropped
                out[rec] = (pop, sdd, method, w, prob, "duplicate", owner[pop])
            else:
                taken.setdefault(rec, (pop, sdd, method, w, prob, "review", None))
            continue
        status = "matched" if strong else "review"
        owner[pop] = rec
        out[rec] = (pop, sdd, method, w, prob, status, None)
    # A row whose only likely person is held by another row is asked about, not silently unmatched:
    # the reviewer sees that person (accepting makes the row a duplicate of the other one).
    for rec, outcome in taken.items():
        out.setdefault(rec, outcome)
    schema = {
        "rec_id": pl.Int64,
        "pop_rec_id": pl.Int64,
        "so_dinh_danh": pl.String,
        "method": pl.String,
        "match_weight": pl.Float64,
        "match_probability": pl.Float64,
        "status": pl.String,
        "duplicate_of": pl.Int64,
    }
    assigned = pl.concat(
        [
            det.select([pl.col(c).cast(t) for c, t in schema.items()]),
            pl.DataFrame([(k, *v) for k, v in out.items()], schema=schema, orient="row"),
        ]
    )
    best = con.execute(
        "SELECT rec_id, match_weight AS best_w, match_probability AS best_p FROM _lk_top WHERE rank = 1"
    ).pl()
    everyone = (
        con.execute("SELECT rec_id FROM _lk_r ORDER BY rec_id").pl().with_columns(pl.col("rec_id").cast(pl.Int64))
    )
    links = (
        everyone.join(assigned, on="rec_id", how="left")
        .join(best.with_columns(pl.col("rec_id").cast(pl.Int64)), on="rec_id", how="left")
        .with_columns(
            pl.col("status").fill_null("unmatched"),
            pl.col("method").fill_null(pl.when(pl.col("best_w").is_not_null()).then(pl.lit("probabilistic"))),
            pl.col("match_weight").fill_null(pl.col("best_w")),
            pl.col("match_probability").fill_null(pl.col("best_p")),
        )
        .drop("best_w", "best_p")
        .sort("rec_id")
    )
    return links


def _household(con, links: pl.DataFrame) -> pl.DataFrame:
    """Co-listed persons (rec_id % 10 > 0: "Ông A và bà B") in the household of the linked first one.

    A land certificate gives the year of birth and the ID of its first owner only; the second is
    a bare name. When the first is linked and the population's household (ma_ho) of that person
    holds exactly one other person whose name agrees (and whose sex does not contradict), that
    person is the co-owner: method `household`. Nothing happens when the population carries no
    household code.
    """
    todo = links.filter(~pl.col("status").is_in(["matched", "duplicate"]) & (pl.col("rec_id") % 10 > 0))
    if todo.is_empty():
        return links
    heads = links.filter(pl.col("status").is_in(["matched", "duplicate"]) & (pl.col("rec_id") % 10 == 0))
    con.register("_lk_hh_todo", todo.select("rec_id").to_arrow())
    con.register("_lk_hh_heads", heads.select("rec_id", "pop_rec_id").to_arrow())
    found = con.execute(
        """
        WITH todo AS (SELECT t.rec_id, h.pop_rec_id AS head_pop
                      FROM _lk_hh_todo t JOIN _lk_hh_heads h ON h.rec_id = t.rec_id - t.rec_id % 10),
        cand AS (
            SELECT t.rec_id, p.rec_id AS pop_rec_id, coalesce(p.ref_key, p.id12) AS id12
            FROM todo t
            JOIN _lk_p hp ON hp.rec_id = t.head_pop
            JOIN _lk_p p ON p.ma_ho = hp.ma_ho AND p.rec_id <> hp.rec_id
            JOIN _lk_r r ON r.rec_id = t.rec_id
            WHERE (r.ho_ten_key_nomid = p.ho_ten_key_nomid
                   OR (r.ten_key = p.ten_key
                       AND jaro_winkler_similarity(r.ho_ten_key_nomid, p.ho_ten_key_nomid) >= 0.85))
              AND (r.gioi_tinh IS NULL OR p.gioi_tinh IS NULL OR r.gioi_tinh = p.gioi_tinh)
        )
        SELECT rec_id, any_value(pop_rec_id) AS h_pop, any_value(id12) AS h_sdd
        FROM cand
        GROUP BY rec_id
        HAVING count(*) = 1
        """
    ).pl()
    if found.is_empty():
        return links
    owner = dict(links.filter(pl.col("status") == "matched").select("pop_rec_id", "rec_id").iter_rows())
    found = found.with_columns(
        pl.col("h_pop").replace_strict(owner, default=None, return_dtype=pl.Int64).alias("h_owner")
    )
    out = links.join(found, on="rec_id", how="left")
    hit = pl.col("h_pop").is_not_null()
    return out.with_columns(
        pl.when(hit).then(pl.col("h_pop")).otherwise(pl.col("pop_rec_id")).alias("pop_rec_id"),
        pl.when(hit).then(pl.col("h_sdd")).otherwise(pl.col("so_dinh_danh")).alias("so_dinh_danh"),
        pl.when(hit).then(pl.lit("household")).otherwise(pl.col("method")).alias("method"),
        pl.when(hit & pl.col("h_owner").is_not_null())
        .then(pl.lit("duplicate"))
        .when(hit)
        .then(pl.lit("matched"))
        .otherwise(pl.col("status"))
        .alias("status"),
        pl.when(hit).then(pl.col("h_owner")).otherwise(pl.col("duplicate_of")).alias("duplicate_of"),
    ).drop("h_pop", "h_sdd", "h_owner")


def _evidence(con, comparisons: list[Comparison]) -> pl.DataFrame:
    parts = []
    for c in comparisons:
        labels = "[" + ", ".join("'" + lb.replace("'", "''") + "'" for lb in c.labels()) + "]"
        parts.append(
            f"SELECT rec_id, pop_rec_id, '{c.name}' AS comparison, ({labels})[{c.column} + 1] AS level, "
            f"w_{c.name} AS partial_weight FROM _lk_top"
        )
    sql = "\nUNION ALL\n".join(parts) + "\nORDER BY rec_id, pop_rec_id, comparison"
    return con.execute(sql).pl()


def _cleanup(con, comparisons: list[Comparison]) -> None:
    """Drop the working tables so a caller linking several registries in one connection keeps no pairs."""
    for name in (
        "_lk_r",
        *(f"_lk_{col}" for col in tf_columns(comparisons)),
        "_lk_dec",
        "_lk_kept",
        "_lk_anchor",
        "_lk_fixed",
        "_lk_rem",
        "_lk_blocked",
        "_lk_cand",
        "_lk_cmp",
        "_lk_top",
        "_det_hits",
        "_det_done",
        "_det_near",
        "_det_links",
        "_det_candidates",
    ):
        con.execute(f"DROP TABLE IF EXISTS {name}")
    con.execute("DROP VIEW IF EXISTS _lk_p")
    con.execute("DROP VIEW IF EXISTS _lk_todo")
    for view in ("_lk_hh_todo", "_lk_hh_heads"):
        try:
            con.unregister(view)
        except Exception:  # noqa: BLE001 - not registered when there was no co-owner to look up
            pass


def _frozen_term_frequencies(con, comparisons: list[Comparison], frames: dict[str, pl.DataFrame]) -> None:
    """Replace the term-frequency tables counted on this population by the frozen model's own."""
    for col, key in tf_columns(comparisons).items():
        if col not in frames:
            raise ValueError(f"the frozen model has no term frequencies for {col}")
        frame = frames[col].select(pl.col(key), pl.col("tf").cast(pl.Float64))
        con.register("_lk_tf_in", frame.to_arrow())
        con.execute(f"CREATE OR REPLACE TEMP TABLE _lk_{col} AS SELECT {key}, tf FROM _lk_tf_in")
        con.unregister("_lk_tf_in")


def _term_frequencies(con, comparisons: list[Comparison]) -> dict[str, pl.DataFrame]:
    return {col: con.execute(f"SELECT {key}, tf FROM _lk_{col}").pl() for col, key in tf_columns(comparisons).items()}


def resolve_settings(settings, model: dict | None, rematch_kept: bool):
    """(LinkSettings, comparisons, blocking rules, prepared field columns) of a link, refusing a
    combination no link can run: kept records left out of blocking need a frozen model, since a
    model is trained on every record's candidates. Shared by link_records and the partitioned link."""
    s = LinkSettings.from_object(settings)
    comparisons = library.comparisons(s.comparisons)
    rules = library.blocking_rules(s.blocking_rules, s.comparisons)
    fields = library.field_columns(library.field_preparations(s.comparisons))
    if model is None and not rematch_kept:
        raise ValueError("a model is trained on every record's candidates: rematch_kept=False needs a frozen model")
    return s, comparisons, rules, fields


def link_records(
    con: duckdb.DuckDBPyConnection,
    registry_table: str,
    population_table: str,
    settings,
    decisions: pl.DataFrame | None = None,
    *,
    kept: pl.DataFrame | None = None,
    rematch_kept: bool = True,
    model: dict | None = None,
    term_frequencies: dict[str, pl.DataFrame] | None = None,
) -> LinkResult:
    """Link every registry row to at most one population person; see the module docstring.

    `decisions` (rec_id, pop_rec_id, decision accept|reject): pairs a reviewer already decided —
    an accepted pair is linked (method `decision`) whatever it scores, a rejected one never.
    `kept` (rec_id, pop_rec_id, method): links carried from an earlier run, fixed like an accepted
    pair but with their own method; `rematch_kept=False` skips their ID passes and blocking.
    `model` (`LinkResult.model` of an earlier run) with `term_frequencies` (its
    `LinkResult.term_frequencies`): score with that model, no training."""
    s, comparisons, rules, fields = resolve_settings(settings, model, rematch_kept)
    t = {"start": time.perf_counter()}
    n_r, n_p = _prepare(con, quote_name(registry_table), quote_name(population_table), comparisons, fields)
    if model is not None and term_frequencies is not None:
        _frozen_term_frequencies(con, comparisons, term_frequencies)
    _decisions(con, decisions)
    _kept(con, kept)
    t["prepare"] = time.perf_counter()
    blocking = _index(con, s, rules, rematch_kept)
    t["index"] = time.perf_counter()
    _compare(con, comparisons)
    t["compare"] = time.perf_counter()
    model = Model.from_dict(model, comparisons) if model is not None else _train(con, comparisons, s, n_p)
    t["train"] = time.perf_counter()
    _score(con, comparisons, model, s)
    t["score"] = time.perf_counter()
    links = _household(con, _assign(con, s))
    t["assign"] = time.perf_counter()
    evidence = _evidence(con, comparisons)
    t["evidence"] = time.perf_counter()
    frequencies = _term_frequencies(con, comparisons)
    _cleanup(con, comparisons)
    keys = list(t)
    timings = {k: round(t[k] - t[keys[i - 1]], 3) for i, k in enumerate(keys) if i}
    md = model.to_dict()
    md["settings"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in s.__dict__.items()}
    return LinkResult(
        links=links, evidence=evidence, blocking=blocking, model=md, timings=timings, term_frequencies=frequencies
    )
