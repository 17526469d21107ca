"""Fellegi–Sunter model: u by random sampling, m from ID-linked pairs refined by EM, TF weights.

- u (how often a level occurs between two *different* people) is measured on random
  registry × population pairs — nearly all of them are non-matches.
- m (how often a level occurs for the *same* person) starts from the pairs the deterministic ID
  passes linked: free labelled data. EM on the blocked candidate pairs then refines m and
  estimates the share of matches among them (lambda); labelled pairs stay fixed matches in
  every EM step, so the ID comparison's m (which labelled pairs alone cannot show, they all
  agree on ID) is learned from the unlabelled ones while the rest stays anchored.
- Partial weight of a level = log2(m / u); a null level weighs 0. For the name levels the u is
  scaled by how common the population person's name is relative to an average name
  (term-frequency adjustment), so "Nguyễn Văn Hùng" earns less than "Kpă Y Blin".
- match_weight = prior log2-odds + sum of partial weights; match_probability = 2^w / (1 + 2^w).
  The prior is the chance that a random (remaining registry row, population person) pair is a
  match: lambda × candidate pairs / (rows × persons).

Counts are aggregated into agreement patterns in DuckDB; EM runs in numpy over the patterns.

The saved model (`to_dict`, JSON in the warehouse's match_models) describes itself: each level's
SQL, gate, parameters and term-frequency use sit beside its m, u and weight, so `from_dict`
rebuilds the model an old run was scored with even after the comparison code changed. Models
saved before (format 1: weights only) fall back to today's code, and say so (`source`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb
import numpy as np

from matching.comparisons import Comparison, from_saved, has_saved_sql, level_sql
from matching.templates import get_comparisons

SMOOTH = 1.0  # pseudo-count per level, so a level never seen still has a finite weight
FORMAT = 2  # saved-model layout: 2 = levels carry their SQL; 1 (no "format" key) = weights only


@dataclass
class Model:
    comparisons: list[Comparison]
    m: dict[str, list[float]]
    u: dict[str, list[float]]
    tf_mean: dict[str, float]  # mean term frequency of tf columns (sum of squared shares)
    n_population: int
    lambda_blocked: float = 0.0
    prior_log2_odds: float = 0.0
    stats: dict = field(default_factory=dict)
    source: str = "code"  # where `comparisons` came from: "code" (matching/comparisons.py) or "saved"

    def weight(self, comparison: str, level: int) -> float:
        c = next(c for c in self.comparisons if c.name == comparison)
        if c.levels[level].is_null:
            return 0.0
        return math.log2(self.m[comparison][level] / self.u[comparison][level])

    def weight_sql(self, c: Comparison) -> str:
        """SQL for the partial weight of comparison `c`, over a pair row with lvl_* and tf_* columns."""
        parts = []
        for i, lv in enumerate(c.levels):
            w = 0.0 if lv.is_null else self.weight(c.name, i)
            expr = f"{w!r}"
            if lv.tf and not lv.is_null:
                floor = 1.0 / max(self.n_population, 1)
                expr = f"({w!r} + log2({self.tf_mean[lv.tf]!r} / greatest(coalesce({lv.tf}, {floor!r}), {floor!r})))"
            parts.append(f"WHEN {i} THEN {expr}")
        return f"(CASE {c.column} {' '.join(parts)} ELSE 0.0 END)"

    @classmethod
    def from_dict(cls, d: dict, comparisons: list[Comparison] | None = None) -> Model:
        """Rebuild a trained model saved with `to_dict` (e.g. from the warehouse's match_models).

        Without `comparisons`, they are rebuilt from the saved SQL (`source` "saved"); a model
        saved without SQL takes today's comparisons of the same names (`source` "code"), which
        must still have the saved number of levels.
        """
        saved = d["comparisons"]
        source = "code"
        if comparisons is None:
            if has_saved_sql(saved):
                comparisons, source = from_saved(saved), "saved"
            else:
                comparisons = get_comparisons(list(saved))
        levels = {name: c["levels"] if isinstance(c, dict) else c for name, c in saved.items()}
        for c in comparisons:
            if len(levels[c.name]) != len(c.levels):
                raise ValueError(
                    f"saved model has {len(levels[c.name])} levels for {c.name}, the comparison {len(c.levels)}"
                )
        return cls(
            comparisons=comparisons,
            m={c.name: [lv["m"] for lv in levels[c.name]] for c in comparisons},
            u={c.name: [lv["u"] for lv in levels[c.name]] for c in comparisons},
            tf_mean=dict(d["tf_mean"]),
            n_population=int(d["n_population"]),
            lambda_blocked=float(d["lambda_blocked"]),
            prior_log2_odds=float(d["prior_log2_odds"]),
            stats=dict(d.get("stats", {})),
            source=source,
        )

    def to_dict(self) -> dict:
        """The model as JSON-ready data: per comparison its columns and, per level, the level's own
        description (`Level.saved`: label, SQL, gate, parameters), its term-frequency use and m, u, weight."""

        def tf(lv) -> dict | None:
            if not lv.tf:
                return None
            return {"column": lv.tf, "key": lv.tf_key, "mean": self.tf_mean.get(lv.tf)}

        return {
            "format": FORMAT,
            "lambda_blocked": self.lambda_blocked,
            "prior_log2_odds": self.prior_log2_odds,
            "n_population": self.n_population,
            "tf_mean": self.tf_mean,
            "stats": self.stats,
            "comparisons": {
                c.name: {
                    "columns": list(c.columns),
                    "levels": [
                        {
                            **lv.saved(),
                            "m": self.m[c.name][i],
                            "u": self.u[c.name][i],
                            "weight": 0.0 if lv.is_null else self.weight(c.name, i),
                            "tf": tf(lv),
                        }
                        for i, lv in enumerate(c.levels)
                    ],
                }
                for c in self.comparisons
            },
        }


def _normalise(counts: np.ndarray, null_mask: np.ndarray) -> np.ndarray:
    """Shares over the non-null levels, smoothed; null levels get 1 (weight 0 anyway)."""
    c = np.where(null_mask, 0.0, counts + SMOOTH)
    out = c / c.sum()
    return np.where(null_mask, 1.0, out)


def estimate_u(
    con: duckdb.DuckDBPyConnection,
    comparisons: list[Comparison],
    registry: str,
    population: str,
    n_pairs: int,
    seed: int,
) -> tuple[dict[str, list[float]], int]:
    """u-probabilities from about `n_pairs` random registry × population pairs.

    Like Splink: a random sample of each side (sqrt(n_pairs) rows, reservoir sampling with a
    fixed seed) and all pairs between the two samples — no row numbering of the population.
    """
    n_r = int(con.execute(f"SELECT count(*) FROM {registry}").fetchone()[0])
    n_p = int(con.execute(f"SELECT count(*) FROM {population}").fetchone()[0])
    if n_r == 0 or n_p == 0:
        return {c.name: [1.0] * len(c.levels) for c in comparisons}, 0
    side = max(1, int(math.isqrt(int(n_pairs))))
    k_r, k_p = min(side, n_r), min(n_p, max(side, int(n_pairs) // max(min(side, n_r), 1)))
    cols = ", ".join(f"count(*) FILTER (WHERE {c.column} = {i})" for c in comparisons for i in range(len(c.levels)))
    row = con.execute(
        f"""
        WITH rs AS (SELECT * FROM {registry} USING SAMPLE reservoir({k_r} ROWS) REPEATABLE ({int(seed)})),
             ps AS (SELECT * FROM {population} USING SAMPLE reservoir({k_p} ROWS) REPEATABLE ({int(seed) + 1})),
             levels AS (SELECT {level_sql(comparisons)} FROM rs r CROSS JOIN ps p)
        SELECT count(*), {cols} FROM levels
        """  # integers computed here, inlined (bound parameters made DuckDB plan sampling queries slower)
    ).fetchone()
    n_done, row = row[0], row[1:]
    u, k = {}, 0
    for c in comparisons:
        counts = np.array(row[k : k + len(c.levels)], dtype=float)
        k += len(c.levels)
        null = np.array([lv.is_null for lv in c.levels])
        # A level no random pair reached (ID agreement) is as rare as one person among n_p.
        shares = _normalise(counts, null)
        floor = 1.0 / n_p
        shares = np.where(null, 1.0, np.maximum(np.where(counts == 0, floor, shares), floor))
        u[c.name] = shares.tolist()
    return u, int(n_done)


def patterns(con: duckdb.DuckDBPyConnection, table: str, comparisons: list[Comparison], where: str) -> np.ndarray:
    """Distinct level vectors with their counts: array of shape (n_patterns, n_comparisons + 1).

    Sorted by pattern: EM's sums then add in one order, so the model is the same to the last bit
    from run to run and when a partitioned run sums its partitions' patterns."""
    cols = ", ".join(c.column for c in comparisons)
    rows = con.execute(f"SELECT {cols}, count(*) FROM {table} WHERE {where} GROUP BY ALL ORDER BY ALL").fetchall()
    if not rows:
        return np.zeros((0, len(comparisons) + 1), dtype=np.int64)
    return np.array(rows, dtype=np.int64)


def train(
    comparisons: list[Comparison],
    u: dict[str, list[float]],
    labelled: np.ndarray,
    unlabelled: np.ndarray,
    iterations: int,
    total_pairs: float,
) -> tuple[dict[str, list[float]], float, int]:
    """m-probabilities and lambda by semi-supervised EM.

    lambda is the prior of a *random* pair (remaining registry rows × population persons) being a
    match — the prior that matches u, which was measured on random pairs. Blocking only selects
    pairs by their agreement pattern, so the posterior of a blocked pair is the same Bayes
    formula; pairs outside every block are taken as non-matches. Using the share of matches
    among blocked pairs instead would let non-matches that share a common name look like
    matches and inflate m of the disagreeing levels.
    """
    nulls = [np.array([lv.is_null for lv in c.levels]) for c in comparisons]

    def m_step(post_lab: np.ndarray, pats: np.ndarray, post: np.ndarray) -> dict[str, np.ndarray]:
        m = {}
        for j, c in enumerate(comparisons):
            counts = np.zeros(len(c.levels))
            if len(labelled):
                np.add.at(counts, labelled[:, j], post_lab)
            if len(pats):
                np.add.at(counts, pats[:, j], post)
            m[c.name] = _normalise(counts, nulls[j])
        return m

    lab_w = labelled[:, -1].astype(float) if len(labelled) else np.zeros(0)
    unl_w = unlabelled[:, -1].astype(float) if len(unlabelled) else np.zeros(0)
    if len(labelled):
        m = m_step(lab_w, unlabelled, np.zeros(len(unlabelled)))
    else:  # no ID-linked pairs: a neutral start where agreeing levels are likelier for matches
        m = {
            c.name: _normalise(np.linspace(len(c.levels), 1, len(c.levels)), nulls[j])
            for j, c in enumerate(comparisons)
        }
    total_pairs = max(float(total_pairs), float(unlabelled[:, -1].sum()) if len(unlabelled) else 1.0, 1.0)
    lam = min(0.5, max(1.0, 0.5 * (unlabelled[:, -1].sum() if len(unlabelled) else 1)) / total_pairs)
    done = 0
    log_u = np.zeros(len(unlabelled))
    for j, c in enumerate(comparisons):
        if len(unlabelled):
            log_u += np.log(np.asarray(u[c.name]))[unlabelled[:, j]]
    while done < iterations:
        done += 1
        if not len(unlabelled):
            break
        log_m = np.zeros(len(unlabelled))
        for j, c in enumerate(comparisons):
            log_m += np.log(m[c.name])[unlabelled[:, j]]
        a = np.log(lam) + log_m
        b = np.log(1 - lam) + log_u
        post = 1.0 / (1.0 + np.exp(np.clip(b - a, -700, 700)))
        new_lam = float((post * unl_w).sum() / total_pairs)
        m = m_step(lab_w, unlabelled, post * unl_w)
        converged = abs(new_lam - lam) < 1e-4 * lam
        lam = min(max(new_lam, 1e-9), 1 - 1e-9)
        if converged:
            break
    return {k: v.tolist() for k, v in m.items()}, lam, done
