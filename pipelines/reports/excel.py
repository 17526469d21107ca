"""The officers' workbook: one .xlsx per registry per run, in Vietnamese.

Sheet "Tổng hợp" shows coverage against the Đề án 06 targets (whole registry and per
province) and the data checks; "Theo xã" the same per commune; then one sheet per action list
(queries.py), each row with the source file and the row number the officer sees in Excel so
it can be fixed at the source. Every identifier is written with `write_string` (text: the
leading zero of "001…" survives) and masked unless the user asked for unmasked output.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import duckdb
import polars as pl
import xlsxwriter

from pipelines import labels as L
from pipelines.foreigners import ENTITY as FOREIGNER
from pipelines.formats import dmy, vn_time
from pipelines.labels import (
    OWNER_HEADER,
    REVIEW_CANDIDATE_HEADER,
    REVIEW_DECISION_HEADER,
    REVIEW_KEY_HEADER,
    REVIEW_NOTE_HEADER,
    REVIEW_RUN_PREFIX,
    SOURCE_FILE_HEADER,
)
from pipelines.reports.masking import mask_account, mask_id, mask_ids
from pipelines.reports.queries import action_lists, fetch, run_info, standing_in
from pipelines.reports.sheet_rows import write_rows
from pipelines.spec import RegistrySpec

MAX_WIDTH = 60

# column -> (Vietnamese header, kind). kinds: text, id, int, pct, float, and label tables.
COLUMNS: dict[str, tuple[str, str]] = {
    "source_file": (SOURCE_FILE_HEADER, "text"),
    "excel_row": ("Dòng trong tệp", "int"),
    "owner_index": (OWNER_HEADER, "owner"),
    "ma_ho_so": ("Mã hồ sơ", "text"),
    "ho_ten": ("Họ và tên (trong sổ)", "text"),
    "ngay_sinh": ("Ngày sinh (trong sổ)", "date"),
    "so_giay_to": ("Số CCCD/CMND (trong sổ)", "id"),
    "so_dinh_danh": ("Số định danh trong CSDLQG", "id"),
    "field": ("Trường", "field"),
    "registry_value": ("Giá trị trong sổ", "value"),
    "csdlqg_value": ("Giá trị CSDLQG", "value"),
    "kind": ("Loại", "kind"),
    "duplicate_of_excel_row": ("Trùng với dòng", "int"),
    "basis": ("Căn cứ", "basis"),
    "severity": ("Mức độ", "severity"),
    "death_source": ("Nguồn ghi nhận", "death_source"),
    "ngay_mat_csdlqg": ("Ngày mất (CSDLQG)", "date"),
    "ngay_mat_khai_tu": ("Ngày mất (khai tử)", "date"),
    "old_value": ("Số cũ trong sổ", "id"),
    "new_value": ("Số định danh đề nghị", "id"),
    "message_vi": ("Ghi chú", "text"),
    "candidate_ho_ten": ("Họ tên người gần giống (CSDLQG)", "text"),
    "candidate_ngay_sinh": ("Ngày sinh người gần giống", "date"),
    "match_probability": ("Xác suất khớp", "pct"),
    "match_weight": ("Điểm khớp", "float"),
    "status": ("Tình trạng", "status"),
    "reason": ("Lý do", "problems"),
    # the review sheet's round trip (pipelines/review.py reads these headers back)
    "review_decision": (REVIEW_DECISION_HEADER, "decision"),
    "review_note": (REVIEW_NOTE_HEADER, "note"),
    "review_key": (REVIEW_KEY_HEADER, "key"),
    "review_candidate": (REVIEW_CANDIDATE_HEADER, "key"),
    "candidate_rank": ("Người gần giống thứ", "int"),
    # a question asked again (pipelines/decisions.py): the earlier decision beside it
    "earlier_decision": ("Quyết định trước đây", "earlier_decision"),
    "earlier_state": ("Vì sao hỏi lại", "carried_state"),
    "earlier_run_id": ("Quyết định ở lần chạy", "text"),
    "change": ("Biến động", "change"),
    "previous_source_row": ("Thứ tự dòng dữ liệu ở lần chạy trước", "int"),
    "method": ("Cách liên kết", "method"),
    "population_excel_row": ("Dòng trong tệp CSDLQG", "int"),
    "issue": ("Vấn đề", "population_issue"),
    "detail": ("Chi tiết", "text"),
}
HIDDEN = {"source_row", "duplicate_of"}
LABEL_TABLES = {
    "kind": {**L.MISMATCH_KIND, **L.ALERT},
    "basis": L.DUPLICATE_BASIS,
    "severity": L.SEVERITY,
    "death_source": L.DEATH_SOURCE,
    "status": L.STATUS,
    "method": L.METHOD,
    "population_issue": L.POPULATION_ISSUE,
    "earlier_decision": L.DECISION,
    "carried_state": L.CARRIED_STATE,
    "change": L.CHANGE,
}


class _Book:
    """xlsxwriter workbook with the few formats every sheet uses."""

    def __init__(self, target: Path | BinaryIO):
        # a file object (a commune's unmasked workbook, encrypted before it touches the disk) is
        # written in memory: xlsxwriter's default temporary files would hold the plaintext in /tmp.
        # A file on disk streams (constant_memory): each row goes to disk once the next begins, so
        # a 100,000-row sheet never holds its cells in memory; every sheet is therefore written top
        # to bottom, and a row's height is set before its cells (xlsxwriter ignores in_memory's
        # streaming for the small commune files, which is fine).
        in_memory = not isinstance(target, (str, Path))
        self.wb = xlsxwriter.Workbook(
            target if in_memory else str(target),
            {
                "strings_to_numbers": False,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "in_memory": in_memory,
                "constant_memory": not in_memory,
            },
        )
        self.head = self.wb.add_format(
            {
                "bold": True,
                "bg_color": "#1F4E79",
                "font_color": "#FFFFFF",
                "text_wrap": True,
                "valign": "top",
                "border": 1,
            }
        )
        self.title = self.wb.add_format({"bold": True, "font_size": 14})
        self.note = self.wb.add_format({"italic": True, "font_color": "#555555"})
        self.text = self.wb.add_format({"num_format": "@"})
        self.pct = self.wb.add_format({"num_format": "0.00%"})
        self.num = self.wb.add_format({"num_format": "#,##0"})
        self.dec = self.wb.add_format({"num_format": "0.00"})
        self.bad = self.wb.add_format({"num_format": "0.00%", "font_color": "#9C0006", "bg_color": "#FFC7CE"})
        self.good = self.wb.add_format({"num_format": "0.00%", "font_color": "#006100", "bg_color": "#C6EFCE"})
        self.unlocked = self.wb.add_format({"bg_color": "#FFF2CC", "num_format": "@"})  # cells officers fill in

    def table(self, ws, top: int, headers: list[str], rows: list[list], kinds: list[str], widths: list[int]) -> int:
        """Header at `top`, then rows; returns the next free row. Text is always write_string."""
        columns = [list(c) for c in zip(*rows)] if rows else [[] for _ in headers]
        return self.columns_table(ws, top, headers, columns, kinds, widths)

    def columns_table(
        self, ws, top: int, headers: list[str], columns: list, kinds: list[str], widths: list[int]
    ) -> int:
        """The same table from whole columns (an action sheet's frame, display values already
        made per column): widths come from each column's longest text, then the rows are streamed
        in order. Columns given as polars Series go to the sheet as one block of XML
        (sheet_rows.write_rows, the bytes xlsxwriter would write); otherwise, and where that
        block writer declines, the only per-cell work is xlsxwriter's own write call."""
        ws.set_row(top, 32)  # two lines: headers wrap instead of widening every column
        for j, h in enumerate(headers):
            ws.write_string(top, j, h, self.head)
            widths[j] = max(widths[j], min(MAX_WIDTH, max(len(w) for w in h.split()) + 2, len(h) + 2))
        for j, (values, kind) in enumerate(zip(columns, kinds)):
            widths[j] = max(widths[j], min(MAX_WIDTH, _longest_text(values, kind) + 2))
        number_format = {"int": self.num, "num": self.num, "pct": self.pct, "float": self.dec}
        formats = [number_format.get(k) for k in kinds]
        gap = [k == "pct_gap" for k in kinds]
        if (
            columns
            and not any(gap)
            and all(isinstance(c, pl.Series) for c in columns)
            and write_rows(ws, top + 1, columns, formats, self.text)
        ):
            return top + 1 + min(len(c) for c in columns)
        columns = [c.to_list() if isinstance(c, pl.Series) else c for c in columns]
        write_number, write_string, text = ws.write_number, ws.write_string, self.text
        n = 0
        for n, row in enumerate(zip(*columns), start=1):
            i = top + n
            for j, v in enumerate(row):
                if v is None or v == "":
                    continue  # a blank cell without a format is not written at all
                if isinstance(v, (int, float)) and (formats[j] is not None or gap[j]):
                    write_number(i, j, v, (self.bad if v > 1e-12 else self.good) if gap[j] else formats[j])
                else:
                    write_string(i, j, v if isinstance(v, str) else str(v), text)
        return top + 1 + n


