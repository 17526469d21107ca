"""The matcher's settings: the one home of every matching default.

Why a module of its own: a registry spec (`pipelines/spec.py`) declares its comparisons and
blocking rules with these settings, and the CLI reads the specs at start-up; this module imports
nothing heavy (no polars, no DuckDB: importing `matching.link` costs about a second), so
`doisoat --help` stays fast. The engine (`matching.link.link_records`) reads the same object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LinkSettings:
    """Comparisons, blocking rules, thresholds and the engine's own knobs (defaults measured).

    A registry spec sets `comparisons` and `blocking_rules` and keeps the other defaults. Each
    entry is a built-in name (matching/templates.py COMPARISONS, matching/blocking.py RULES) or a
    mapping read by matching/library.py: a template with its columns and parameters
    ({"template": "generic_id", "column": "so_ho_chieu"}), a rule with its keys ({"name": ..., "keys": [...]}).
    """

    comparisons: tuple[str | Mapping[str, Any], ...] = ("ho_ten", "ngay_sinh", "gioi_tinh", "id", "dia_chi")
    blocking_rules: tuple[str | Mapping[str, Any], ...] = (
        "ho_ten_nam_sinh",
        "ho_ten_ngay_thang",
        "ho_ten_xa",
        "ten_ngay_sinh",
        "ho_ngay_sinh",
        "ngay_sinh_xa",
    )
    match_threshold: float = 0.95  # match_probability >= this: matched
    review_threshold: float = 0.50  # >= this and below match_threshold: needs review
    max_pairs_per_rule: int = 50_000_000  # refuse a blocking rule that would make more pairs
    top_k: int = 3  # candidates kept (with evidence) per registry row
    min_margin: float = 4.0  # bits the best candidate must lead the runner-up by to be matched
    u_sample_pairs: int = 1_000_000
    em_iterations: int = 10
    seed: int = 42

    @classmethod
    def from_object(cls, obj) -> LinkSettings:
        """Accept any object with these attributes (duck typing: the engine imports no caller)."""
        if isinstance(obj, cls):
            return obj
        names = cls.__dataclass_fields__
        kwargs = {n: getattr(obj, n) for n in names if hasattr(obj, n)}
        for n in ("comparisons", "blocking_rules"):
            if n in kwargs:
                kwargs[n] = tuple(kwargs[n])
        return cls(**kwargs)
