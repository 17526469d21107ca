"""The action lists of a run, read from the warehouse (one named-CTE query per list).

Each list gives, for every row an officer must act on, where to fix it (source file and the
row number seen in Excel) and what to fix. The frames keep warehouse column names and raw
values; `excel.py` turns them into Vietnamese sheets and masks IDs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import polars as pl

from matching.sql import quote_identifier, quote_literal
from pipelines.foreigners import NOT_CSDLQG_SQL
from pipelines.labels import CHANGES_SHEET, REVIEW_SHEET, STATUS
from pipelines.spec import RegistrySpec
from pipelines.warehouse import rows_table_name


@dataclass(frozen=True)
class ActionList:
    code: str  # stable English code
    sheet: str  # Vietnamese sheet name, <= 31 characters
    title: str  # one-line explanation written above the table
    sql: str  # SELECT over the CTE `r` (registry rows of the run); binds $run_id


def _rows_cte(spec: RegistrySpec) -> str:
    """CTE `r`: the registry rows of the run with the fields every list shows."""

    def col(role: str | None = None, name: str | None = None, clean: bool = False) -> str:
        c = spec.role_column(role) if role else next((c for c in spec.columns if c.name == name), None)
        if c is None:
            return "NULL"
        # normalized first: a date at its own precision (shown dd/mm/yyyy like every other date)
        # and an ID with its Excel-lost leading zero restored (masked the same however typed)
        return (
            f"coalesce({quote_identifier(c.name + '_clean')}, {quote_identifier(c.name)})"
            if clean
            else quote_identifier(c.name)
        )

    return f"""r AS (
        SELECT source_file, source_row, excel_row,
               {col(name=spec.key_column)}::VARCHAR AS ma_ho_so,
               {col(role="ho_ten")}::VARCHAR AS ho_ten,
               {col(role="ngay_sinh", clean=True)}::VARCHAR AS ngay_sinh,
               {col(role="id", clean=True)}::VARCHAR AS so_giay_to
        FROM {quote_identifier(rows_table_name(spec.name))}
        WHERE run_id = $run_id
    )"""


def _label_sql(expr: str, table: dict[str, str]) -> str:
    """`expr`'s code shown with its Vietnamese label (the labels are this program's constants, quoted)."""
    whens = " ".join(f"WHEN {quote_literal(code)} THEN {quote_literal(text)}" for code, text in table.items())
    return f"(CASE {expr} {whens} ELSE {expr} END)"


ROW = "x.source_file, x.excel_row, x.source_row, x.owner_index, r.ma_ho_so, r.ho_ten, r.ngay_sinh, r.so_giay_to"


def action_lists(spec: RegistrySpec) -> list[ActionList]:
    lists = [
        ActionList(
            "mismatches",
            "Sai lệch",
            "Trường có giá trị khác với CSDLQG về dân cư (dòng đã liên kết). "
            "Sửa tại sổ gốc hoặc đề nghị cập nhật CSDLQG.",
            f"""SELECT {ROW}, x.so_dinh_danh, x.field, x.registry_value, x.csdlqg_value, x.kind, x.method
                FROM mismatches x LEFT JOIN r USING (source_file, source_row)
                WHERE x.run_id = $run_id ORDER BY x.source_row, x.owner_index, x.field""",
        ),
        ActionList(
            "missing_fields",
            "Thiếu thông tin",
            "Trường bắt buộc còn trống; "
            "cột 'Giá trị CSDLQG đề xuất' là giá trị có thể điền từ CSDLQG khi dòng đã liên kết.",
            f"""SELECT {ROW}, x.so_dinh_danh, x.field, x.csdlqg_value
                FROM missing_fields x LEFT JOIN r USING (source_file, source_row)
                WHERE x.run_id = $run_id ORDER BY x.source_row, x.owner_index, x.field""",
        ),
        ActionList(
            "duplicates",
            "Trùng lặp",
            "Dòng liệt kê lại cùng một người (hoặc cùng số hồ sơ) đã có ở dòng khác.",
            f"""SELECT {ROW}, x.so_dinh_danh, x.duplicate_of, first.excel_row AS duplicate_of_excel_row, x.basis
                FROM duplicates x LEFT JOIN r USING (source_file, source_row)
                LEFT JOIN r AS first ON first.source_file = x.source_file AND first.source_row = x.duplicate_of
                WHERE x.run_id = $run_id ORDER BY x.source_row, x.owner_index""",
        ),
    ]
    alert_sheets: list[tuple[str, str, tuple[str, ...], str]] = []
    if spec.alive_check:
        alert_sheets.append(
            (
                "dead_still_paid",
                "Đã chết vẫn hưởng",
                ("dead_still_paid",),
                "Người đã chết (theo CSDLQG hoặc sổ khai tử) vẫn có tên trong danh sách chi trả: "
                "dừng chi trả và thu hồi nếu cần.",
            )
        )
    if spec.death_column:
        alert_sheets.append(
            (
                "death_updates",
                "Khai tử chưa cập nhật",
                ("death_not_in_csdlqg", "death_date_differs"),
                "Đăng ký khai tử mà CSDLQG chưa ghi nhận người đã mất, hoặc ghi ngày mất khác.",
            )
        )
    alert_sheets.append(
        (
            "id_updates",
            "Cập nhật số định danh",
            ("suggested_id_update",),
            "Sổ còn ghi CMND 9 số; CSDLQG có số định danh cá nhân 12 số của cùng người.",
        )
    )
    for code, sheet, kinds, title in alert_sheets:
        kinds_sql = ", ".join("'" + k + "'" for k in kinds)  # fixed codes from this module, not input
        lists.append(
            ActionList(
                code,
                sheet,
                title,
                f"""SELECT {ROW}, x.so_dinh_danh, x.kind, x.severity, x.death_source, x.ngay_mat_csdlqg,
                           x.ngay_mat_khai_tu, x.old_value, x.new_value, x.message_vi
                    FROM alerts x LEFT JOIN r USING (source_file, source_row)
                    WHERE x.run_id = $run_id AND x.kind IN ({kinds_sql}) ORDER BY x.source_row, x.owner_index""",
            )
        )
    lists += [
        ActionList(
            "review",
            REVIEW_SHEET,
            "Có người gần giống trong CSDLQG nhưng chưa đủ chắc chắn; "
            "mỗi bản ghi liệt kê tối đa 3 người gần giống nhất. "
            "Ghi 'Đồng ý' vào dòng của đúng người, hoặc 'Bác bỏ' nếu không ai đúng, "
            "rồi nạp lại tệp bằng lệnh doisoat review.",
            f"""WITH review AS (         -- the records in question: a run has few next to its rows
                    SELECT source_row, owner_index FROM links WHERE run_id = $run_id AND status = 'review'
                ),
                prior AS (          -- the model's prior log2 odds: a candidate's weight starts here
                    SELECT coalesce(max(json_extract(model, '$.prior_log2_odds')::DOUBLE), 0) AS w
                    FROM match_models WHERE run_id = $run_id
                ),
                cand AS (           -- up to three candidates per review record, with their own score
                    SELECT source_row, owner_index, candidate_rank, pop_rec_id, any_value(so_dinh_danh) AS so_dinh_danh,
                           sum(coalesce(partial_weight, 0)) AS evidence_weight
                    FROM link_evidence SEMI JOIN review USING (source_row, owner_index)
                    WHERE run_id = $run_id AND candidate_rank <= 3
                    GROUP BY source_row, owner_index, candidate_rank, pop_rec_id
                ),
                earlier AS (        -- a question asked again: what was decided before, and why it is asked again
                    SELECT source_row, owner_index, so_dinh_danh, decision, state, from_run_id
                    FROM carried_decisions WHERE run_id = $run_id AND state <> 'applied'
                    QUALIFY row_number() OVER (PARTITION BY source_row, owner_index, so_dinh_danh
                                               ORDER BY decided_at DESC) = 1
                ),
                lines AS (          -- one line per (review record, candidate)
                    SELECT x.*, coalesce(c.candidate_rank, 1) AS candidate_rank,
                           coalesce(c.pop_rec_id, x.pop_rec_id) AS candidate_pop,
                           coalesce(c.so_dinh_danh, x.so_dinh_danh) AS candidate_sdd,
                           CASE WHEN c.pop_rec_id IS NULL THEN x.match_weight
                                ELSE (SELECT w FROM prior) + c.evidence_weight END AS candidate_weight
                    FROM links x
                    LEFT JOIN cand c ON c.source_row = x.source_row AND c.owner_index = x.owner_index
                    WHERE x.run_id = $run_id AND x.status = 'review'
                ),
                pop AS (            -- the candidates' CSDLQG rows (not the whole extract)
                    SELECT p.pop_rec_id, p.ho_ten, coalesce(p.ngay_sinh_clean, p.ngay_sinh) AS ngay_sinh
                    FROM population p JOIN runs ON runs.population_sha256 = p.extract_sha256
                    WHERE runs.run_id = $run_id AND p.pop_rec_id IN (SELECT candidate_pop FROM lines)
                )
                SELECT {ROW}, x.candidate_rank, x.candidate_sdd AS so_dinh_danh,
                       pop.ho_ten AS candidate_ho_ten, pop.ngay_sinh AS candidate_ngay_sinh,
                       1 / (1 + pow(2, -x.candidate_weight)) AS match_probability, x.candidate_weight AS match_weight,
                       CASE WHEN d.decision = 'reject' THEN 'reject'
                            WHEN d.decision = 'accept' AND coalesce(d.pop_rec_id, x.pop_rec_id) = x.candidate_pop
                            THEN 'accept' END AS review_decision,
                       CASE WHEN d.decision = 'reject' AND x.candidate_rank = 1 THEN d.note
                            WHEN d.decision = 'accept' AND coalesce(d.pop_rec_id, x.pop_rec_id) = x.candidate_pop
                            THEN d.note END AS review_note,
                       x.source_row AS review_key, x.candidate_pop AS review_candidate,
                       e.decision AS earlier_decision, e.state AS earlier_state, e.from_run_id AS earlier_run_id
                FROM lines x LEFT JOIN r USING (source_file, source_row)
                LEFT JOIN earlier e     -- shown on the line of the person it was about
                  ON e.source_row = x.source_row AND e.owner_index = x.owner_index AND e.so_dinh_danh = x.candidate_sdd
                LEFT JOIN pop ON pop.pop_rec_id = x.candidate_pop
                LEFT JOIN review_decisions_latest d
                  ON d.run_id = x.run_id AND d.source_file = x.source_file
                 AND d.source_row = x.source_row AND d.owner_index = x.owner_index
                ORDER BY x.match_probability DESC, x.source_row, x.owner_index, x.candidate_rank""",
        ),
        ActionList(
            "not_found",
            "Không tìm thấy",
            "Không tìm thấy người tương ứng trong CSDLQG, hoặc dòng thiếu dữ liệu để đối soát: kiểm tra lại hồ sơ gốc.",
            f"""SELECT {ROW}, x.status, x.reason, x.match_probability
                FROM links_effective x LEFT JOIN r USING (source_file, source_row)
                WHERE x.run_id = $run_id AND x.status IN ('unmatched', 'rejected')
                  AND coalesce(x.entity, 'person') NOT IN {NOT_CSDLQG_SQL}
                ORDER BY x.source_row, x.owner_index""",
        ),
    ]
    lists.append(
        ActionList(
            "changes",
            CHANGES_SHEET,
            "Biến động so với lần chạy trước của sổ này: hồ sơ mới, không còn, được sửa; sai lệch và trường thiếu "
            "đã sửa hoặc mới; người mới phát hiện đã chết vẫn hưởng; kết quả liên kết thay đổi "
            "(hồ sơ nhận ra bằng mã hồ sơ, không theo số dòng).",
            f"""SELECT l.source_file, l.excel_row, x.source_row, x.owner_index,
                       coalesce(r.ma_ho_so, regexp_extract(x.record_key, '^k:(.*)#[0-9]+$', 1)) AS ma_ho_so,
                       r.ho_ten, r.ngay_sinh, r.so_giay_to,
                       x.change, x.field, x.previous_source_row,
                       {_label_sql("split_part(x.detail, ' → ', 1)", STATUS)} || ' → '
                       || {_label_sql("split_part(x.detail, ' → ', 2)", STATUS)} AS detail
                FROM changes x
                LEFT JOIN links l
                  ON l.run_id = x.run_id AND l.source_row = x.source_row AND l.owner_index = x.owner_index
                LEFT JOIN r ON r.source_file = l.source_file AND r.source_row = l.source_row
                WHERE x.run_id = $run_id
                ORDER BY x.change, x.source_row NULLS LAST, x.previous_source_row""",
        )
    )
    lists.append(
        ActionList(
            "population_issues",
            "Vấn đề trích xuất CSDLQG",
            "Dòng của trích xuất CSDLQG về dân cư có vấn đề "
            "(số định danh lặp lại, chữ số không khớp giới tính hoặc năm sinh, ngày mất trước ngày sinh): "
            "báo cho cơ quan quản lý CSDLQG; các dòng này vẫn được dùng để đối soát.",
            """SELECT x.excel_row AS population_excel_row, x.so_dinh_danh, x.issue, x.detail
                FROM population_issues x JOIN runs ON runs.population_sha256 = x.extract_sha256
                WHERE runs.run_id = $run_id ORDER BY x.pop_rec_id, x.issue""",
        )
    )
    return lists


def population_issue_counts(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """Issues of the run's CSDLQG extract: issue → rows (and distinct IDs), for report summaries."""
    return con.execute(
        """
        WITH extract AS (SELECT population_sha256 AS sha FROM runs WHERE run_id = $run_id)
        SELECT issue, count(DISTINCT pop_rec_id) AS rows, count(DISTINCT so_dinh_danh) AS ids
        FROM population_issues WHERE extract_sha256 = (SELECT sha FROM extract)
        GROUP BY issue ORDER BY issue
        """,
        {"run_id": run_id},
    ).pl()