NUMBER_TEXT = {"int": "{:,}", "num": "{:,}", "pct": "{:.2%}", "pct_gap": "{:.2%}", "float": "{:.2f}"}


def _longest_text(values: list | pl.Series, kind: str) -> int:
    """Length of the longest cell text of a column as Excel shows it (numbers with their format):
    the column's width. A numeric column needs only its extremes (the text grows with |v|)."""
    pattern = NUMBER_TEXT.get(kind)
    if isinstance(values, pl.Series):
        if values.dtype == pl.String:  # blanks ("" and null) count 0
            return int(values.str.len_chars().max() or 0)
        if values.dtype.is_integer() or (values.dtype.is_float() and pattern is not None):
            shown = values.drop_nulls()
            if shown.is_empty():
                return 0
            if pattern is None:
                return int(shown.cast(pl.String).str.len_chars().max())
            return max(len(pattern.format(v)) for v in (shown.min(), shown.max()))
        values = values.to_list()
    shown = [v for v in values if v is not None and v != ""]
    if not shown:
        return 0
    if pattern is None:
        return max(map(len, map(str, shown)))
    if all(isinstance(v, (int, float)) for v in shown):
        return max(len(pattern.format(v)) for v in (min(shown), max(shown)))
    return max(len(pattern.format(v)) if isinstance(v, (int, float)) else len(str(v)) for v in shown)


