"""Foreigners in a registry: persons the reference (CSDLQG) does not hold, never matched.

Why: CSDLQG về dân cư holds Vietnamese citizens. A registry that also lists foreigners (guests
declared through the ASM accommodation software) would otherwise send them to the matcher, where
a foreigner whose name and date of birth a citizen also bears is offered as that citizen, and
every foreigner would count as "not found" against the registry's targets. A spec names the
nationality column and the values that mean a citizen (`foreigners:` in the spec file,
pipelines/spec_files.py); a row whose value is given and is none of them (compared accent- and
case-free) is a foreigner. Like a land organization it gets one outcome (status `unmatched`,
method and entity `foreigner`) and no person record, and stays out of the coverage figures and
the "not found" list. A row with no nationality is matched as usual.
"""

from __future__ import annotations

import polars as pl

from matching.normalize.fold import fold, fold_expr
from pipelines.spec import RegistrySpec

ENTITY = "foreigner"  # links.entity and links.method of a foreigner's row
REASON = "foreigner_not_in_csdlqg"  # links.reason
# link entities that are not persons CSDLQG could hold: out of coverage and of the "not found" list
NOT_CSDLQG_PERSONS = ("organization", ENTITY)
NOT_CSDLQG_SQL = "(" + ", ".join(f"'{e}'" for e in NOT_CSDLQG_PERSONS) + ")"  # constants only, no input


def is_foreigner(spec: RegistrySpec) -> pl.Expr:
    """True on the normalized rows (`<column>_clean`) of a foreigner; False when the spec has no
    `foreigners` declaration."""
    if spec.foreigners is None:
        return pl.lit(False)
    citizen = sorted({fold(v) for v in spec.foreigners.citizen_values})
    value = fold_expr(pl.col(f"{spec.foreigners.column}_clean"))
    return (value.is_not_null() & (value != "") & ~value.is_in(citizen)).fill_null(False)


def foreigner_rows(spec: RegistrySpec, rows: pl.DataFrame) -> pl.DataFrame:
    """The matchable rows (row_status ok) of foreigners; a rejected row keeps its rejection."""
    return rows.filter((pl.col("row_status") == "ok") & is_foreigner(spec))
