"""`doisoat clean FILE --registry NAME --out OUT`: the officer's cleaning command.

Why a separate path from the reconcile flow: an officer wants *their own file* back, with every
row in its place and every original column untouched, plus a normalized `<column>_clean` beside
each column we know how to normalize and one `problems` column saying what is wrong in the row
(codes, "ho_ten:legacy_tcvn3"), followed by `van_de`, the same in Vietnamese for the officer.
So we read the raw grid (title rows above the header skipped, header found through the spec's
aliases like ingestion does), keep every row under the header — blank and totals rows included,
never dropped or reordered — and write CSV (UTF-8 with BOM, so Excel shows Vietnamese) or Excel
by the extension of OUT. No personal data is printed or logged; only counts are returned.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl

from matching.normalize.frame import normalize_columns
from pipelines.errors import InputError, OutputError
from pipelines.ingest import alias_index, locate_header, read_grid, two_row_labels
from pipelines.labels import PROBLEM
from pipelines.normalize import POPULATION_COLUMNS
from pipelines.registries import get_spec
from pipelines.reports import ensure_writable_dir
from pipelines.spec import ColumnSpec

_CLEANED_KINDS = ("name", "owner", "date", "year", "id", "sex", "address", "amount")


def _spec_columns(registry: str) -> tuple[ColumnSpec, ...]:
    if registry == "population":
        return POPULATION_COLUMNS

    return get_spec(registry).columns


def _unique_labels(labels: list[str | None]) -> list[str]:
    seen: Counter[str] = Counter()
    out = []
    for j, label in enumerate(labels):
        base = (label or "").strip() or f"Cột {j + 1}"
        seen[base] += 1
        out.append(base if seen[base] == 1 else f"{base} ({seen[base]})")
    return out


def clean_frame(frame: pl.DataFrame, found: dict[str, str], columns: tuple[ColumnSpec, ...]) -> pl.DataFrame:
    """Normalize a text frame whose headers are original labels; `found` maps label → canonical.

    Returns the original columns in order, `<canonical>_clean` right after each normalized one,
    and `problems` (one string, entries separated by "; ") at the end."""
    kinds = {c.name: c.kind for c in columns}
    languages = {c.name: c.language for c in columns}
    work = frame.rename({label: f"__c{j}" for j, label in enumerate(frame.columns)})
    canon_of = {f"__c{j}": found.get(label) for j, label in enumerate(frame.columns)}
    renamed = {src: name for src, name in canon_of.items() if name}
    work = work.rename(renamed)
    specs = [(name, kinds[name], languages[name]) for name in renamed.values() if kinds.get(name) in _CLEANED_KINDS]
    roles = {c.role: c.name for c in columns if c.role and c.name in renamed.values()}
    norm = normalize_columns(work, specs, sex_column=roles.get("gioi_tinh"), dob_column=roles.get("ngay_sinh"))
    select: list[pl.Expr] = []
    for j, label in enumerate(frame.columns):
        src = f"__c{j}"
        name = renamed.get(src, src)
        select.append(pl.col(name).alias(label))
        if name in {s[0] for s in specs}:
            clean = pl.col(f"{name}_clean")
            if kinds[name] == "owner":  # every owner, not only the first: "Nguyễn Văn An; Trần Thị Bình"
                names = pl.col(f"{name}_owners").list.eval(pl.element().struct.field("ho_ten_clean")).list.join("; ")
                clean = pl.when(pl.col(f"{name}_owners").list.len() > 0).then(names).otherwise(clean)
            if norm.schema[f"{name}_clean"] == pl.Float64:  # amounts: "1500000", not "1500000.0"
                whole = clean == clean.floor()
                clean = pl.when(whole).then(clean.cast(pl.Int64).cast(pl.Utf8)).otherwise(clean.cast(pl.Utf8))
            elif norm.schema[f"{name}_clean"] != pl.Utf8:
                clean = clean.cast(pl.Utf8)
            select.append(clean.alias(f"{name}_clean"))
    select.append(pl.col("problems").list.join("; ").alias("problems"))
    out = norm.select(select)
    return out.with_columns(_describe(out["problems"], columns).alias("van_de"))


def _describe(problems: pl.Series, columns: tuple[ColumnSpec, ...]) -> pl.Series:
    """The problems in Vietnamese for the officer ("Họ và tên: Mã cũ TCVN3 (ABC); ..."), computed
    once per distinct combination of problems."""

    header = {c.name: c.label_vi or c.name for c in columns}

    def text(codes: str) -> str:
        parts = []
        for entry in codes.split("; ") if codes else []:
            col, _, code = entry.partition(":")
            parts.append(f"{header.get(col, col)}: {PROBLEM.get(code, code)}")
        return "; ".join(parts)

    distinct = problems.unique().to_list()
    mapping = pl.DataFrame({"k": distinct, "v": [text(d or "") for d in distinct]}, schema={"k": pl.Utf8, "v": pl.Utf8})
    return pl.DataFrame({"k": problems}).join(mapping, on="k", how="left", maintain_order="left")["v"]


def clean_file(path: Path, registry: str, out: Path) -> dict:
    """Read FILE, normalize the spec's columns, write OUT (.csv or .xlsx); returns counts only.

    The header must have the registry's required columns, as `doisoat run` asks: a file without
    one is refused (taking a person's record for the header would lose the rows above it)."""
    path, out = Path(path), Path(out)
    _check_output(out)  # before any work: a wrong --out is said at once
    columns = _spec_columns(registry)
    rows_iter, _fmt, _enc = read_grid(path)
    need = [c.name for c in columns if c.required]
    located = locate_header(path, None, rows_iter, columns, alias_index(columns), need)
    if located is None:
        raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
    lead, grid, start, height, found_pos, error = located
    if error is not None:
        raise error
    raw_labels = grid[start] if height == 1 else two_row_labels(grid[start], grid[start + 1])
    rows = grid[start + height :] + list(rows_iter)  # an officer's file: every row is written back
    width = max([len(raw_labels)] + [len(r) for r in rows])
    labels = _unique_labels(list(raw_labels) + [None] * (width - len(raw_labels)))
    data = {label: [r[j] if j < len(r) else None for r in rows] for j, label in enumerate(labels)}
    frame = pl.DataFrame(data, schema={label: pl.Utf8 for label in labels})
    found = {labels[j]: name for j, name in found_pos.items()}
    cleaned = clean_frame(frame, found, columns)
    _write(cleaned, out)
    problems = cleaned["problems"]
    return {
        "rows": cleaned.height,
        "rows_with_problems": int((problems.str.len_chars() > 0).sum()),
        "columns_normalized": sorted(found.values()),
        "header_row": len(lead) + start + 1,
    }


def _check_output(out: Path) -> None:
    if out.suffix.lower() not in (".csv", ".xlsx"):
        raise InputError(f"định dạng đầu ra '{out.suffix}' chưa hỗ trợ (dùng .csv hoặc .xlsx)", file=out.name)
    if out.is_dir():
        raise OutputError(f"--out {out}: đây là một thư mục, cần đường dẫn tệp .csv hoặc .xlsx.")

    ensure_writable_dir(out.parent if str(out.parent) else Path("."), "thư mục của --out")


def _write(df: pl.DataFrame, out: Path) -> None:
    try:
        if out.suffix.lower() == ".csv":
            with open(out, "wb") as fh:
                fh.write(b"\xef\xbb\xbf")
                df.write_csv(fh)
        else:
            df.write_excel(out, worksheet="Đã chuẩn hoá", autofit=True)
    except OSError as exc:
        raise OutputError(f"--out {out}: không ghi được tệp ({exc.strerror or type(exc).__name__}).") from None