def _display(spec: RegistrySpec, col: str, kind: str, value, row: dict, unmasked: bool):
    """A warehouse value as the officer reads it (labels translated, IDs masked)."""
    if value is None:
        return None
    if kind == "id":
        return str(value) if unmasked else mask_id(str(value))
    if kind == "value":  # a mismatch/missing value is an ID when the field is an ID field
        shown = _value_shown(spec, row.get("field"), unmasked)
        if shown == "masked_id":
            return mask_id(str(value))
        if shown == "masked_account":
            return mask_account(str(value))
        if shown == "date":
            return dmy(str(value))
        return str(value)
    if kind == "field":
        return L.field_label(spec, value)
    if kind == "date":
        return dmy(str(value))
    if kind == "owner":
        return int(value) + 1
    if kind == "decision":
        return L.label(L.DECISION, value)
    if kind == "key":
        return int(value)
    if kind == "problems":
        return L.problems_vi(value)
    if kind in LABEL_TABLES:
        return L.label(LABEL_TABLES[kind], value)
    return value


# kinds shown as the warehouse holds them (numbers, text): no conversion
AS_STORED = {"int", "pct", "float", "text", "note"}


def _display_column(spec: RegistrySpec, frame: pl.DataFrame, col: str, kind: str, unmasked: bool) -> pl.Series:
    """One column of an action sheet as the officer reads it, made per distinct value: `_display`
    runs once for each distinct (field, value) — an ID, a date, a label code — and the result is
    joined back, so a 100,000-row sheet costs as many Python calls as it has distinct values."""
    series = frame[col]
    if kind in AS_STORED:
        return series
    if kind == "owner":
        return series.cast(pl.Int64) + 1
    if kind == "key":
        return series.cast(pl.Int64)
    if kind == "id" and series.dtype == pl.String:  # IDs are mostly distinct: masked as a column
        return series if unmasked else mask_ids(series)
    keys = [c for c in ("field",) if kind == "value" and c in frame.columns] + [col]
    values = frame.select(keys)
    if kind == "value" and keys[0] == "field" and series.dtype == pl.String:
        # a mismatch/missing value: IDs masked and text kept for whole fields at once, dates and
        # account numbers per distinct value
        shown = frame["field"].replace_strict(
            {f: _value_shown(spec, f, unmasked) for f in frame["field"].unique().drop_nulls().to_list()},
            default=_value_shown(spec, None, unmasked),
            return_dtype=pl.String,
        )
        per_value = shown.is_in(["masked_id", "text"]).not_()
        rest = _per_distinct(spec, values.filter(per_value), col, kind, unmasked) if per_value.any() else None
        result = pl.select(
            pl.when(shown == "masked_id").then(mask_ids(series)).when(shown == "text").then(series).alias(col)
        ).to_series()
        if rest is not None:
            result = result.scatter(per_value.arg_true(), rest)
        return result
    return _per_distinct(spec, values, col, kind, unmasked)


