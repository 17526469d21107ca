"""Great Expectations suites generated from a RegistrySpec ("đủ" and "sạch", measured).

Why generated: a registry is declared, not programmed (pipelines/spec.py), so its validation
suite is derived from the same declaration — required columns must be present, IDs must have a
known format and agree with sex and birth year, dates must parse and lie in range, sex must be
Nam/Nữ, rows paid through an account must carry an account number, amounts must be positive.

The checks run on a *checked frame* (`prepare_frame`): the raw columns with blanks turned into
nulls, plus a few derived columns named after their source column (`so_cccd_kind`,
`so_cccd_consistent`, `ngay_sinh_year`, `muc_tro_cap_value`, `hinh_thuc_chi_tra_is_account`).
They are the normalizer's columns (matching/normalize: the one parser of amounts, dates, sex and
IDs): taken from the frame when it has them (the in-memory frame at ingest), else computed by the
normalizer from the raw values (a run's `<registry>_rows` table, which keeps the raw values and
the problems but not every derived column), so the suite reads the same values on both.

Personal data never reaches GX's stores: every run uses result_format SUMMARY with
`partial_unexpected_count = 0`, so results carry counts only, never sample values.

Great Expectations is imported lazily (≈4 s), with analytics off (pipelines/offline.py) and
progress bars silenced. No Data Docs: see `run_suite`.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import date
from typing import Any

import polars as pl

from matching.normalize.dates import MIN_YEAR
from matching.normalize.fold import fold, fold_expr
from matching.normalize.frame import normalize_columns
from matching.normalize.ids import PERSONAL_ID_KINDS, ROW_MISMATCH_PROBLEMS
from pipelines.labels import CHECKS
from pipelines.spec import ColumnSpec, RegistrySpec

# Result format used everywhere: counts only, no unexpected values (personal data) kept.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 0}

# Land rows may name an organization: it has no birth year or personal ID, so the required
# checks of these person fields apply to rows naming persons only (`is_person`).
PERSON_ONLY_ROLES = ("ngay_sinh", "gioi_tinh", "id", "ho_ten_cha", "ho_ten_me")

# Vietnamese text for each check (the expectation description; reports show it too).

RESULT_COLUMNS = {
    "registry": pl.Utf8,
    "suite": pl.Utf8,
    "expectation": pl.Utf8,
    "column": pl.Utf8,
    "element_count": pl.Int64,
    "unexpected_count": pl.Int64,
    "unexpected_rate": pl.Float64,
    "success": pl.Boolean,
    "details": pl.Utf8,
}


def suite_name(spec: RegistrySpec) -> str:
    return f"{spec.name}_suite"


def _gx():
    import pipelines.offline  # noqa: F401  lazy: analytics off before GX is imported (GX: ~4.5 s, only the suite's process)

    os.environ.setdefault("TQDM_DISABLE", "1")
    logging.getLogger("great_expectations").setLevel(logging.WARNING)  # no INFO lines in run logs
    import great_expectations as gx  # lazy: ~4.5 s of import, paid in the validation process only

    for name in list(logging.root.manager.loggerDict):  # GX sets levels on its own child loggers
        if name.startswith("great_expectations"):
            logging.getLogger(name).setLevel(logging.WARNING)

    return gx


# --------------------------------------------------------------------------- the checked frame


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, null when empty: a blank cell counts as missing (here and in completeness.py)."""
    s = expr.cast(pl.Utf8).str.strip_chars()
    return pl.when(s == "").then(None).otherwise(s)


def prepare_frame(spec: RegistrySpec, df: Any) -> pl.DataFrame:
    """The checked frame: raw columns (blank = null) plus the derived columns the suite reads."""
    if not isinstance(df, pl.DataFrame):
        df = pl.from_pandas(df)
    missing = [c.name for c in spec.columns if c.name not in df.columns]
    if missing:  # an absent column is entirely empty: its required check reports every row
        df = df.with_columns([pl.lit(None, dtype=pl.Utf8).alias(c) for c in missing])
    norm = _normalized(spec, df)
    out: list[pl.Expr] = []
    for c in spec.columns:
        out.append(blank_to_null(pl.col(c.name)).alias(c.name))
        if c.kind == "id":
            kind = norm[f"{c.name}_kind"]
            bad = _problems(df, norm, c.name).list.eval(pl.element().is_in(ROW_MISMATCH_PROBLEMS)).list.any()
            consistent = pl.when(kind == "cccd12").then(~bad.fill_null(False)).otherwise(None)
            out += [kind.alias(f"{c.name}_kind"), consistent.alias(f"{c.name}_consistent")]
        elif c.kind in ("date", "year"):
            out.append(norm[f"{c.name}_year"].cast(pl.Int32).alias(f"{c.name}_year"))
        elif c.kind == "sex":
            out.append(norm[f"{c.name}_clean"].cast(pl.Utf8).alias(f"{c.name}_sex"))
        elif c.kind == "amount":
            out.append(norm[f"{c.name}_clean"].cast(pl.Float64).alias(f"{c.name}_value"))
    out.append(is_person_expr(spec, df).alias("is_person"))
    if spec.payment is not None:
        accounts = {fold(v) for v in spec.payment.account_values}
        mode = blank_to_null(pl.col(spec.payment.mode_column))
        out.append(
            pl.when(mode.is_null())
            .then(None)
            .otherwise(fold_expr(mode).is_in(sorted(accounts)))
            .alias(f"{spec.payment.mode_column}_is_account")
        )
    return df.with_columns(out)


