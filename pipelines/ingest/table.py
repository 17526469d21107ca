"""One file to one frame: every line accounted for as header, data row or skipped line.

Why: this is where the other modules meet — `sources` streams the grid, `header` finds the
header, `lines` says which lines are not data — and where the promise "nothing lost" is kept:
each sheet's lines are counted against header + data rows + skipped lines. `read_csv_fast` is
the polars path for large, plain CSDLQG extracts; it steps aside whenever its result could
differ from `read_table`'s.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import polars as pl

from matching.normalize.dates import date_table
from matching.normalize.fold import compact_key
from pipelines.errors import InputError, safe_excerpt
from pipelines.ingest.decoding import LINE_PROBLEM, encoding_notes
from pipelines.ingest.header import (
    HEADER_SCAN_ROWS,
    alias_index,
    find_header,
    header_keys,
    locate_header,
)
from pipelines.ingest.lines import (
    SKIP_REASONS,
    SKIPPED_COLUMNS,
    TOTALS_SCREEN,
    id_shaped,
    is_column_numbers,
    is_footer_line,
    is_place_date,
    is_totals_label,
    kept_words,
    mask_text,
    skipped_notes,
)
from pipelines.ingest.sources import (
    Records,
    cells_frame,
    read_sheets,
    row_number,
    sha256_file,
    sniff_delimiter,
)
from pipelines.spec import ColumnSpec


@dataclass
class IngestResult:
    """The frame (all text, canonical column names + row numbers) and what we noticed reading it."""

    frame: pl.DataFrame
    info: dict = field(default_factory=dict)  # file, sha256, format, encoding, rows, header_row, ...
    notes: list[str] = field(default_factory=list)  # Vietnamese, for the run summary; no personal data
    skipped: pl.DataFrame | None = None  # lines that are not data: SKIPPED_COLUMNS, one row per line


@dataclass
class _Sheet:
    """What one worksheet (or the whole CSV) gave: data columns, row numbers, header facts, and
    every other line with the reason it is not data."""

    name: str | None
    data: pl.DataFrame  # the mapped columns of the data rows, then excel_row and unreadable
    notes: list[str]
    skipped: list[dict]
    header_row: int
    header_rows: int
    columns_found: dict[str, str | None]
    unmapped: list[str]
    refused: InputError | None = None

    @property
    def rows(self) -> int:
        return self.data.height

    @property
    def last_row(self) -> int | None:
        return self.data["excel_row"][-1] if self.data.height else None


def _read_sheet(
    path: Path,
    sheet: str | None,
    rows: Iterator[list[str | None]],
    columns: Sequence[ColumnSpec],
    index: dict[str, str],
    need: Sequence[str],
    *,
    tolerant: bool = False,
) -> _Sheet | None:
    """Header, data rows and skipped lines of one sheet; None when the sheet is empty.

    Every line gets exactly one outcome: header line, data row, or skipped with a reason
    (`SKIP_REASONS`). A line holding an ID-shaped value or a parseable date of birth is always
    a data row. The signature block is recognised only after the last data row: from a
    signature line on, lines wait; a later line with an ID or a date of birth turns them back
    into data rows. Without the header the sheet is refused (`tolerant`: returned with every
    line skipped as 'other_sheet', for a cover sheet in a workbook)."""
    where = path.name if sheet is None else f"{path.name}, trang '{sheet}'"
    located = locate_header(path, sheet, rows, columns, index, need)
    if located is None:
        return None
    lead, grid, start, height, found, error = located
    offset = len(lead)
    skipped: list[dict] = []
    keep = kept_words(grid[start : start + height])

    def skip(n: int, cells: Sequence[str | None], reason: str) -> None:
        skipped.append({"sheet": sheet, "excel_row": n, "reason": reason, "text_masked": mask_text(cells, keep)})

    for i, cells in enumerate(lead):
        skip(row_number(cells, i), cells, "blank")
    if error is not None:
        if not tolerant:
            raise error
        for i, cells in enumerate(chain(grid, rows), start=offset):
            skip(row_number(cells, i), cells, "other_sheet" if any(c for c in cells) else "blank")
        return _Sheet(sheet, _NO_DATA, [], skipped, 0, 0, {}, [], refused=error)
    for i, cells in enumerate(grid[:start], start=offset):
        skip(row_number(cells, i), cells, "above_header" if any(c for c in cells) else "blank")
    unmapped = (
        [c for j, c in enumerate(grid[start]) if c and j not in found and compact_key(c) not in ("stt", "tt", "sott")]
        if height == 1
        else []
    )
    twice = [c for c in unmapped if any(k in index for k in header_keys(c))]

    positions = sorted(found)
    kinds = {c.name: c.kind for c in columns}
    name_column = next((c.name for c in columns if c.kind in ("name", "owner")), None)
    id_positions = [j for j in positions if kinds.get(found[j]) == "id"]
    dob_name = next((c.name for c in columns if c.role == "ngay_sinh"), None) or next(
        (c.name for c in columns if c.kind == "year"), None
    )
    dob_position = next((j for j in positions if found[j] == dob_name), None)
    name_position = next((j for j in positions if found[j] == name_column), None)
    repeat_min = max(2, (len(found) + 1) // 2)

    def inner_reason(cells: Sequence[str | None]) -> str | None:
        name_value = cells[name_position] if name_position is not None and name_position < len(cells) else None
        if any(is_totals_label(t) for t in [c for c in cells if c][:3]) and (
            name_value is None or is_totals_label(name_value)
        ):
            return "totals"
        if (
            sum(1 for j in positions if j < len(cells) and cells[j] and index.get(compact_key(cells[j])) == found[j])
            >= repeat_min
        ):
            return "repeated_header"
        if is_column_numbers(cells):
            return "column_numbers"
        return None

    # The lines under the header, as columns: each gets its outcome from column-wide checks, and
    # per-line Python runs only on the lines with no ID-shaped value and no date of birth.
    first_row = len(lead) + start + height
    if isinstance(rows, Records):
        rows.pos = first_row  # the header scan's rows are read again as columns
        rest = rows.rest()
    else:
        rest = _rows_frame(chain(grid[start + height :], rows), offset + start + height)
    seen = first_row + rest.height
    missing = [f"c{j}" for j in positions if f"c{j}" not in rest.columns]  # cells past every line's end
    cell_names = [c for c in rest.columns if c.startswith("c") and c[1:].isdigit()]
    rest = rest.with_columns(pl.lit(None, dtype=pl.String).alias(c) for c in missing)
    is_data, outcome = _outcomes(rest, id_positions, dob_position, inner_reason)
    for n, reason, cells in zip(
        outcome["line"].to_list(),
        outcome["reason"].to_list(),
        outcome.select(cell_names).rows() if cell_names else [()] * outcome.height,
        strict=True,
    ):
        skipped.append({"sheet": sheet, "excel_row": n, "reason": reason, "text_masked": mask_text(cells, keep)})
    data = rest.filter(is_data).select(
        *[
            (pl.col(f"c{j}") if f"c{j}" in rest.columns else pl.lit(None, dtype=pl.String)).alias(found[j])
            for j in positions
        ],
        pl.col("line").alias("excel_row"),
        pl.col("unreadable"),
    )
    skipped.sort(key=lambda d: d["excel_row"])
    if seen != height + data.height + len(skipped):
        raise AssertionError(
            f"row accounting broken in {where}: {seen} lines, {data.height} data, {len(skipped)} skipped"
        )
    if not data.height:
        error = InputError("có dòng tiêu đề nhưng không có dòng dữ liệu nào", file=where)
        if not tolerant:
            raise error
        return _Sheet(sheet, data, [], skipped, start + offset + 1, height, {}, [], refused=error)
    notes = [
        f"Tệp {where}: cột '{safe_excerpt(header)}' trùng nghĩa với một cột đã dùng ở bên trái nên không được đọc."
        for header in twice
    ]
    header_row = row_number(grid[start], offset + start)
    return _Sheet(
        name=sheet,
        data=data,
        notes=notes,
        skipped=skipped,
        header_row=header_row,
        header_rows=height,
        columns_found={
            found[j]: grid[start][j] if j < len(grid[start]) and grid[start][j] else None for j in positions
        },
        unmapped=unmapped,
    )


_NO_DATA = pl.DataFrame(schema={"excel_row": pl.Int64, "unreadable": pl.Boolean})


def _rows_frame(rows: Iterable[Sequence[str | None]], first: int) -> pl.DataFrame:
    """`sources.cells_frame` of rows read one by one (a worksheet's), numbered from index `first`."""
    rows = list(rows)
    texts = [c for cells in rows for c in cells if c]
    sep = next(ch for ch in ("\x1f", "\x1e", "\x1d", "\x1c", "\x00", "\ufdd0") if not any(ch in t for t in texts))
    return cells_frame(
        [sep.join(c or "" for c in cells) for cells in rows],
        [len(cells) for cells in rows],
        [row_number(cells, i) for i, cells in enumerate(rows, start=first)],
        [bool(getattr(cells, "unreadable", False)) for cells in rows],
        sep,
        strip=False,
    )


def _id_shaped(cell: pl.Expr, frame: pl.DataFrame) -> pl.Expr:
    """`lines.id_shaped` of a column: by a regex over ASCII values (Python's \\s and \\d on ASCII
    spelled out), by the function itself on the distinct other values."""
    ascii_ = cell.str.contains(r"^[\x00-\x7f]*$")
    others = frame.select(cell.filter(~ascii_).unique()).to_series().to_list()
    shaped = [v for v in others if id_shaped(v)]
    plain = cell.str.replace_all(r"[\t\n\x0b\x0c\r\x1c-\x1f .'`-]", "").str.contains(r"^(?:[0-9]{9}|[0-9]{11,12})$")
    return pl.when(ascii_).then(plain).otherwise(cell.is_in(shaped)).fill_null(False)


def _outcomes(
    rest: pl.DataFrame,
    id_positions: Sequence[int],
    dob_position: int | None,
    inner_reason: Callable[[Sequence[str | None]], str | None],
) -> tuple[pl.Series, pl.DataFrame]:
    """(whether each line is a data row, the other lines: line, reason and cells).

    The rule, line by line in order (what the streaming reader did): a blank line is skipped; a
    line with an ID-shaped value or a parseable date of birth ("protected") is data; from a
    signature line (`is_footer_line`) on, unprotected lines wait, and a later protected line turns
    them back into ordinary lines; lines still waiting at the end are the signature block; an
    ordinary unprotected line is skipped when `inner_reason` names a reason, else data. So only
    unprotected lines need Python: the signature block is the unprotected lines from the first
    signature line after the last protected line."""
    names = [c for c in rest.columns if c.startswith("c") and c[1:].isdigit()]
    cell = lambda j: pl.col(f"c{j}") if f"c{j}" in rest.columns else pl.lit(None, dtype=pl.String)  # noqa: E731
    blank = pl.all_horizontal([pl.col(c).is_null() for c in names]) if names else pl.lit(True)
    flags = rest.select(
        blank.alias("blank"),
        pl.any_horizontal([_id_shaped(cell(j), rest) for j in id_positions]).alias("id")
        if id_positions
        else pl.lit(False).alias("id"),
    )
    safe = flags["id"]
    if dob_position is not None:
        dob = rest.select(cell(dob_position)).to_series()
        asked = dob.filter(~flags["blank"] & ~safe).drop_nulls().unique().to_list()
        parsed = date_table(pl.Series(asked, dtype=pl.String)).filter(pl.col("year").is_not_null())["raw"]
        # a place-and-date line has letters ("Tân Phú, ngày 15 tháng 11 năm 2025"); ASCII without any cannot be one
        born = [v for v in parsed.to_list() if (v.isascii() and not re.search("[A-Za-z]", v)) or not is_place_date(v)]
        safe = safe | (dob.is_in(born).fill_null(False) & ~flags["blank"])
    blank = flags["blank"]
    unsafe = (~blank & ~safe).arg_true().to_list()
    protected = (~blank & safe).arg_true()
    last_safe = protected[-1] if protected.len() else -1
    cells = dict(zip(unsafe, rest.select(names)[unsafe].rows(), strict=True)) if names else {}

    def cells_of(i: int) -> tuple:
        return cells.get(i, ())

    reasons: dict[int, str] = {}
    footer_from = next((i for i in unsafe if i > last_safe and is_footer_line(cells_of(i))), None)
    for i in unsafe:
        if footer_from is not None and i >= footer_from:
            reasons[i] = "footer"
        elif (reason := inner_reason(cells_of(i))) is not None:
            reasons[i] = reason
    for i in blank.arg_true().to_list():
        reasons[i] = "blank"
    skipped_at = sorted(reasons)
    is_data = pl.Series("data", [True] * rest.height, dtype=pl.Boolean)
    if skipped_at:
        is_data = is_data.scatter(skipped_at, False)
    outcome = rest.select("line", *names)[skipped_at].with_columns(
        pl.Series("reason", [reasons[i] for i in skipped_at], dtype=pl.String)
    )
    return is_data, outcome


def read_table(
    path: Path,
    columns: Sequence[ColumnSpec],
    *,
    required: Sequence[str] | None = None,
    column_map: dict[str, str] | None = None,
    role: str = "registry",
) -> IngestResult:
    """Read one file into canonical text columns + source_file/source_row/excel_row.

    `required` defaults to the spec's required columns: a header row missing any of them is
    refused with the columns found and expected. In a workbook every worksheet whose header has
    the required columns is read (offices keep one sheet per commune, or a cover sheet first);
    other sheets are skipped with a note. When rows come from several sheets, `source_file`
    names the sheet too ("file.xlsx [Xã A]") so the officer knows where row N is. Lines that are
    not data are in `IngestResult.skipped` (→ warehouse `skipped_rows`), each with its reason."""
    path = Path(path)
    sheets, fmt, encoding, decoded = read_sheets(path)
    index = alias_index(columns, column_map)
    known = {c.name for c in columns}
    bad = sorted({v for v in (column_map or {}).values() if v not in known})
    if bad:
        raise InputError(f"tệp ánh xạ cột trỏ tới cột không có trong đặc tả: {', '.join(bad)}", file=path.name)
    need = list(required if required is not None else [c.name for c in columns if c.required])

    parts: list[_Sheet] = []
    for sheet, rows in sheets:
        part = _read_sheet(path, sheet, rows, columns, index, need, tolerant=len(sheets) > 1)
        if part is not None:
            parts.append(part)
    read = [p for p in parts if p.refused is None]
    refused = [p for p in parts if p.refused is not None]
    skipped_sheets = [sheet for sheet, _ in sheets if sheet not in {r.name for r in read}]
    if not read:
        if not refused:
            raise InputError("tệp rỗng, không có dữ liệu", file=path.name)
        raise InputError(
            f"không trang nào có dòng tiêu đề với các cột cần có (đã xem {len(sheets)} trang: "
            + ", ".join(f"'{s}'" for s, _ in sheets)
            + f"). Trang đầu tiên có dữ liệu: {refused[0].refused}",
            file=path.name,
        )

    several = len(read) > 1
    label = (lambda r: f"{path.name} [{r.name}]") if several else (lambda r: path.name)
    notes = [f"Tệp {path.name}: bỏ qua trang '{p.name}' (không có dòng tiêu đề với các cột cần có)." for p in refused]
    if several:
        notes.append(
            f"Tệp {path.name}: đọc {len(read)} trang: " + ", ".join(f"'{r.name}' ({r.rows} dòng)" for r in read) + "."
        )
    n = sum(r.rows for r in read)
    frame = pl.concat(
        [
            r.data.select(
                *[
                    (pl.col(c.name) if c.name in r.data.columns else pl.lit(None)).cast(pl.Utf8).alias(c.name)
                    for c in columns
                ],
                pl.lit(label(r), dtype=pl.Utf8).alias("source_file"),
                pl.col("excel_row").cast(pl.Int64),
                pl.col("unreadable"),
            )
            for r in read
        ],
        how="vertical",
    )
    frame = frame.with_columns(pl.int_range(1, n + 1, dtype=pl.Int64).alias("source_row")).select(
        *[c.name for c in columns], "source_file", "source_row", "excel_row", "unreadable"
    )
    if frame["unreadable"].any():
        frame = frame.with_columns(
            pl.when(pl.col("unreadable")).then(pl.lit(LINE_PROBLEM)).otherwise(None).cast(pl.Utf8).alias("line_problem")
        )
    frame = frame.drop("unreadable")
    skipped = pl.DataFrame(
        {
            "source_file": [
                f"{path.name} [{p.name}]" if (several or p.refused is not None) and p.name is not None else path.name
                for p in parts
                for _ in p.skipped
            ],
            "sheet": [d["sheet"] for p in parts for d in p.skipped],
            "excel_row": [d["excel_row"] for p in parts for d in p.skipped],
            "reason_code": [d["reason"] for p in parts for d in p.skipped],
            "reason": [SKIP_REASONS[d["reason"]] for p in parts for d in p.skipped],
            "text_masked": [d["text_masked"] for p in parts for d in p.skipped],
        },
        schema=SKIPPED_COLUMNS,
    )
    first = read[0]
    info = {
        "role": role,
        "path": str(path),
        "file": path.name,
        "sha256": sha256_file(path),
        "bytes": path.stat().st_size,
        "format": fmt,
        "encoding": encoding,
        "rows": n,
        "header_row": first.header_row,
        "header_rows": first.header_rows,
        "columns_found": first.columns_found,
        "unmapped_columns": first.unmapped,
        "dropped_rows": [
            {"excel_row": d["excel_row"], "reason": d["reason"], **({"sheet": d["sheet"]} if several else {})}
            for p in parts
            for d in p.skipped
        ],
    }
    if decoded is not None and decoded.runs and len({k for _, _, k in decoded.runs}) > 1:
        info["line_encodings"] = [{"first_line": a, "last_line": b, "encoding": k} for a, b, k in decoded.runs]
    if decoded is not None and decoded.unreadable:
        info["unreadable_lines"] = len(decoded.unreadable)
    if fmt in ("xlsx", "xls") and (several or skipped_sheets):
        info["sheets"] = [{"sheet": r.name, "rows": r.rows, "header_row": r.header_row} for r in read]
        info["sheets_skipped"] = skipped_sheets
    for r in read:
        where = path.name if r.name is None else f"{path.name}, trang '{r.name}'"
        notes += r.notes + skipped_notes(where, r.skipped, r.header_row, r.last_row)
    if decoded is not None:
        notes += encoding_notes(path.name, decoded)
    return IngestResult(frame=frame, info=info, notes=notes, skipped=skipped)


def read_csv_fast(path: Path, columns: Sequence[ColumnSpec], *, role: str = "population") -> IngestResult | None:
    """The same result as `read_table` for a plain UTF-8 CSV, parsed by polars; None when the file
    needs the forgiving path.

    Why: a CSDLQG extract has hundreds of thousands of rows, and Python's csv module took 11.9 s
    on 200,000 of them where polars takes 0.4 s. The header is found exactly as `read_table`
    finds it (same rows, same aliases); polars only reads the data rows, all as text. Anything
    this path does not reproduce row for row — another encoding, text not in NFC, a title row
    above the header or a two-row header, blank or "Tổng cộng" rows, values spanning lines,
    ragged rows — returns None and the caller falls back to `read_table`, so the result (values,
    `source_row`, `excel_row`, notes) never depends on which path read the file."""
    path = Path(path)
    if path.suffix.lower() != ".csv" or not path.exists() or path.stat().st_size == 0:
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None  # Windows-1258 or legacy font bytes: the forgiving path decodes them
    if not unicodedata.is_normalized("NFC", text):
        return None
    head = text[:20000]
    lines = head.splitlines()[: HEADER_SCAN_ROWS + 2]
    delimiter = sniff_delimiter(text)
    grid = [[v.strip() or None for v in row] for row in csv.reader(lines, delimiter=delimiter)]
    index = alias_index(columns)
    need = [c.name for c in columns if c.required]
    start, height, found = find_header(grid, columns, index)
    if start != 0 or height != 1 or len(grid) < 2 or any(n not in found.values() for n in need):
        return None
    # header facts (columns found, unmapped and repeated headers) from the same code as read_table
    sheet = _read_sheet(path, None, iter(grid[:2]), columns, index, need)
    if sheet is None or sheet.skipped:
        return None
    try:
        raw = pl.read_csv(
            io.BytesIO(text.encode("utf-8")),
            has_header=False,
            skip_rows=1,
            separator=delimiter,
            infer_schema=False,
            quote_char='"',
            truncate_ragged_lines=False,
        )
    except Exception:  # noqa: BLE001 - any parse problem: the forgiving path reports it properly
        return None
    records = text.count("\n") + (0 if text.endswith("\n") else 1) - 1
    if raw.height != records or raw.width <= sorted(found)[-1]:
        return None  # blank lines at the end, values spanning lines: not reproduced here
    encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
    return _fast_result(path, data, raw, found, sheet, columns, role, "csv", encoding)


def read_parquet_fast(path: Path, columns: Sequence[ColumnSpec], *, role: str = "population") -> IngestResult | None:
    """The same result as `read_table` for a Parquet file whose columns are all text (an extract
    written as text, as CSDLQG exports are), read by polars column by column; None otherwise.

    Why: the forgiving reader renders every cell through Python (`sources.cell_text`): 22.8 CPU-s
    for a 1,000,000-row extract. Like `read_csv_fast`, anything not reproduced row for row (other
    column types, text not in NFC, a header not in the column names, blank or totals rows) returns
    None and the caller falls back to `read_table`."""
    path = Path(path)
    if path.suffix.lower() != ".parquet" or not path.exists() or path.stat().st_size == 0:
        return None
    try:
        raw = pl.read_parquet(path)
    except Exception:  # noqa: BLE001 - a damaged file: the forgiving path reports it properly
        return None
    if raw.height == 0 or any(dtype != pl.String for dtype in raw.dtypes):
        return None
    nfc = all(_in_nfc(raw[c]) for c in raw.columns)
    if not nfc or any(not unicodedata.is_normalized("NFC", c) for c in raw.columns):
        return None
    first = raw.row(0)
    grid = [[c.strip() or None for c in raw.columns], [(v or "").strip() or None for v in first]]
    index = alias_index(columns)
    need = [c.name for c in columns if c.required]
    start, height, found = find_header(grid, columns, index)
    if start != 0 or height != 1 or any(n not in found.values() for n in need):
        return None
    sheet = _read_sheet(path, None, iter(grid), columns, index, need)
    if sheet is None or sheet.skipped:
        return None
    return _fast_result(path, None, raw, found, sheet, columns, role, "parquet", "parquet")


def _in_nfc(values: pl.Series) -> bool:
    """Whether every text of a column is in NFC: ASCII text always is, so only the distinct values
    with a wider character are normalized (1,000,000 rows of an extract: 0.8 CPU-s, was 5.1 for
    normalizing every cell)."""
    wide = values.filter(values.str.len_bytes() != values.str.len_chars()).unique()
    return wide.len() == 0 or bool((wide == wide.str.normalize("NFC")).all())


def _fast_result(
    path: Path,
    data: bytes | None,
    raw: pl.DataFrame,
    found: dict[int, str],
    sheet,
    columns: Sequence[ColumnSpec],
    role: str,
    fmt: str,
    encoding: str,
) -> IngestResult | None:
    """The IngestResult of a text table read whole by polars (header found by `read_table`'s own code);
    None when a row would be dropped or reported by the forgiving path (blank, totals). `data`: the
    file's bytes when already read (else hashed from disk in chunks: a 10M-row extract is GiBs)."""
    positions = sorted(found)
    frame = raw.select([pl.col(raw.columns[j]).str.strip_chars().replace("", None).alias(found[j]) for j in positions])
    # a blank row or a totals row anywhere: the forgiving path drops and reports it (every column
    # mapped: the cells are the frame's, no second stripped copy of the whole table)
    cells = frame if positions == list(range(raw.width)) else raw.select(pl.all().str.strip_chars().replace("", None))
    if cells.select(pl.all_horizontal(pl.all().is_null()).any()).item():
        return None
    first_filled = pl.coalesce(pl.all())
    totals = cells.select(first_filled.str.to_lowercase().str.contains(TOTALS_SCREEN).any()).item()
    if totals:
        return None
    n = frame.height
    frame = frame.select(
        [pl.col(c.name) if c.name in frame.columns else pl.lit(None, dtype=pl.Utf8).alias(c.name) for c in columns]
    ).with_columns(
        pl.lit(path.name).alias("source_file"),
        pl.int_range(1, n + 1, dtype=pl.Int64).alias("source_row"),
        pl.int_range(2, n + 2, dtype=pl.Int64).alias("excel_row"),
    )
    info = {
        "role": role,
        "path": str(path),
        "file": path.name,
        "sha256": hashlib.sha256(data).hexdigest() if data is not None else sha256_file(path),
        "bytes": len(data) if data is not None else path.stat().st_size,
        "format": fmt,
        "encoding": encoding,
        "rows": n,
        "header_row": sheet.header_row,
        "header_rows": sheet.header_rows,
        "columns_found": sheet.columns_found,
        "unmapped_columns": sheet.unmapped,
        "dropped_rows": [],
    }
    return IngestResult(frame=frame, info=info, notes=list(sheet.notes))
