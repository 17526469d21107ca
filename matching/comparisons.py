"""Comparisons: each a named list of levels, each level a SQL condition plus a label.

Why declarative: the levels *are* the matching knowledge (what counts as "the same name" in
Vietnamese records, or as the same passport number), so they are data an auditor can read, the
model can train m/u values for, and the explanation can print. The idea follows Splink's
comparison library; the levels are ours.

Conditions are written over two aliases, `r` (registry row) and `p` (population row), both in
the person schema (ARCHITECTURE.md). Levels are tried top to bottom and the first true one wins;
the first level of every comparison is the `null` level (a side is missing: weight 0) and the
last is the catch-all disagreement. A level may name a population column whose term frequency
replaces its u-probability (a common name earns less than a rare one).

A trained model saves every level as data (`Level.saved`: label, SQL, gate, parameters, term
frequency), like Splink's saved settings, and `from_saved` rebuilds the comparisons from it: an
old run is re-explained with the SQL it was scored with, not with today's code. `params` records
the numbers a level's SQL was built from (Jaro-Winkler thresholds, edit distances) so a reader
of a saved model sees them without parsing SQL; the SQL stays the definition.

This module is the level model only; the comparisons themselves are built by the templates of
`matching/templates.py` (the library, built-in comparisons included) from a spec's entries
(`matching/library.py`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Term-frequency pair column -> the population column whose value shares it holds.
TF_KEYS: dict[str, str] = {"tf_name": "ho_ten_key_nomid", "tf_ten": "ten_key"}

_SIDE_COLUMN = re.compile(r"\b[rp]\.([a-z_][a-z0-9_]*)")


@dataclass(frozen=True)
class Level:
    label: str
    sql: str  # boolean SQL over r.* and p.*
    is_null: bool = False
    tf: str | None = None  # term-frequency column carried on the pair (tf_name, tf_ten)
    # Consecutive levels with the same gate are tried only when the gate holds (else none of
    # them): a band of Jaro-Winkler levels costs one similarity for most pairs, not three.
    gate: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict, hash=False)  # numbers the SQL was built from
    tf_key: str | None = None  # population column the tf column counts (TF_KEYS[tf] unless saved otherwise)

    def __post_init__(self) -> None:
        if self.tf and self.tf_key is None:
            object.__setattr__(self, "tf_key", TF_KEYS[self.tf])

    def saved(self) -> dict[str, Any]:
        """The level as data, for a saved model (`Model.to_dict`); `from_saved` reads it back."""
        return {
            "level": self.label,
            "sql": self.sql,
            "gate": self.gate,
            "is_null": self.is_null,
            "params": dict(self.params),
        }


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[Level, ...]

    @property
    def column(self) -> str:
        """Name of the pair column that holds this comparison's level index."""
        return f"lvl_{self.name}"

    def case_sql(self) -> str:
        whens, i, last = [], 0, len(self.levels) - 1
        while i < len(self.levels):
            lv = self.levels[i]
            if lv.gate is None:
                whens.append(f"    WHEN {lv.sql} THEN {i}")
                i += 1
                continue
            j = i
            while j < len(self.levels) and self.levels[j].gate == lv.gate:
                j += 1
            inner = " ".join(f"WHEN {self.levels[k].sql} THEN {k}" for k in range(i, j))
            # the gate must imply one of the gated levels, else the pair falls to the catch-all
            whens.append(f"    WHEN {lv.gate} THEN (CASE {inner} ELSE {last} END)")
            i = j
        body = "\n".join(whens)
        return f"CASE\n{body}\n    ELSE {last}\n  END::TINYINT"

    def labels(self) -> list[str]:
        return [lv.label for lv in self.levels]

    @property
    def columns(self) -> tuple[str, ...]:
        """Person-schema columns the comparison reads (from its SQL, gates and term frequencies)."""
        found = set()
        for lv in self.levels:
            found.update(_SIDE_COLUMN.findall(lv.sql + " " + (lv.gate or "")))
            if lv.tf_key:
                found.add(lv.tf_key)
        return tuple(sorted(found))


def tf_columns(comparisons: list[Comparison]) -> dict[str, str]:
    """The term-frequency pair columns the comparisons use, each with the population column it counts."""
    out: dict[str, str] = {}
    for c in comparisons:
        for lv in c.levels:
            if lv.tf:
                if out.setdefault(lv.tf, lv.tf_key) != lv.tf_key:
                    raise ValueError(f"term-frequency column {lv.tf} counts both {out[lv.tf]} and {lv.tf_key}")
    return out


def level_sql(comparisons: list[Comparison]) -> str:
    """SELECT-list fragment computing every comparison's level index for a pair (r, p)."""
    return ",\n".join(f"{c.case_sql()} AS {c.column}" for c in comparisons)


def from_saved(saved: Mapping[str, Any]) -> list[Comparison]:
    """Comparisons rebuilt from a saved model's "comparisons" section (`Model.to_dict`).

    The SQL is the saved one, whatever today's code says; a model saved before levels carried
    their SQL cannot be rebuilt here (ValueError) — `has_saved_sql` tells which is which.
    """
    if not has_saved_sql(saved):
        raise ValueError("the saved model has no level SQL (saved before models described themselves)")
    out = []
    for name, c in saved.items():
        levels = []
        for lv in c["levels"]:
            tf = lv.get("tf") or {}
            levels.append(
                Level(
                    lv["level"],
                    lv["sql"],
                    is_null=bool(lv["is_null"]),
                    tf=tf.get("column"),
                    gate=lv.get("gate"),
                    params=dict(lv.get("params") or {}),
                    tf_key=tf.get("key"),
                )
            )
        out.append(Comparison(name, tuple(levels)))
    return out


def has_saved_sql(saved: Mapping[str, Any]) -> bool:
    """Whether a saved "comparisons" section carries its levels' SQL (models saved since format 2)."""
    return bool(saved) and all(
        isinstance(c, Mapping) and bool(c.get("levels")) and all("sql" in lv for lv in c["levels"])
        for c in saved.values()
    )