def fetch(con: duckdb.DuckDBPyConnection, spec: RegistrySpec, action: ActionList, run_id: str) -> pl.DataFrame:
    sql = action.sql.strip()
    if sql.upper().startswith("WITH "):
        sql = f"WITH {_rows_cte(spec)}, " + sql[5:]
    else:
        sql = f"WITH {_rows_cte(spec)} " + sql
    return con.execute(sql, {"run_id": run_id}).pl()


def changes_of_run(con: duckdb.DuckDBPyConnection, run_id: str) -> pl.DataFrame:
    """The run's rows of the `changes` view (Biến động so với lần trước). The view compares whole
    runs before it is filtered — the costliest query of the reports, about 1 CPU-s at 100,000
    records — so `write_reports` evaluates it once for both reports, which read it through
    `standing_in`."""
    return con.execute("SELECT * FROM changes WHERE run_id = ?", [run_id]).pl()


@contextmanager
def standing_in(con: duckdb.DuckDBPyConnection, view: str, frame: pl.DataFrame | None) -> Iterator[None]:
    """Inside, the queries of `con` that name `view` read `frame` instead (None: the view itself).
    A frame registered on a connection is found before the warehouse's view of the same name
    (DuckDB looks in the connection's temporary objects first), so the queries keep their SQL."""
    if frame is None:
        yield
        return
    con.register(view, frame.to_arrow())
    try:
        yield
    finally:
        con.unregister(view)


def run_info(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    cur = con.execute("SELECT * FROM runs WHERE run_id = ?", [run_id])
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    return dict(zip(names, row)) if row else {}
