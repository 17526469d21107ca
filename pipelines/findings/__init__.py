"""Findings: what reconciliation tells the communes, computed from a run's links.

"đúng" (mismatches.py), "đủ" (missing fields: validation/completeness.py, the spec's required
fields filled from CSDLQG where it can), "sạch" (duplicates.py), "sống" (alerts.py), the coverage
of Đề án 06 targets (coverage.py, computed in the warehouse). The problems of the CSDLQG extract
itself are checked with the other inputs, in validation/population.py.
"""

from __future__ import annotations

import polars as pl

from pipelines.findings.alerts import alerts
from pipelines.findings.duplicates import duplicates
from pipelines.findings.linked import linked_pairs
from pipelines.findings.mismatches import mismatches
from pipelines.spec import RegistrySpec
from validation.completeness import missing_fields


def findings(
    spec: RegistrySpec,
    links: pl.DataFrame,
    persons: pl.DataFrame,
    rows: pl.DataFrame,
    population: pl.DataFrame,
    deaths: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """All finding tables of a run from its links: the pipeline calls this after matching, and
    `doisoat review` again after reviewers' decisions changed which rows are linked."""
    pairs = linked_pairs(links, persons, rows, population)
    return {
        "mismatches": mismatches(spec, pairs),
        "missing_fields": missing_fields(spec, rows, population, links),
        "duplicates": duplicates(spec, links, rows),
        "alerts": alerts(spec, pairs, deaths),
    }