def _per_distinct(spec: RegistrySpec, values: pl.DataFrame, col: str, kind: str, unmasked: bool) -> pl.Series:
    """`_display` of `col` (with the other columns of `values` as its row) once per distinct
    value, joined back in the order of `values`."""
    keys = values.columns
    distinct = values.unique().filter(pl.col(col).is_not_null())
    shown = [_display(spec, col, kind, rec[col], rec, unmasked) for rec in distinct.iter_rows(named=True)]
    distinct = distinct.with_columns(pl.Series("_shown", shown, dtype=pl.String))
    return values.join(distinct, on=keys, how="left", nulls_equal=False, maintain_order="left")["_shown"].rename(col)


def _value_shown(spec: RegistrySpec, field: str | None, unmasked: bool) -> str:
    """How a mismatch's or missing field's value of `field` is shown: "masked_id",
    "masked_account", "date" (dd/mm/yyyy) or "text" (as stored)."""
    if L.is_id_field(spec, field) and not unmasked:
        return "masked_id"
    if spec.payment and field == spec.payment.account_column and not unmasked:
        return "masked_account"
    if _is_date_field(spec, field):
        return "date"
    return "text"


def _is_date_field(spec: RegistrySpec, field: str | None) -> bool:
    return any((c.name == field or c.role == field) and c.kind in ("date", "year") for c in spec.columns)


def _out_kind(kind: str) -> str:
    return {"int": "int", "owner": "int", "key": "int", "pct": "pct", "float": "float"}.get(kind, "text")


# The "Thiếu thông tin" sheet suggests CSDLQG values; a masked suggested ID cannot be copied, so
# the masked (province) workbook says where the value is.
MASKED_SUGGESTION_NOTE = (
    " Số định danh đề xuất đã được che: giá trị đầy đủ nằm trong sổ Excel riêng của xã (tạo bằng "
    "doisoat ... --by-commune, mở bằng mật khẩu) hoặc tra cứu trên CSDLQG theo họ tên và ngày sinh của dòng."
)


# Data rows one sheet can hold: Excel's 1,048,576 rows less the 4 above the table. A longer list
# goes on in "<sheet> (2)", "<sheet> (3)"… (xlsxwriter would silently drop rows past the limit).
MAX_SHEET_ROWS = 1_048_576 - 4


