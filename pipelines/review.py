"""Reviewers' decisions: the "Cần xem xét" sheet goes to the commune, comes back filled in,
and `doisoat review WORKBOOK --db D --reviewer NAME` records what was decided.

Why a round trip through the workbook: officers decide with the record in front of them, in
Excel, not in a database. The sheet carries the run id (a note line above the table) and a
hidden row key (source_row); an officer writes "Đồng ý" (same person) or "Bác bỏ" (not this
person) in the decision column and may add a note.

What importing does, in one transaction:
1. every filled decision is checked against the run's `links` (the row must be a review link of
   that run); a bad value or an unknown row is refused with the workbook's row and column, and
   nothing is written;
2. decisions go to `review_decisions` (history kept: re-importing changes the latest decision,
   an identical decision is not recorded twice), with the reviewer, time and the workbook's hash;
3. the run's findings (mismatches, missing fields, duplicates, alerts) and coverage are
   recomputed from `links_effective` — an accepted candidate is checked like any match (a dead
   person accepted by a reviewer is still an alert) — while `links` keeps what the matcher said.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from matching.normalize.fold import compact_key
from matching.sql import quote_identifier
from pipelines.errors import DamagedFileError, InputError, safe_excerpt
from pipelines.findings import findings
from pipelines.findings.alerts import registered_deaths
from pipelines.findings.coverage import coverage_frame
from pipelines.ingest import check_workbook, sha256_file
from pipelines.labels import (
    OWNER_HEADER,
    REVIEW_CANDIDATE_HEADER,
    REVIEW_DECISION_HEADER,
    REVIEW_KEY_HEADER,
    REVIEW_NOTE_HEADER,
    REVIEW_RUN_PREFIX,
    REVIEW_SHEET,
    SOURCE_FILE_HEADER,
)
from pipelines.registries import spec_of_run
from pipelines.warehouse import TABLES, insert_frame, rows_table_name, transaction

FINDING_TABLES = ("mismatches", "missing_fields", "duplicates", "alerts")


# What officers write, folded like headers (matching.normalize.fold.compact_key: no accents, case,
# spaces or punctuation).
# Anything else is refused, never guessed.
ACCEPT = {"dongy", "dung", "chapnhan", "xacnhan", "cungmotnguoi", "accept", "yes", "y", "co"}
REJECT = {"bacbo", "sai", "khong", "khongdongy", "khongphai", "khongphainguoinay", "reject", "no", "n"}


def parse_decision(value: object) -> str | None:
    """'Đồng ý' → accept, 'Bác bỏ' → reject, empty → None; ValueError for anything else."""
    if value is None or not str(value).strip():
        return None
    folded = compact_key(value)
    if folded in ACCEPT:
        return "accept"
    if folded in REJECT:
        return "reject"
    raise ValueError(value)


@dataclass(frozen=True)
class Decision:
    excel_line: int  # row number in the workbook, for error messages
    source_file: str
    source_row: int
    owner_index: int
    decision: str
    note: str | None
    pop_rec_id: int | None = None  # accept: the chosen candidate; None = the review link's best one


@dataclass(frozen=True)
class ReviewSheet:
    run_id: str
    decisions: list[Decision]
    rows: int  # review records in the sheet, decided or not


def read_review_sheet(path: Path) -> ReviewSheet:
    """The filled "Cần xem xét" sheet of a doisoat workbook → the decisions written in it."""
    import openpyxl  # lazy: 1.0 s of import under load (0.3 s idle), only `doisoat review` reads a workbook

    name = path.name
    if not path.exists():
        raise InputError("không tìm thấy tệp.", file=name)
    if path.is_dir() or path.stat().st_size == 0:
        raise InputError("tệp rỗng hoặc là thư mục; cần sổ .xlsx do doisoat tạo.", file=name)
    check_workbook(path)  # password, HTML page, text, old .xls: said as such
    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # not an xlsx, or damaged
        raise DamagedFileError(
            f"không đọc được tệp Excel ({type(exc).__name__}); cần sổ .xlsx do doisoat tạo.", file=name
        ) from None
    try:
        if REVIEW_SHEET not in wb.sheetnames:
            raise InputError(f"không có trang '{REVIEW_SHEET}' (các trang có: {', '.join(wb.sheetnames)}).", file=name)
        lines = []
        try:
            for r in wb[REVIEW_SHEET].iter_rows(values_only=True):
                lines.append(list(r))
        except Exception as exc:  # broken sheet XML
            raise DamagedFileError(
                f"nội dung trang bị hỏng, không đọc tiếp được ({type(exc).__name__}); hãy mở bằng Excel và lưu lại.",
                file=name,
                sheet=REVIEW_SHEET,
                row=len(lines) + 1,
            ) from None
    finally:
        wb.close()

    run_id, header_at = None, None
    for i, line in enumerate(lines[:20]):
        cells = [str(c).strip() if c is not None else "" for c in line]
        for c in cells:
            if c.startswith(REVIEW_RUN_PREFIX):
                run_id = c[len(REVIEW_RUN_PREFIX) :].strip()
        if REVIEW_DECISION_HEADER in cells:
            header_at = i
            break
    if run_id is None:
        raise InputError(
            f"không thấy dòng '{REVIEW_RUN_PREFIX}…' phía trên bảng: tệp không phải sổ do doisoat tạo.", file=name
        )
    if header_at is None:
        raise InputError(f"không thấy cột '{REVIEW_DECISION_HEADER}' trong trang '{REVIEW_SHEET}'.", file=name)
    header = [str(c).strip() if c is not None else "" for c in lines[header_at]]
    col = {h: j for j, h in enumerate(header) if h}
    for needed in (SOURCE_FILE_HEADER, REVIEW_KEY_HEADER):
        if needed not in col:
            raise InputError(f"thiếu cột '{needed}' (đừng xoá cột ẩn của trang).", file=name, column=needed)

    # one line per (record, candidate): gather the lines of each record, then decide per record
    records: dict[tuple[str, int, int], list[tuple[int, str | None, int | None, str | None]]] = {}
    for i, line in enumerate(lines[header_at + 1 :], start=header_at + 2):

        def get(header: str, line: list = line) -> str | None:
            return line[col[header]] if header in col and col[header] < len(line) else None

        key, source_file = get(REVIEW_KEY_HEADER), get(SOURCE_FILE_HEADER)
        if key is None and source_file is None:
            continue  # blank line below the table
        try:
            decision = parse_decision(get(REVIEW_DECISION_HEADER))
        except ValueError:
            raise InputError(
                f"quyết định '{safe_excerpt(get(REVIEW_DECISION_HEADER), 20)}' không hợp lệ: "
                "ghi 'Đồng ý' hoặc 'Bác bỏ' (hoặc để trống).",
                file=name,
                row=i,
                column=REVIEW_DECISION_HEADER,
            ) from None
        try:
            source_row = int(float(str(key)))
            owner = (
                int(float(str(get(OWNER_HEADER)))) - 1 if OWNER_HEADER in col and get(OWNER_HEADER) is not None else 0
            )
            cand = get(REVIEW_CANDIDATE_HEADER)
            candidate = int(float(str(cand))) if cand is not None else None
        except ValueError:
            raise InputError(
                "mã dòng không hợp lệ (cột ẩn đã bị sửa).", file=name, row=i, column=REVIEW_KEY_HEADER
            ) from None
        note = get(REVIEW_NOTE_HEADER)
        note = str(note).strip() if note is not None and str(note).strip() else None
        records.setdefault((str(source_file), source_row, owner), []).append((i, decision, candidate, note))

    decisions: list[Decision] = []
    for (source_file, source_row, owner), found in records.items():
        accepted = [f for f in found if f[1] == "accept"]
        rejected = [f for f in found if f[1] == "reject"]
        if len(accepted) > 1:
            raise InputError(
                "hai người gần giống cùng được 'Đồng ý' cho một bản ghi: chỉ chọn một người.",
                file=name,
                row=accepted[1][0],
                column=REVIEW_DECISION_HEADER,
            )
        note = next((f[3] for f in accepted + rejected + found if f[3]), None)
        if accepted:  # the chosen candidate, even when other lines of the record say Bác bỏ
            line, _, candidate, _ = accepted[0]
            decisions.append(Decision(line, source_file, source_row, owner, "accept", note, candidate))
        elif rejected:  # nobody accepted: the record is not any of the listed people
            decisions.append(Decision(rejected[0][0], source_file, source_row, owner, "reject", note, None))
    rows = len(records)
    return ReviewSheet(run_id=run_id, decisions=decisions, rows=rows)


def record_decisions(
    con: duckdb.DuckDBPyConnection, sheet: ReviewSheet, reviewer: str, workbook: Path
) -> dict[str, int]:
    """Check the decisions against the run, write the new ones and recompute the run's findings.

    Returns counts: decided (in the sheet), recorded (new), unchanged, accept, reject, pending."""
    name = workbook.name
    run = con.execute("SELECT registry, status FROM runs WHERE run_id = ?", [sheet.run_id]).fetchone()
    if run is None:
        raise InputError(f"lần chạy '{sheet.run_id}' không có trong kho dữ liệu này (--db).", file=name)
    registry = run[0]
    frame = pl.DataFrame(
        {
            "excel_line": [d.excel_line for d in sheet.decisions],
            "source_file": [d.source_file for d in sheet.decisions],
            "source_row": [d.source_row for d in sheet.decisions],
            "owner_index": [d.owner_index for d in sheet.decisions],
            "decision": [d.decision for d in sheet.decisions],
            "note": [d.note for d in sheet.decisions],
            "candidate": [d.pop_rec_id for d in sheet.decisions],
        },
        schema={
            "excel_line": pl.Int64,
            "source_file": pl.Utf8,
            "source_row": pl.Int64,
            "owner_index": pl.Int16,
            "decision": pl.Utf8,
            "note": pl.Utf8,
            "candidate": pl.Int64,
        },
    )
    dup = frame.filter(pl.struct("source_file", "source_row", "owner_index").is_duplicated())
    if dup.height:
        raise InputError("cùng một bản ghi có hai quyết định.", file=name, row=int(dup["excel_line"][1]))
    con.register("_sheet_decisions", frame.to_arrow())
    try:
        checked = con.execute(
            """
            WITH candidates AS (     -- who a review record may be: its compared candidates and its best one
                SELECT source_row, owner_index, pop_rec_id, any_value(so_dinh_danh) AS so_dinh_danh
                FROM link_evidence WHERE run_id = $run_id GROUP BY ALL
                UNION
                SELECT source_row, owner_index, pop_rec_id, so_dinh_danh
                FROM links WHERE run_id = $run_id AND status = 'review' AND pop_rec_id IS NOT NULL
            ),
            resolved AS (
                SELECT s.*, l.status AS link_status, l.so_dinh_danh AS best_sdd,
                       CASE WHEN s.decision = 'accept' THEN coalesce(s.candidate, l.pop_rec_id) END AS pop_rec_id
                FROM _sheet_decisions s
                LEFT JOIN links l
                  ON l.run_id = $run_id AND l.source_file = s.source_file AND l.source_row = s.source_row
                 AND l.owner_index = s.owner_index
            )
            SELECT r.*, c.so_dinh_danh AS chosen_sdd,
                   CASE WHEN r.decision = 'accept' THEN c.so_dinh_danh ELSE r.best_sdd END AS so_dinh_danh,
                   (r.decision = 'accept' AND c.pop_rec_id IS NULL) AS unknown_candidate,
                   (p.decision IS NOT DISTINCT FROM r.decision AND p.note IS NOT DISTINCT FROM r.note
                    AND p.pop_rec_id IS NOT DISTINCT FROM r.pop_rec_id) AS unchanged
            FROM resolved r
            LEFT JOIN candidates c
              ON c.source_row = r.source_row AND c.owner_index = r.owner_index AND c.pop_rec_id = r.pop_rec_id
            LEFT JOIN review_decisions_latest p
              ON p.run_id = $run_id AND p.source_file = r.source_file AND p.source_row = r.source_row
                 AND p.owner_index = r.owner_index
            ORDER BY r.excel_line
            """,
            {"run_id": sheet.run_id},
        ).pl()
    finally:
        con.unregister("_sheet_decisions")
    unknown = checked.filter(pl.col("link_status").is_null() | (pl.col("link_status") != "review"))
    if unknown.height:
        raise InputError(
            f"dòng này không phải bản ghi cần xem xét của lần chạy {sheet.run_id} ({unknown.height} dòng như vậy); "
            "hãy dùng đúng sổ Excel của lần chạy đó.",
            file=name,
            row=int(unknown["excel_line"][0]),
            column=REVIEW_KEY_HEADER,
        )
    stray = checked.filter(pl.col("unknown_candidate").fill_null(False))
    if stray.height:
        raise InputError(
            "người gần giống này không thuộc bản ghi (cột ẩn đã bị sửa hoặc dòng bị chép sang bản ghi khác).",
            file=name,
            row=int(stray["excel_line"][0]),
            column=REVIEW_CANDIDATE_HEADER,
        )
    new = checked.filter(~pl.col("unchanged").fill_null(False)).select(
        pl.lit(sheet.run_id).alias("run_id"),
        pl.lit(registry).alias("registry"),
        "source_file",
        "source_row",
        "owner_index",
        "so_dinh_danh",
        pl.lit(reviewer).alias("reviewer"),
        "decision",
        "note",
        pl.lit(name).alias("decision_file"),
        pl.lit(sha256_file(workbook)).alias("decision_file_sha256"),
        "pop_rec_id",
    )
    with transaction(con):
        if new.height:
            con.register("_new_decisions", new.to_arrow())
            try:
                con.execute(
                    """
                    INSERT INTO review_decisions (run_id, registry, source_file, source_row, owner_index,
                                                  so_dinh_danh, reviewer, decision, decided_at, note,
                                                  decision_file, decision_file_sha256,
                                                  pop_rec_id)
                    SELECT run_id, registry, source_file, source_row, owner_index, so_dinh_danh,
                           reviewer, decision, now(), note, decision_file, decision_file_sha256, pop_rec_id
                    FROM _new_decisions
                    """
                )
            finally:
                con.unregister("_new_decisions")
        recompute_findings(con, sheet.run_id, registry)
    effective = dict(
        con.execute(
            "SELECT coalesce(review_decision, 'pending'), count(*) FROM links_effective "
            "WHERE run_id = ? AND (review_decision IS NOT NULL OR status = 'review') GROUP BY 1",
            [sheet.run_id],
        ).fetchall()
    )
    return {
        "sheet_rows": sheet.rows,
        "decided": frame.height,
        "recorded": new.height,
        "unchanged": frame.height - new.height,
        "accept": int(effective.get("accept", 0)),
        "reject": int(effective.get("reject", 0)),
        "pending": int(effective.get("pending", 0)),
    }


def recompute_findings(con: duckdb.DuckDBPyConnection, run_id: str, registry: str) -> None:
    """Replace the run's finding tables and coverage with ones computed from `links_effective`.

    Runs inside the caller's transaction. Reads only the warehouse: the run's stored rows and
    person records, the CSDLQG extract it used, and the latest registered deaths."""
    spec = spec_of_run(con, run_id)
    table = quote_identifier(rows_table_name(registry))
    rows = con.execute(f"SELECT * EXCLUDE (run_id) FROM {table} WHERE run_id = ?", [run_id]).pl()
    persons = con.execute("SELECT * EXCLUDE (run_id, registry) FROM registry_persons WHERE run_id = ?", [run_id]).pl()
    population = con.execute(
        """SELECT p.* EXCLUDE (extract_sha256, run_id) FROM population p
           JOIN runs ON runs.population_sha256 = p.extract_sha256 WHERE runs.run_id = ?""",
        [run_id],
    ).pl()
    links = con.execute(
        "SELECT * EXCLUDE (review_decision, reviewer, decided_at) FROM links_effective WHERE run_id = ?", [run_id]
    ).pl()
    found = findings(spec, links, persons, rows, population, registered_deaths(con))
    for name in FINDING_TABLES + ("coverage",):
        con.execute(f'DELETE FROM "{name}" WHERE run_id = ?', [run_id])
    for name, frame in found.items():
        if frame is None or frame.height == 0:
            continue
        frame = frame.drop("run_id", "registry", strict=False).with_columns(
            pl.lit(run_id).alias("run_id"), pl.lit(registry).alias("registry")
        )
        insert_frame(con, name, frame.select([c for c in TABLES[name].column_names if c in frame.columns]))
    insert_frame(con, "coverage", coverage_frame(con, run_id, spec))
