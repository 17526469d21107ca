"""Comparisons: each a named list of levels, each level a SQL condition plus a label.

Why declarative: the levels *are* the matching knowledge (what counts as "the same name" in
Vietnamese records), so they are data an auditor can read, the model can train m/u values for,
and the explanation can print. The idea follows Splink's comparison library; the levels are ours.

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

Jaro-Winkler is DuckDB's own `jaro_winkler_similarity`, measured faster than rapidfuzz here:
1,000,000 name pairs scored in 0.07-0.13 s inside the query (2 threads), against 0.37 s for
`rapidfuzz.process.cpdist(..., scorer=JaroWinkler.similarity)` plus 0.11-0.26 s to fetch the
pairs into Python — and the in-query version never moves the pairs out of DuckDB.
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


def _jw(a: str, b: str) -> str:
    return f"jaro_winkler_similarity({a}, {b})"


def _jw_level(label: str, a: str, b: str, threshold: float, **kw) -> Level:
    """A Jaro-Winkler band: the SQL and its saved parameters come from the same threshold."""
    return Level(
        label,
        f"{_jw(a, b)} >= {threshold:.2f}",
        params={"function": "jaro_winkler_similarity", "threshold": threshold},
        **kw,
    )


def _rest(side: str) -> str:
    """The accent-free name without its first syllable (the surname), Thị/Văn dropped.

    strpos/substr, not regexp_replace: measured 0.05 s against 0.17 s per million pairs."""
    k = f"{side}.ho_ten_key_nomid"
    return f"substr({k}, strpos({k}, ' ') + 1)"


def _ham(a: str, b: str) -> str:
    """Hamming distance, NULL when lengths differ (DuckDB's hamming() raises on that)."""
    return f"(CASE WHEN length({a}) = length({b}) THEN hamming({a}, {b}) END)"


def _swapped(a: str, b: str) -> str:
    """Two digits exchanged: two positions differ and the multisets of digits are equal.

    The CASE keeps the (slow: 7.8 s per million pairs) multiset test to the rare pairs at
    Hamming distance 2; an AND did not stop DuckDB from evaluating it for every pair."""
    return (
        f"(CASE WHEN {_ham(a, b)} = 2 THEN list_sort(string_split({a}, '')) = list_sort(string_split({b}, ''))"
        f" ELSE FALSE END)"
    )


def _datestr(side: str) -> str:
    return f"printf('%04d%02d%02d', {side}.ngay_sinh_year, {side}.ngay_sinh_month, {side}.ngay_sinh_day)"


# --- the comparisons the registry specs name -------------------------------------------------

JW_BANDS = (0.95, 0.90, 0.85)  # full-name Jaro-Winkler levels, high to low; the lowest is the gate
JW_GATE = f"{_jw('r.ho_ten_key', 'p.ho_ten_key')} >= {JW_BANDS[-1]:.2f}"
GIVEN_EQUAL_SURNAME_JW = 0.88

HO_TEN = Comparison(
    "ho_ten",
    (
        Level("null", "r.ho_ten_key IS NULL OR p.ho_ten_key IS NULL", is_null=True),
        Level("exact", "r.ho_ten = p.ho_ten", tf="tf_name"),
        Level("key_exact", "r.ho_ten_key = p.ho_ten_key", tf="tf_name"),
        Level("key_nomid", "r.ho_ten_key_nomid = p.ho_ten_key_nomid", tf="tf_name"),
        Level("surname_variant", f"r.ho_key = p.ho_key AND {_rest('r')} = {_rest('p')}", tf="tf_name"),
        Level(
            "given_equal_surname_fuzzy",
            f"r.ten_key = p.ten_key AND {_jw('r.ho_ten_key_nomid', 'p.ho_ten_key_nomid')}"
            f" >= {GIVEN_EQUAL_SURNAME_JW:.2f}",
            tf="tf_ten",
            params={"function": "jaro_winkler_similarity", "threshold": GIVEN_EQUAL_SURNAME_JW},
        ),
        # Bands are high because full Vietnamese names share long prefixes ("nguyen thi hoa" vs
        # "nguyen van hung" scores 0.86).
        *(_jw_level(f"jw_{t:.2f}", "r.ho_ten_key", "p.ho_ten_key", t, gate=JW_GATE) for t in JW_BANDS),
        Level("different", "TRUE"),
    ),
)

DOB_DIGITS = 1  # one_digit: yyyymmdd strings this many digits apart
DOB_YEARS = 1  # year_pm1: years apart
ID_EDITS = 1  # one_edit: substituted digits (or two digits swapped)

NGAY_SINH = Comparison(
    "ngay_sinh",
    (
        Level("null", "r.ngay_sinh_year IS NULL OR p.ngay_sinh_year IS NULL", is_null=True),
        Level(
            "exact",
            "r.ngay_sinh_year = p.ngay_sinh_year AND r.ngay_sinh_month = p.ngay_sinh_month"
            " AND r.ngay_sinh_day = p.ngay_sinh_day",
        ),
        Level(
            "year_only",
            "r.ngay_sinh_year = p.ngay_sinh_year AND (r.ngay_sinh_day IS NULL OR p.ngay_sinh_day IS NULL)"
            " AND (r.ngay_sinh_month IS NULL OR p.ngay_sinh_month IS NULL OR r.ngay_sinh_month = p.ngay_sinh_month)",
        ),
        Level(
            "placeholder_01_01",
            "r.ngay_sinh_year = p.ngay_sinh_year AND ((r.ngay_sinh_month = 1 AND r.ngay_sinh_day = 1)"
            " OR (p.ngay_sinh_month = 1 AND p.ngay_sinh_day = 1))",
        ),
        Level(
            "day_month_swapped",
            "r.ngay_sinh_year = p.ngay_sinh_year AND r.ngay_sinh_day = p.ngay_sinh_month"
            " AND r.ngay_sinh_month = p.ngay_sinh_day",
        ),
        Level(
            "one_digit",
            # only when two of year/month/day agree (cheap) is the digit-by-digit test run
            "(CASE WHEN r.ngay_sinh_day IS NOT NULL AND p.ngay_sinh_day IS NOT NULL"
            " AND (r.ngay_sinh_year = p.ngay_sinh_year)::INT + (r.ngay_sinh_month = p.ngay_sinh_month)::INT"
            " + (r.ngay_sinh_day = p.ngay_sinh_day)::INT = 2"
            f" THEN hamming({_datestr('r')}, {_datestr('p')}) = {DOB_DIGITS} ELSE FALSE END)",
            params={"hamming_yyyymmdd": DOB_DIGITS},
        ),
        Level(
            "year_pm1",
            f"abs(r.ngay_sinh_year - p.ngay_sinh_year) = {DOB_YEARS} AND (r.ngay_sinh_day IS NULL"
            " OR p.ngay_sinh_day IS NULL"
            " OR (r.ngay_sinh_month = p.ngay_sinh_month AND r.ngay_sinh_day = p.ngay_sinh_day))",
            params={"years_apart": DOB_YEARS},
        ),
        Level("same_year", "r.ngay_sinh_year = p.ngay_sinh_year"),
        Level("different", "TRUE"),
    ),
)

GIOI_TINH = Comparison(
    "gioi_tinh",
    (
        Level("null", "r.gioi_tinh IS NULL OR p.gioi_tinh IS NULL", is_null=True),
        Level("agree", "r.gioi_tinh = p.gioi_tinh"),
        Level("different", "TRUE"),
    ),
)

ID = Comparison(
    "id",
    (
        Level(
            "null",
            "(r.id12 IS NULL OR p.id12 IS NULL) AND (r.cmnd9 IS NULL OR p.cmnd9 IS NULL)",
            is_null=True,
        ),
        Level("agree", "r.id12 = p.id12 OR r.cmnd9 = p.cmnd9"),
        Level(
            "one_edit",
            f"{_ham('r.id12', 'p.id12')} = {ID_EDITS} OR {_swapped('r.id12', 'p.id12')}"
            f" OR {_ham('r.cmnd9', 'p.cmnd9')} = {ID_EDITS} OR {_swapped('r.cmnd9', 'p.cmnd9')}",
            params={"hamming": ID_EDITS, "two_digits_swapped": True},
        ),
        Level("conflict", "TRUE"),
    ),
)

DIA_CHI = Comparison(
    "dia_chi",
    (
        Level("null", "r.ma_tinh IS NULL OR p.ma_tinh IS NULL", is_null=True),
        Level("same_xa", "r.ma_xa = p.ma_xa"),
        Level("same_tinh", "r.ma_tinh = p.ma_tinh"),
        Level("different", "TRUE"),
    ),
)


def _parent(name: str, col: str) -> Comparison:
    return Comparison(
        name,
        (
            Level("null", f"r.{col} IS NULL OR p.{col} IS NULL", is_null=True),
            Level("exact", f"r.{col} = p.{col}"),
            _jw_level("jw_0.90", f"r.{col}", f"p.{col}", 0.90),
            Level("different", "TRUE"),
        ),
    )


HO_TEN_CHA = _parent("ho_ten_cha", "ho_ten_cha_key")
HO_TEN_ME = _parent("ho_ten_me", "ho_ten_me_key")

COMPARISONS: dict[str, Comparison] = {
    c.name: c for c in (HO_TEN, NGAY_SINH, GIOI_TINH, ID, DIA_CHI, HO_TEN_CHA, HO_TEN_ME)
}


def get_comparisons(names) -> list[Comparison]:
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise ValueError(f"unknown comparison(s) {unknown}; known: {sorted(COMPARISONS)}")
    return [COMPARISONS[n] for n in names]


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