# The normalizer's column each checked column is read from, per column kind.
_READS = {"id": ("_kind",), "date": ("_year",), "year": ("_year",), "sex": ("_clean",), "amount": ("_clean",)}


def _has_normalized(df: pl.DataFrame, c: ColumnSpec) -> bool:
    """Does the frame carry the normalizer's columns for `c` (the run's in-memory frame)?
    An amount's `_clean` must be numeric: the warehouse keeps every `_clean` as text."""
    cols = [f"{c.name}{suffix}" for suffix in _READS.get(c.kind, ())]
    if not all(col in df.columns for col in cols):
        return False
    return c.kind != "amount" or df.schema[cols[0]].is_numeric()


def _normalized(spec: RegistrySpec, df: pl.DataFrame) -> dict[str, pl.Expr]:
    """The normalizer's columns the suite reads, as expressions over `df`: the frame's own when
    it has them, else the normalizer's reading of the raw values (sex and date of birth given,
    as in the pipeline, for the ID checks)."""
    todo = [c for c in spec.columns if c.kind in _READS and not _has_normalized(df, c)]
    exprs = {f"{c.name}{s}": pl.col(f"{c.name}{s}") for c in spec.columns for s in _READS.get(c.kind, ())}
    if not todo:
        return exprs
    sex = next((c.name for c in spec.columns if c.role == "gioi_tinh"), None)
    dob = next((c.name for c in spec.columns if c.role == "ngay_sinh"), None)
    raw = df.select([c.name for c in spec.columns])
    fresh = normalize_columns(raw, [(c.name, c.kind) for c in todo], sex_column=sex, dob_column=dob)
    for c in todo:
        for col in [f"{c.name}{s}" for s in _READS[c.kind]] + [f"{c.name}_problems"]:
            exprs[col] = pl.lit(fresh[col])
    return exprs


def _problems(df: pl.DataFrame, norm: dict[str, pl.Expr], col: str) -> pl.Expr:
    """List of problem codes of one column: the frame's `<c>_problems`, else its `problems`
    entries 'c:code' (warehouse), else the normalizer's reading of the raw value."""
    if f"{col}_problems" in df.columns and df.schema[f"{col}_problems"] == pl.List(pl.Utf8):
        return pl.col(f"{col}_problems")
    if "problems" in df.columns and isinstance(df.schema["problems"], pl.List):
        prefix = f"{col}:"
        return pl.col("problems").list.eval(
            pl.element().filter(pl.element().str.starts_with(prefix)).str.strip_prefix(prefix)
        )
    return norm.get(f"{col}_problems", pl.lit(None, dtype=pl.List(pl.Utf8)))


def is_person_expr(spec: RegistrySpec, df: pl.DataFrame) -> pl.Expr:
    """False for rows naming an organization (owner normalizer's `<c>_entity`, or an `entity`
    column joined from `links` when the frame comes from the warehouse); True otherwise."""
    owner = next((c.name for c in spec.columns if c.kind == "owner"), None)
    for col in ([f"{owner}_entity"] if owner else []) + ["entity"]:
        if col in df.columns:
            return (pl.col(col).cast(pl.Utf8) != "organization").fill_null(True)
    return pl.lit(True)


# --------------------------------------------------------------------------- the suite


def expectation_plan(spec: RegistrySpec) -> list[dict]:
    """The suite as plain data: one dict per expectation (type, kwargs, check code).

    Kept separate from GX objects so it can be read, tested and documented without importing GX."""
    this_year = date.today().year
    plan: list[dict] = []

    def add(kind: str, check: str, column: str, **kwargs):
        plan.append({"type": kind, "check": check, "column": column, "kwargs": {"column": column, **kwargs}})

    for c in spec.columns:
        if c.required and spec.owner_split and c.role in PERSON_ONLY_ROLES:
            add("not_null", "required", c.name, condition=("equals_true", "is_person"))
        elif c.required:
            add("not_null", "required", c.name)
        present = ("raw_not_null", c.name)
        if c.kind == "id":
            add("in_set", "id_format", f"{c.name}_kind", value_set=list(PERSONAL_ID_KINDS))
            add("in_set", "id_consistent", f"{c.name}_consistent", value_set=[True])
        elif c.kind in ("date", "year"):
            add("not_null", "date_parsed", f"{c.name}_year", condition=present)
            add("between", "date_range", f"{c.name}_year", min_value=MIN_YEAR, max_value=this_year)
        elif c.kind == "sex":
            add("not_null", "sex_valid", f"{c.name}_sex", condition=present)
        elif c.kind == "amount":
            add("not_null", "amount_parsed", f"{c.name}_value", condition=present)
            add("between", "amount_positive", f"{c.name}_value", min_value=0, strict_min=True)
    if spec.payment is not None:
        add(
            "not_null",
            "account_present",
            spec.payment.account_column,
            condition=("equals_true", f"{spec.payment.mode_column}_is_account"),
        )
    return plan