def _action_sheet(
    book: _Book,
    spec: RegistrySpec,
    sheet: str,
    title: str,
    frame: pl.DataFrame,
    unmasked: bool,
    run_id: str,
    part: int = 0,
    total: int | None = None,
) -> None:
    """One action sheet, or part `part` (from 0) of a list of `total` rows too long for one sheet."""
    name = sheet if part == 0 else f"{sheet} ({part + 1})"
    ws = book.wb.add_worksheet(name)
    cols = [c for c in frame.columns if c not in HIDDEN and not (c == "owner_index" and not spec.owner_split)]
    headers = [COLUMNS.get(c, (c, "text"))[0] for c in cols]
    kinds = [COLUMNS.get(c, (c, "text"))[1] for c in cols]
    ws.write_string(0, 0, f"{name} — {spec.title_vi}", book.title)
    if sheet == "Thiếu thông tin" and not unmasked and any(L.is_id_field(spec, f) for f in frame["field"].to_list()):
        title += MASKED_SUGGESTION_NOTE
    count = f"Số dòng: {frame.height:,}."
    if total is not None and total > MAX_SHEET_ROWS:
        first, parts = part * MAX_SHEET_ROWS + 1, -(-total // MAX_SHEET_ROWS)
        count = (
            f"Số dòng: {total:,}, quá sức chứa của một trang Excel nên chia thành {parts} trang "
            f"('{sheet}', '{sheet} (2)'…); trang này: dòng {first:,}–{first + frame.height - 1:,}."
        )
    ws.write_string(1, 0, f"{title} {count}", book.note)
    ws.write_string(2, 0, f"{REVIEW_RUN_PREFIX}{run_id}", book.note)  # doisoat review finds the run here
    columns = [_display_column(spec, frame, c, k, unmasked) for c, k in zip(cols, kinds)]
    widths = [8] * len(cols)
    header_row = 3
    end = book.columns_table(ws, header_row, headers, columns, [_out_kind(k) for k in kinds], widths)
    for j, (w, kind) in enumerate(zip(widths, kinds)):
        if kind == "key":  # the row key doisoat review reads back: hidden, not for editing
            ws.set_column(j, j, w, None, {"hidden": True})
        elif kind == "decision":
            ws.set_column(j, j, max(w, 16), book.unlocked)
            ws.data_validation(
                header_row + 1,
                j,
                max(end - 1, header_row + 1),
                j,
                {
                    "validate": "list",
                    "source": list(L.DECISION.values()),
                    "input_title": "Quyết định",
                    "input_message": "Đồng ý: cùng một người. Bác bỏ: không phải người này.",
                },
            )
        elif kind == "note":
            ws.set_column(j, j, max(w, 30), book.unlocked)
        else:
            ws.set_column(j, j, w)
    ws.freeze_panes(header_row + 1, 0)
    ws.autofilter(header_row, 0, max(end - 1, header_row), max(len(cols) - 1, 0))
    ws.repeat_rows(header_row)
    _print_setup(ws)


def _summary_sheet(
    book: _Book,
    spec: RegistrySpec,
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    coverage: pl.DataFrame,
    unmasked: bool,
    scope: str | None = None,
) -> None:
    ws = book.wb.add_worksheet("Tổng hợp")
    info = run_info(con, run_id)
    ws.write_string(0, 0, f"Kết quả đối soát: {spec.title_vi} với CSDLQG về dân cư (Đề án 06)", book.title)
    files = info.get("input_files")
    files = json.loads(files) if isinstance(files, str) else (files or [])
    started = info.get("started_at")
    lines = [
        f"Mã lần chạy: {run_id}",
        f"Thời gian: {vn_time(started)}",
        "Tệp đầu vào: " + "; ".join(f"{f.get('file') or f.get('path')} ({f.get('rows', '?')} dòng)" for f in files),
        "Số định danh trong báo cáo: "
        + ("KHÔNG che (theo yêu cầu --unmasked)" if unmasked else "đã che một phần để bảo vệ dữ liệu cá nhân"),
    ]
    if scope:
        lines[-1] = (
            f"Sổ riêng của {scope}: chỉ gồm các dòng của đơn vị này; số định danh KHÔNG che để xã sửa danh sách. "
            "Tệp được mã hoá bằng mật khẩu; không chuyển tiếp, không lưu bản không mật khẩu."
        )
    orgs = con.execute(
        "SELECT count(*) FROM links_effective WHERE run_id = ? AND entity = 'organization'", [run_id]
    ).fetchone()[0]
    if orgs:
        lines.append(
            f"Tổ chức (không phải cá nhân, không đối soát với CSDLQG, không tính vào các tỷ lệ dưới đây): "
            f"{orgs:,} bản ghi"
        )
    aliens = con.execute(
        "SELECT count(*) FROM links_effective WHERE run_id = ? AND entity = ?", [run_id, FOREIGNER]
    ).fetchone()[0]
    if aliens:
        lines.append(
            f"Người nước ngoài (CSDLQG về dân cư không có, không đối soát, không tính vào các tỷ lệ dưới đây): "
            f"{aliens:,} bản ghi"
        )
    notes = info.get("notes")
    lines += [f"Lưu ý: {n}" for n in (json.loads(notes) if isinstance(notes, str) else (notes or []))]
    for i, line in enumerate(lines, start=1):
        ws.write_string(i, 0, line, book.note)

    widths = [34, 14, 14, 14, 14, 14]
    top = len(lines) + 2
    ws.write_string(top, 0, "Tỷ lệ so với mục tiêu Đề án 06 (toàn sổ)", book.title)
    headers = ["Chỉ tiêu", "Tỷ lệ đạt", "Mục tiêu", "Còn thiếu", "Số bản ghi đạt", "Tổng số bản ghi"]
    kinds = ["text", "pct", "pct", "pct_gap", "int", "int"]
    overall = coverage.filter(pl.col("level") == "all")
    rows = [
        [L.label(L.METRIC, r["metric"]), r["value"], r["target"], r["gap"], r["numerator"], r["denominator"]]
        for r in overall.iter_rows(named=True)
    ]
    top = book.table(ws, top + 1, headers, rows, kinds, widths) + 2

    ws.write_string(
        top,
        0,
        "Theo tỉnh/thành phố (tỷ lệ đạt; mục tiêu 100 %, riêng trùng lặp và đã chết vẫn hưởng là 0 %)",
        book.title,
    )
    headers, kinds, rows = _wide(coverage, "province", ["Tỉnh/thành phố"])
    widths += [12] * max(0, len(headers) - len(widths))
    top = book.table(ws, top + 1, headers, [r[1:] for r in rows], kinds, widths) + 2

    checks = con.execute(
        'SELECT "column", element_count, unexpected_count, unexpected_rate, success, details '
        'FROM expectation_results WHERE run_id = ? ORDER BY suite, "column"',
        [run_id],
    ).pl()
    ws.write_string(top, 0, "Kiểm tra chất lượng dữ liệu (Great Expectations)", book.title)
    rows = []
    for r in checks.iter_rows(named=True):
        check = (json.loads(r["details"]) if r["details"] else {}).get("check")
        rows.append(
            [
                L.label(L.CHECKS, check) if check else "",
                L.column_label(spec, r["column"]),
                r["element_count"],
                r["unexpected_count"],
                r["unexpected_rate"],
                "Đạt" if r["success"] else "Không đạt",
            ]
        )
    book.table(
        ws,
        top + 1,
        ["Kiểm tra", "Cột", "Số giá trị", "Số lỗi", "Tỷ lệ lỗi", "Kết quả"],
        rows,
        ["text", "text", "int", "int", "pct", "text"],
        widths,
    )
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    _print_setup(ws)


def _wide(coverage: pl.DataFrame, level: str, unit_headers: list[str]) -> tuple[list[str], list[str], list[list]]:
    """Coverage of one level as one row per unit: [code, name, records, share per metric]."""
    units = coverage.filter(pl.col("level") == level)
    metrics = list(dict.fromkeys(units["metric"].to_list()))
    headers = unit_headers + ["Tổng số bản ghi"] + [L.label(L.METRIC, m) for m in metrics]
    kinds = ["text"] * len(unit_headers) + ["int"] + ["pct"] * len(metrics)
    rows = []
    for (ma, ten), grp in units.group_by(["ma_don_vi", "ten_don_vi"], maintain_order=True):
        values = dict(zip(grp["metric"], grp["value"]))
        rows.append([ma, ten, grp["denominator"][0]] + [values.get(m) for m in metrics])
    return headers, kinds, rows


def _commune_sheet(book: _Book, spec: RegistrySpec, coverage: pl.DataFrame) -> None:
    ws = book.wb.add_worksheet("Theo xã")
    ws.write_string(0, 0, f"Tỷ lệ theo xã/phường — {spec.title_vi}", book.title)
    headers, kinds, rows = _wide(coverage, "commune", ["Mã xã", "Xã/phường"])
    widths = [8] * len(headers)
    end = book.table(ws, 2, headers, rows, kinds, widths)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(3, 2)
    ws.autofilter(2, 0, max(end - 1, 2), len(headers) - 1)
    _print_setup(ws)


SKIPPED_SHEET = "Dòng không phải dữ liệu"


def _skipped_sheet(book: _Book, spec: RegistrySpec, con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """Every input line that is not a data row, with its reason: the officer sees nothing was
    thrown away (with the data rows in `links`, every line of the file has exactly one outcome)."""
    rows = con.execute(
        "SELECT source_file, sheet, excel_row, reason, text_masked FROM skipped_rows WHERE run_id = ? "
        "ORDER BY source_file, excel_row",
        [run_id],
    ).fetchall()
    ws = book.wb.add_worksheet(SKIPPED_SHEET)
    ws.write_string(0, 0, f"{SKIPPED_SHEET} — {spec.title_vi}", book.title)
    ws.write_string(
        1,
        0,
        f"Các dòng của tệp không phải dòng dữ liệu (tiêu đề, dòng trống, tổng cộng, chữ ký/cuối biểu…), "
        f"không đưa vào đối soát. Số dòng: {len(rows):,}. Nội dung đã che số và tên.",
        book.note,
    )
    widths = [24, 16, 8, 28, 60]
    book.table(
        ws,
        3,
        ["Tệp", "Trang", "Dòng", "Lý do", "Nội dung (đã che)"],
        [list(r) for r in rows],
        ["text", "text", "int", "text", "text"],
        widths,
    )
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(4, 0)
    _print_setup(ws)
    return len(rows)


def _print_setup(ws) -> None:
    """Officers print these lists: landscape A4, all columns on one page width."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)


def write_workbook(
    con: duckdb.DuckDBPyConnection,
    spec: RegistrySpec,
    run_id: str,
    coverage: pl.DataFrame,
    path: Path | BinaryIO,
    unmasked: bool = False,
    keep: pl.DataFrame | None = None,
    scope: str | None = None,
    changes: Callable[[], pl.DataFrame] | None = None,
) -> dict[str, int]:
    """Write the workbook; returns rows written per action sheet (for logs and tests).

    `keep` (source_file, source_row) limits every action sheet to those rows and `scope` names the
    unit they belong to: a commune's own workbook (commune_files.py). `changes` gives the run's
    rows of the `changes` view when they are computed once for several reports
    (queries.changes_of_run); without it the sheet queries the view."""
    if isinstance(path, Path):
        path.parent.mkdir(parents=True, exist_ok=True)
    book = _Book(path)
    counts: dict[str, int] = {}
    try:
        _summary_sheet(book, spec, con, run_id, coverage, unmasked, scope)
        _commune_sheet(book, spec, coverage)
        for action in action_lists(spec):
            with standing_in(con, "changes", changes() if changes and action.code == "changes" else None):
                frame = fetch(con, spec, action, run_id)
            if keep is not None:
                if "source_row" not in frame.columns:
                    continue  # about the CSDLQG extract, not about any commune's rows
                frame = frame.join(keep, on=["source_file", "source_row"], how="semi")
            for part, first in enumerate(range(0, max(frame.height, 1), MAX_SHEET_ROWS)):
                _action_sheet(
                    book,
                    spec,
                    action.sheet,
                    action.title,
                    frame.slice(first, MAX_SHEET_ROWS),
                    unmasked,
                    run_id,
                    part,
                    frame.height,
                )
            counts[action.sheet] = frame.height
        if keep is None:  # lines that are not data belong to the file, not to a commune
            counts[SKIPPED_SHEET] = _skipped_sheet(book, spec, con, run_id)
    finally:
        book.wb.close()
    return counts
