"""Blocking rules: which registry × population pairs are worth comparing at all.

Each rule is an equi-join on a few person-schema columns (a row with NULL in any of them takes
no part in that rule). Before a rule is run its pair count is computed from group-by counts on
both sides (sum over keys of n_registry × n_population), so a rule that would explode — a
common name without a date, at ten million persons — is refused with its name and count
instead of filling the disk. The union of all rules is deduplicated; each pair remembers the
first rule that found it.

Rules are chosen so that one defect in one field still leaves some rule in which the pair
agrees: name+year misses a year typo but name+day/month catches it, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

Y, M, D = "ngay_sinh_year", "ngay_sinh_month", "ngay_sinh_day"


@dataclass(frozen=True)
class BlockingRule:
    name: str
    keys: tuple[str, ...]  # person-schema columns that must be equal (and not NULL)

    def condition(self, left: str = "r", right: str = "p") -> str:
        return " AND ".join(f"{left}.{k} = {right}.{k}" for k in self.keys)


RULES: dict[str, BlockingRule] = {
    r.name: r
    for r in (
        BlockingRule("ho_ten_key", ("ho_ten_key",)),
        BlockingRule("ho_ten_nam_sinh", ("ho_ten_key_nomid", Y)),
        BlockingRule("ho_ten_ngay_thang", ("ho_ten_key_nomid", M, D)),
        BlockingRule("ho_ten_tinh", ("ho_ten_key_nomid", "ma_tinh")),
        BlockingRule("ho_ten_xa", ("ho_ten_key_nomid", "ma_xa")),
        BlockingRule("ten_ngay_sinh", ("ten_key", Y, M, D)),
        BlockingRule("ho_ngay_sinh", ("ho_key", Y, M, D)),
        BlockingRule("ho_ten_don_nam_sinh", ("ho_key", "ten_key", Y)),
        BlockingRule("ngay_sinh_xa", (Y, M, D, "ma_xa")),
        BlockingRule("me_ngay_sinh", ("ho_ten_me_key", Y)),
        BlockingRule("ten_nam_sinh_xa", ("ten_key", Y, "ma_xa")),
    )
}


class PairLimitExceeded(ValueError):
    """A blocking rule would make more candidate pairs than the configured limit."""

    def __init__(self, rule: str, pairs: int, limit: int):
        self.rule, self.pairs, self.limit = rule, pairs, limit
        super().__init__(
            f"Quy tắc ghép khối '{rule}' tạo {pairs:,} cặp, vượt giới hạn {limit:,} "
            f"(blocking rule '{rule}' would make {pairs:,} pairs, limit {limit:,})"
        )


def get_rules(names) -> list[BlockingRule]:
    unknown = [n for n in names if n not in RULES]
    if unknown:
        raise ValueError(f"unknown blocking rule(s) {unknown}; known: {sorted(RULES)}")
    return [RULES[n] for n in names]


def count_pairs(con: duckdb.DuckDBPyConnection, rule: BlockingRule, left: str, right: str) -> int:
    """Pairs the rule would make, computed without making them."""
    keys = ", ".join(rule.keys)
    not_null = " AND ".join(f"{k} IS NOT NULL" for k in rule.keys)
    # Group the (small) registry side only; each population row then adds the size of its
    # key's registry group: a hash join probed by the population, no population group-by.
    sql = f"""
    WITH l AS (SELECT {keys}, count(*) AS n FROM {left} WHERE {not_null} GROUP BY ALL)
    SELECT coalesce(sum(l.n), 0)::BIGINT FROM l JOIN {right} r ON {rule.condition("l", "r")}
    """
    return int(con.execute(sql).fetchone()[0])


def block(
    con: duckdb.DuckDBPyConnection,
    rules: list[BlockingRule],
    registry: str,
    population: str,
    out: str,
    max_pairs_per_rule: int,
) -> list[tuple[str, int]]:
    """Create table `out` (rec_id, pop_rec_id, rule) with the deduplicated union of all rules.

    Returns (rule, pairs) per rule, counted before any pair is made; raises PairLimitExceeded
    for the first rule over the limit.
    """
    counts = []
    for rule in rules:
        n = count_pairs(con, rule, registry, population)
        if n > max_pairs_per_rule:
            raise PairLimitExceeded(rule.name, n, max_pairs_per_rule)
        counts.append((rule.name, n))
    selects = [
        f"SELECT r.rec_id, p.rec_id AS pop_rec_id, {i}::TINYINT AS rule_no "
        f"FROM {registry} r JOIN {population} p ON {rule.condition()}"
        for i, rule in enumerate(rules)
    ]
    names = ", ".join(f"'{r.name}'" for r in rules)
    union = (
        "\nUNION ALL\n".join(selects)
        if selects
        else ("SELECT NULL::BIGINT AS rec_id, NULL::BIGINT AS pop_rec_id, NULL::TINYINT AS rule_no WHERE FALSE")
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE {out} AS
        WITH all_pairs AS ({union}),
             dedup AS (SELECT rec_id, pop_rec_id, min(rule_no) AS rule_no FROM all_pairs GROUP BY ALL)
        SELECT rec_id, pop_rec_id, ([{names}])[rule_no + 1] AS rule FROM dedup
        """
    )
    return counts
