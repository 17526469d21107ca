"""Many rows of a streamed (constant_memory) xlsxwriter worksheet written as one block of XML.

Why: xlsxwriter spends about 20 µs of Python per cell (argument checks, a dict per row, XML
escaping and attribute formatting, one file write per cell); an action sheet of 100,000 rows has
more than a million cells, which made the workbook the slowest part of the reports. Here the cells
of whole columns are turned into the same XML xlsxwriter writes for them, with polars string
expressions (escaping included), and appended to the sheet's row file at once.

The output is the bytes xlsxwriter itself would have written for the same `write_string` /
`write_number` calls (tests/test_reports_edge.py compares the two sheets byte for byte):
`<row r="N">` with inline-string cells `<c r="B5" s="3" t="inlineStr"><is><t>…</t></is></c>` and
number cells `<c r="C5" s="4"><v>…</v></c>` (numbers as `{v:.16G}`), blank cells left out, a row
without any cell left out, format indices handed out in the order xlsxwriter would (row by row),
and the sheet's dimensions and streaming state updated as its write calls do. The rare text that
xlsxwriter escapes in Python (control characters, `_xHHHH_`, leading or trailing whitespace) is
escaped by xlsxwriter's own functions, value by value; a value that would take xlsxwriter's
other paths (a 16,384-character or longer string, which it may truncate; a `<r>…</r>` rich
string; a number that is NaN or infinite, which it refuses) and a worksheet that is not streaming
make `write_rows` return False without writing anything, and the caller writes cell by cell.
"""

from __future__ import annotations

import polars as pl
from xlsxwriter.utility import _preserve_whitespace, xl_col_to_name
from xlsxwriter.xmlwriter import XMLwriter

# Text xlsxwriter escapes in Python beyond & < >: control characters (and the characters Python's
# \s adds to Rust's), an existing _xHHHH_ escape, U+FFFE/U+FFFF, leading or trailing whitespace.
_NEEDS_PYTHON = r"[\x00-\x08\x0B-\x1F\x{FFFE}\x{FFFF}]|_x[0-9a-fA-F]{4}_|^\s|\s$"
# Text xlsxwriter writes by another path: a rich string, or one it may truncate.
_OTHER_PATH = r"^<r>"
_LONG = 16_383
_BLOCK_ROWS = 50_000  # rows turned into XML at a time: the text of one block is held in memory
_INT_EXACT = 10**15  # below this an integer's `{:.16G}` is its decimal digits


def _streaming(ws) -> bool:
    """The sheet writes rows to its temporary row file now (constant_memory, file open)."""
    return (
        getattr(ws, "constant_memory", False)
        and not getattr(ws, "row_data_fh_closed", True)
        and getattr(ws, "row_data_fh", None) is not None
        and ws.fh is ws.row_data_fh
    )


def _number_body(series: pl.Series) -> pl.Series | None:
    """`><v>{v:.16G}</v>` per number (null where blank); None when xlsxwriter would refuse one."""
    if series.dtype.is_float():
        if not series.drop_nulls().is_finite().all():
            return None
        texts = pl.Series([None if v is None else f"{v:.16G}" for v in series.to_list()], dtype=pl.String)
    elif series.dtype.is_integer():
        exact = series.cast(pl.String)
        big = (series.cast(pl.Float64).abs() >= _INT_EXACT).fill_null(False)
        texts = exact
        if big.any():  # `{:.16G}` of an integer goes through float: exponent notation
            texts = pl.Series(
                [f"{v:.16G}" if b else t for v, t, b in zip(series.to_list(), exact.to_list(), big.to_list())],
                dtype=pl.String,
            )
    else:
        return None
    return ("><v>" + texts + "</v>").rename("")


def _xlsxwriter_escape(text: str) -> str:
    """The inline string element of `text` escaped by xlsxwriter's own functions."""
    text = XMLwriter._escape_control_characters(text)
    preserve = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<t{preserve}>{text}</t>"