def checked_columns(spec: RegistrySpec) -> list[str]:
    """The checked frame's columns that the suite reads (expectation columns and row conditions)."""
    cols = [item["kwargs"]["column"] for item in expectation_plan(spec)]
    cols += [item["kwargs"]["condition"][1] for item in expectation_plan(spec) if "condition" in item["kwargs"]]
    return list(dict.fromkeys(cols))


def build_suite(spec: RegistrySpec):
    """A GX 1.x ExpectationSuite for the registry (not yet attached to a context)."""
    gx = _gx()
    from great_expectations.expectations.row_conditions import Column  # lazy: GX, as in _gx()

    classes = {
        "not_null": gx.expectations.ExpectColumnValuesToNotBeNull,
        "in_set": gx.expectations.ExpectColumnValuesToBeInSet,
        "between": gx.expectations.ExpectColumnValuesToBeBetween,
    }
    suite = gx.ExpectationSuite(name=suite_name(spec))
    for item in expectation_plan(spec):
        kwargs = dict(item["kwargs"])
        cond = kwargs.pop("condition", None)
        if cond is not None:
            op, col = cond
            kwargs["row_condition"] = Column(col).is_not_null() if op == "raw_not_null" else Column(col) == True  # noqa: E712
        label = spec.column(item["column"]).label_vi if item["column"] in {c.name for c in spec.columns} else None
        desc = CHECKS[item["check"]] + (f": {label}" if label else f" ({item['column']})")
        suite.add_expectation(classes[item["type"]](**kwargs, description=desc, meta={"check": item["check"]}))
    return suite


def run_suite(spec: RegistrySpec, df: Any) -> pl.DataFrame:
    """Validate a registry frame; one result row per expectation (counts only, no values).

    An ephemeral context: nothing is written to disk. GX's Data Docs are not built — their pages
    load Bootstrap, jQuery and Vega from public CDNs (blank on an office network without
    internet); the results are shown in doisoat's own self-contained audit report instead
    (pipelines/reports/html.py, section "Kiểm tra chất lượng dữ liệu")."""
    # only the columns the expectations read go to pandas: the pipeline frame also carries every
    # normalizer column (lists of problem codes among them), whose conversion cost more than the checks
    return run_suite_checked(spec, checked_frame(spec, df))


def warm_up() -> None:
    """Import Great Expectations (≈4.5 s of Python) ahead of use, e.g. in the CLI's validation process."""
    _gx()


def checked_frame(spec: RegistrySpec, df: Any) -> pl.DataFrame:
    """The prepared columns the suite reads (small enough to hand to another process)."""
    return prepare_frame(spec, df).select(checked_columns(spec))


def run_suite_checked(spec: RegistrySpec, frame: pl.DataFrame) -> pl.DataFrame:
    """`run_suite` on a frame already reduced by `checked_frame`."""
    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig  # lazy: GX, as in _gx()

    checked = frame.to_pandas()
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    batch = (
        ctx.data_sources.add_pandas(spec.name)
        .add_dataframe_asset(f"{spec.name}_rows")
        .add_batch_definition_whole_dataframe("whole")
    )
    suite = ctx.suites.add(build_suite(spec))
    vd = ctx.validation_definitions.add(
        gx.ValidationDefinition(name=f"{spec.name}_validation", data=batch, suite=suite)
    )
    results = vd.run(batch_parameters={"dataframe": checked}, result_format=RESULT_FORMAT).results
    return _results_frame(spec, results)


def _results_frame(spec: RegistrySpec, results) -> pl.DataFrame:
    rows = []
    for r in results:
        cfg = r.expectation_config
        kwargs = {k: v for k, v in cfg.kwargs.items() if k != "batch_id"}
        # rows actually checked: map expectations skip nulls (missing_count), so the rate is
        # over the values present, and a column with no values is not reported as failing
        element = int(r.result.get("element_count", 0) or 0) - int(r.result.get("missing_count", 0) or 0)
        unexpected = int(r.result.get("unexpected_count", 0) or 0)
        rows.append(
            {
                "registry": spec.name,
                "suite": suite_name(spec),
                "expectation": cfg.type,
                "column": kwargs.get("column"),
                "element_count": element,
                "unexpected_count": unexpected,
                "unexpected_rate": unexpected / element if element else 0.0,
                "success": bool(r.success),
                "details": json.dumps(
                    {"check": (cfg.meta or {}).get("check"), **kwargs}, ensure_ascii=False, default=str
                ),
            }
        )
    return pl.DataFrame(rows, schema=RESULT_COLUMNS)