def _text_body(series: pl.Series) -> pl.Series | None:
    """` t="inlineStr"><is><t>…</t></is>` per text (null where blank or empty); None when a value
    would take another xlsxwriter path."""
    if series.dtype.is_float():  # shown as Python's str(v)
        series = pl.Series([None if v is None else str(v) for v in series.to_list()], dtype=pl.String)
    elif series.dtype.is_integer() or series.dtype == pl.Null:
        series = series.cast(pl.String)
    elif series.dtype != pl.String:
        return None
    series = series.replace("", None)
    if (series.str.len_chars() > _LONG).any() or series.str.contains(_OTHER_PATH).any():
        return None
    escaped = series
    if series.str.contains(r"[&<>]").any():
        escaped = escaped.str.replace_all("&", "&amp;", literal=True)
        escaped = escaped.str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True)
    inner = "<t>" + escaped + "</t>"
    special = series.str.contains(_NEEDS_PYTHON).fill_null(False)
    if special.any():
        fixed = [_xlsxwriter_escape(v) if s else None for v, s in zip(series.to_list(), special.to_list())]
        inner = pl.select(pl.when(special).then(pl.Series(fixed, dtype=pl.String)).otherwise(inner)).to_series()
    return (' t="inlineStr"><is>' + inner + "</is>").rename("")


def write_rows(ws, first_row: int, columns: list[pl.Series], number_formats: list, text_format) -> bool:
    """Write `columns` (equal length) as rows `first_row`… of the streamed worksheet `ws`, as
    `write_number(…, number_formats[j])` for a numeric column with a number format and
    `write_string(…, str(v), text_format)` otherwise would, blanks (null, "") left out.

    Returns False, having written nothing, when this worksheet or a value needs xlsxwriter's own
    cell-by-cell path. The rows above `first_row` must all be written already (streaming)."""
    if not _streaming(ws) or not columns or first_row <= ws.previous_row:
        return False
    bodies, formats = [], []
    for series, number_format in zip(columns, number_formats):
        numeric = series.dtype.is_numeric() and number_format is not None
        body = _number_body(series) if numeric else _text_body(series)
        if body is None:
            return False
        bodies.append(body)
        formats.append(number_format if numeric else text_format)
    cells = pl.DataFrame({f"c{j}": b for j, b in enumerate(bodies)})
    present = cells.select(pl.all().is_not_null())
    written = present.select(pl.any_horizontal(pl.all()).alias("any"))["any"]
    if not written.any():
        return True
    rows = written.arg_true()
    cols = [j for j in range(cells.width) if present[:, j].any()]
    # format indices as xlsxwriter hands them out: at a format's first cell, row by row
    first_cell = sorted((present[:, j].arg_true()[0], j) for j in cols)
    for _, j in first_cell:
        formats[j]._get_xf_index()
    # the sheet's state as its write calls leave it: dimensions, the row before flushed
    last = first_row + rows[-1]
    ws._check_dimensions(first_row + rows[0], cols[0])
    ws._check_dimensions(last, cols[-1])
    ws._write_single_row(last)
    row_number = pl.int_range(first_row + 1, first_row + 1 + cells.height, eager=True).cast(pl.String)
    for start in range(0, cells.height, _BLOCK_ROWS):
        block = cells.slice(start, _BLOCK_ROWS).with_columns(_r=row_number.slice(start, _BLOCK_ROWS))
        parts = [
            pl.concat_str(
                [
                    pl.lit(f'<c r="{xl_col_to_name(j)}'),
                    pl.col("_r"),
                    pl.lit(f'" s="{formats[j]._get_xf_index()}"'),
                    pl.col(f"c{j}"),
                ]
            )
            + "</c>"
            for j in cols
        ]
        xml = block.select(
            pl.when(pl.any_horizontal([pl.col(f"c{j}").is_not_null() for j in cols]))
            .then(
                pl.concat_str(
                    [pl.lit('<row r="'), pl.col("_r"), pl.lit('">'), *parts, pl.lit("</row>")], ignore_nulls=True
                )
            )
            .alias("xml")
        )["xml"]
        # as UTF-8 bytes, after the text the sheet's file holds so far: no str round trip
        ws.fh.flush()
        ws.fh.buffer.write(xml.str.join("").cast(pl.Binary).item() or b"")
    return True
