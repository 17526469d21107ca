"""The DuckDB warehouse: one file analysts query, written by one transaction per run.

Why a declared schema: validation, reports and analysts read these tables by name, so the
column lists live here as data (`TABLES`), each table and column with a Vietnamese-readable
English comment emitted as `COMMENT ON`. `<registry>_rows` tables are generated from the
registry's spec (one raw + one clean column per spec column), so a registry added by spec gets
its table without code here.

Write discipline: a run inserts every result table inside a single BEGIN … COMMIT that also
sets its `runs` row to `succeeded`; any error rolls it back and the previous runs stay exactly as
they were. The `runs` row is written before (status `running`, with pid and host) outside that
transaction, so a failed run is still visible as `failed` with its error message, and a killed one
is marked failed at the next open (`mark_interrupted_runs`). Every command opens the warehouse
through `connect` (encryption key, spill folder) and holds `<db>.lock` (`exclusive`, `session`).
"""

from __future__ import annotations

import atexit
import fcntl
import importlib.util
import json
import logging
import os
import shutil
import socket
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import polars as pl

from matching.sql import quote_identifier, quote_literal
from pipelines.errors import DoisoatError, WarehouseError
from pipelines.progress import VN_TZ  # the one home of the officers' time zone
from pipelines.spec import RegistrySpec

Column = tuple[str, str, str]  # name, DuckDB type, comment


@dataclass(frozen=True)
class Table:
    name: str
    comment: str
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c[0] for c in self.columns)


RUN_ID: Column = ("run_id", "VARCHAR", "Run identifier (runs.run_id) that wrote this row")
REGISTRY: Column = ("registry", "VARCHAR", "Registry name: social_welfare, pension, civil_births, civil_deaths, land")
SOURCE_FILE: Column = ("source_file", "VARCHAR", "Input file name the row came from")
SOURCE_ROW: Column = ("source_row", "BIGINT", "1 = first data row under the header, counting every data row (rejected ones included)")
EXCEL_ROW: Column = ("excel_row", "BIGINT", "Row number the officer sees in Excel or a text editor (header and title rows counted)")
OWNER_INDEX: Column = ("owner_index", "SMALLINT", "Person within the row: 0, or 1 for the second owner of a land certificate")
SO_DINH_DANH: Column = ("so_dinh_danh", "VARCHAR", "12-digit personal ID of the linked CSDLQG person; NULL when not linked")

ROW_KEY = (RUN_ID, REGISTRY, SOURCE_FILE, SOURCE_ROW, EXCEL_ROW, OWNER_INDEX)

LINK_STATUSES = ("matched", "review", "unmatched", "rejected", "duplicate")

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "runs",
            "Run ledger: one row per pipeline run (also failed ones), with inputs, settings and outcome counts",
            (
                ("run_id", "VARCHAR", "Run identifier: registry, UTC start time and a short random suffix"),
                REGISTRY,
                ("started_at", "TIMESTAMPTZ", "When the run started (UTC)"),
                ("finished_at", "TIMESTAMPTZ", "When the run finished or failed (UTC); NULL while running"),
                ("status", "VARCHAR", "running, succeeded or failed"),
                ("error", "VARCHAR", "Error message of a failed run (no personal data)"),
                ("input_files", "JSON", "List of {role, path, file, sha256, bytes, format, encoding, rows, dropped_rows (lines that are not data), line_encodings}"),
                ("population_sha256", "VARCHAR", "SHA-256 of the CSDLQG extract used (population.extract_sha256)"),
                ("parameters", "JSON", "Run parameters and the full registry spec (thresholds, comparisons)"),
                ("package_versions", "JSON", "Versions of doisoat and its main dependencies"),
                ("row_counts", "JSON", "Input rows and outcome counts: {input_rows, persons, matched, review, unmatched, rejected, duplicate, ...}"),
                ("notes", "JSON", "Ingestion notes shown to officers: lines that are not data, how each range of lines was decoded, legacy encodings"),
                ("pid", "INTEGER", "Process id of the run: a 'running' row whose process is gone is marked failed at the next open"),
                ("hostname", "VARCHAR", "Machine the run ran on (with pid, tells a crashed run from a live one)"),
            ),
        ),
        Table(
            "population",
            "Normalized CSDLQG extract, cached per extract SHA-256 (normalized once, reused by later runs)",
            (
                ("extract_sha256", "VARCHAR", "SHA-256 of the extract file; the cache key"),
                ("run_id", "VARCHAR", "Run that first loaded this extract"),
                ("pop_rec_id", "BIGINT", "Row number in the extract (1 = first data row); the matcher's population rec_id"),
                EXCEL_ROW,
                ("so_dinh_danh", "VARCHAR", "12-digit personal ID"),
                ("so_cmnd_cu", "VARCHAR", "Old 9-digit CMND, when CSDLQG keeps one"),
                ("ho_ten", "VARCHAR", "Full name as in the extract"),
                ("ho_ten_clean", "VARCHAR", "Canonical display name (NFC, one tone style, Title Case)"),
                ("ngay_sinh", "VARCHAR", "Date of birth as in the extract"),
                ("ngay_sinh_clean", "VARCHAR", "Date of birth yyyy-mm-dd / yyyy-mm / yyyy"),
                ("gioi_tinh", "VARCHAR", "Sex: Nam / Nữ"),
                ("ho_ten_cha", "VARCHAR", "Father's name"),
                ("ho_ten_me", "VARCHAR", "Mother's name"),
                ("ma_tinh", "VARCHAR", "Current (2025) province code of permanent residence"),
                ("ten_tinh", "VARCHAR", "Province name"),
                ("ma_xa", "VARCHAR", "Current (2025) commune/ward code of permanent residence"),
                ("ten_xa", "VARCHAR", "Commune/ward name"),
                ("dia_chi_thuong_tru", "VARCHAR", "Permanent residence address text"),
                ("ma_ho", "VARCHAR", "Household code"),
                ("ngay_mat", "VARCHAR", "Date of death as in the extract; empty when alive"),
                ("ngay_mat_clean", "VARCHAR", "Date of death yyyy-mm-dd / yyyy-mm / yyyy; NULL when alive"),
                ("ho_ten_key", "VARCHAR", "Person schema: accent-free lower-case name key"),
                ("ho_ten_key_nomid", "VARCHAR", "Person schema: name key without standalone thi/van"),
                ("ho_key", "VARCHAR", "Person schema: surname key (regional variants folded)"),
                ("ten_key", "VARCHAR", "Person schema: given-name key"),
                ("ngay_sinh_year", "SMALLINT", "Person schema: birth year"),
                ("ngay_sinh_month", "SMALLINT", "Person schema: birth month"),
                ("ngay_sinh_day", "SMALLINT", "Person schema: birth day"),
                ("ngay_sinh_precision", "VARCHAR", "Person schema: day, month or year"),
                ("gioi_tinh_clean", "VARCHAR", "Person schema: Nam / Nữ"),
                ("id12", "VARCHAR", "Person schema: so_dinh_danh"),
                ("cmnd9", "VARCHAR", "Person schema: so_cmnd_cu"),
                ("ho_ten_cha_key", "VARCHAR", "Person schema: father's name key"),
                ("ho_ten_me_key", "VARCHAR", "Person schema: mother's name key"),
            ),
        ),
        Table(
            "registry_persons",
            "Person-schema records built from registry rows (what the matcher compared); land rows may give two",
            (
                RUN_ID, REGISTRY,
                ("rec_id", "BIGINT", "source_row * 10 + owner_index"),
                SOURCE_ROW, OWNER_INDEX,
                ("entity", "VARCHAR", "person, couple, household or organization (land); person otherwise"),
                ("ho_ten", "VARCHAR", "Canonical display name"),
                ("ho_ten_key", "VARCHAR", "Accent-free lower-case name key"),
                ("ho_ten_key_nomid", "VARCHAR", "Name key without standalone thi/van"),
                ("ho_key", "VARCHAR", "Surname key (regional variants folded)"),
                ("ten_key", "VARCHAR", "Given-name key"),
                ("ngay_sinh_year", "SMALLINT", "Birth year"),
                ("ngay_sinh_month", "SMALLINT", "Birth month; NULL beyond the precision"),
                ("ngay_sinh_day", "SMALLINT", "Birth day; NULL beyond the precision"),
                ("ngay_sinh_precision", "VARCHAR", "day, month or year"),
                ("gioi_tinh", "VARCHAR", "Nam / Nữ / NULL"),
                ("id12", "VARCHAR", "12-digit ID given in the row (CCCD or 12-digit CMND)"),
                ("cmnd9", "VARCHAR", "9-digit CMND given in the row"),
                ("ma_tinh", "VARCHAR", "Current province code of the row's address; NULL when unknown/ambiguous"),
                ("ma_xa", "VARCHAR", "Current commune code of the row's address; NULL when unknown/ambiguous"),
                ("ho_ten_cha_key", "VARCHAR", "Father's name key (births)"),
                ("ho_ten_me_key", "VARCHAR", "Mother's name key (births)"),
            ),
        ),
        Table(
            "links",
            "One row per registry person record: its outcome (exactly one of matched, review, unmatched, rejected, duplicate)",
            ROW_KEY
            + (
                ("rec_id", "BIGINT", "source_row * 10 + owner_index"),
                ("pop_rec_id", "BIGINT", "population.pop_rec_id of the linked (or best review) candidate"),
                SO_DINH_DANH,
                ("status", "VARCHAR", "matched, review, unmatched, rejected or duplicate"),
                ("method", "VARCHAR", "How the outcome was reached: id_exact, cmnd9, id_one_edit, probabilistic, none, organization, rejected, ..."),
                ("match_weight", "DOUBLE", "Fellegi-Sunter log2 Bayes factor of the pair; NULL for deterministic links"),
                ("match_probability", "DOUBLE", "Posterior match probability 0..1 (1.0 for deterministic ID links)"),
                ("duplicate_of", "BIGINT", "For status duplicate: source_row of the first row listing the same person"),
                ("entity", "VARCHAR", "person or organization (organizations are not matched: status unmatched, method organization)"),
                ("reason", "VARCHAR", "Why a row was rejected or not matched (problem codes), NULL otherwise"),
            ),
        ),
        Table(
            "skipped_rows",
            "Input lines that are not data rows (title, blank, totals, signature block, repeated header), one row per line "
            "with its reason: with `links` every line of the input has exactly one recorded outcome",
            (
                RUN_ID, REGISTRY,
                ("source_file", "VARCHAR", "Input file name (with the sheet in brackets when several sheets were read)"),
                ("sheet", "VARCHAR", "Worksheet name; NULL for CSV and Parquet"),
                EXCEL_ROW,
                ("reason_code", "VARCHAR", "above_header, blank, totals, footer, repeated_header, column_numbers or other_sheet"),
                ("reason", "VARCHAR", "The reason in Vietnamese, as shown to officers"),
                ("text_masked", "VARCHAR", "The line's text without personal data: digits as #, words other than form labels as …"),
            ),
        ),
        Table(
            "link_evidence",
            "Per-comparison evidence for every kept candidate pair: which level each comparison reached and its weight",
            (
                RUN_ID, REGISTRY, SOURCE_ROW, OWNER_INDEX,
                ("rec_id", "BIGINT", "Registry rec_id"),
                ("pop_rec_id", "BIGINT", "Candidate population.pop_rec_id"),
                ("so_dinh_danh", "VARCHAR", "Candidate's personal ID"),
                ("candidate_rank", "SMALLINT", "1 = best candidate of the record"),
                ("comparison", "VARCHAR", "Comparison name: ho_ten, ngay_sinh, gioi_tinh, id, dia_chi, ho_ten_cha, ho_ten_me"),
                ("level", "VARCHAR", "Level label reached, e.g. exact, accent_free, jw_0.92, different, null"),
                ("partial_weight", "DOUBLE", "log2(m/u) of that level"),
            ),
        ),
        Table(
            "mismatches",
            "Fields where a linked registry row disagrees with CSDLQG (đúng)",
            ROW_KEY
            + (
                SO_DINH_DANH,
                ("field", "VARCHAR", "Canonical registry column (or person role) that disagrees"),
                ("registry_value", "VARCHAR", "Value in the registry (clean form)"),
                ("csdlqg_value", "VARCHAR", "Value CSDLQG holds"),
                ("kind", "VARCHAR", "value (plain difference), residence (different commune/province), format, id (12-digit ID differs from so_dinh_danh), cmnd9 (9-digit CMND differs from so_cmnd_cu)"),
                ("method", "VARCHAR", "How the row was linked (links_effective.method): id_exact, cmnd9, id_one_edit, probabilistic, household, review_accepted"),
            ),
        ),
        Table(
            "missing_fields",
            "Required fields empty in the registry, with the value CSDLQG could supply when the row is linked (đủ)",
            ROW_KEY
            + (
                SO_DINH_DANH,
                ("field", "VARCHAR", "Canonical column that is empty"),
                ("csdlqg_value", "VARCHAR", "Value CSDLQG holds for the linked person; NULL when it cannot supply one"),
            ),
        ),
        Table(
            "duplicates",
            "Rows that list the same person (or the same registry key) again (sạch)",
            ROW_KEY
            + (
                SO_DINH_DANH,
                ("duplicate_of", "BIGINT", "source_row of the first row"),
                ("basis", "VARCHAR", "same_person (linked to the same CSDLQG person) or same_key (same registry record number)"),
            ),
        ),
        Table(
            "alerts",
            "Cross-registry alerts (sống): dead persons still paid, deaths CSDLQG has not recorded, suggested ID updates",
            ROW_KEY
            + (
                SO_DINH_DANH,
                ("kind", "VARCHAR", "dead_still_paid, death_not_in_csdlqg, death_date_differs, suggested_id_update"),
                ("severity", "VARCHAR", "high, medium or low"),
                ("death_source", "VARCHAR", "csdlqg or civil_deaths: where the death is recorded"),
                ("ngay_mat_csdlqg", "VARCHAR", "Date of death in CSDLQG (yyyy-mm-dd), when recorded"),
                ("ngay_mat_khai_tu", "VARCHAR", "Date of death in the civil-status death registration, when registered"),
                ("old_value", "VARCHAR", "suggested_id_update: the 9-digit CMND in the registry"),
                ("new_value", "VARCHAR", "suggested_id_update: the 12-digit ID CSDLQG holds"),
                ("message_vi", "VARCHAR", "Vietnamese explanation for the officer"),
            ),
        ),
        Table(
            "population_issues",
            "Problems found in the CSDLQG extract itself (repeated so_dinh_danh, ID digits against sex or birth year, death before birth), one row per (extract row, issue); cached per extract SHA-256 like population",
            (
                ("extract_sha256", "VARCHAR", "SHA-256 of the extract file (population.extract_sha256)"),
                ("run_id", "VARCHAR", "Run that first loaded this extract"),
                ("pop_rec_id", "BIGINT", "population.pop_rec_id of the row (1 = first data row)"),
                EXCEL_ROW,
                ("so_dinh_danh", "VARCHAR", "The row's so_dinh_danh (reports mask it)"),
                ("issue", "VARCHAR", "duplicate_id, id_sex_mismatch, id_birth_year_mismatch, death_before_birth, id_invalid"),
                ("detail", "VARCHAR", "Codes or row numbers only, never names: e.g. the other rows with the same so_dinh_danh"),
            ),
        ),
        Table(
            "coverage",
            "Coverage against Đề án 06 targets per registry and administrative unit",
            (
                RUN_ID, REGISTRY,
                ("level", "VARCHAR", "all, province or commune"),
                ("ma_don_vi", "VARCHAR", "Unit code (ma_tinh or ma_xa); NULL for level all or unknown unit"),
                ("ten_don_vi", "VARCHAR", "Unit name"),
                ("metric", "VARCHAR", "linked, verified, complete, paid_by_account, ..."),
                ("numerator", "BIGINT", "Rows meeting the metric"),
                ("denominator", "BIGINT", "Rows counted"),
                ("value", "DOUBLE", "numerator / denominator, 0..1"),
                ("target", "DOUBLE", "Đề án 06 target 0..1"),
                ("gap", "DOUBLE", "target - value (positive = still to do)"),
            ),
        ),
        Table(
            "expectation_results",
            "Great Expectations results of the registry's validation suite",
            (
                RUN_ID, REGISTRY,
                ("suite", "VARCHAR", "Suite name"),
                ("expectation", "VARCHAR", "Expectation type, e.g. expect_column_values_to_not_be_null"),
                ("column", "VARCHAR", "Column checked"),
                ("element_count", "BIGINT", "Rows checked"),
                ("unexpected_count", "BIGINT", "Rows failing"),
                ("unexpected_rate", "DOUBLE", "unexpected_count / element_count"),
                ("success", "BOOLEAN", "Whether the expectation passed"),
                ("details", "JSON", "Expectation kwargs (no row values)"),
            ),
        ),
        Table(
            "review_decisions",
            "Reviewer decisions on review-status links, read back from the officers' workbook (history kept; the latest counts)",
            (
                RUN_ID, REGISTRY, SOURCE_FILE, SOURCE_ROW, OWNER_INDEX,
                ("so_dinh_danh", "VARCHAR", "accept: the candidate the reviewer chose; reject: the review link's best candidate"),
                ("reviewer", "VARCHAR", "Who decided (doisoat review --reviewer)"),
                ("decision", "VARCHAR", "accept (same person) or reject (not this person)"),
                ("decided_at", "TIMESTAMPTZ", "When the decision was imported (UTC)"),
                ("note", "VARCHAR", "Reviewer's note from the workbook"),
                ("decision_file", "VARCHAR", "Workbook the decision was read from"),
                ("decision_file_sha256", "VARCHAR", "SHA-256 of that workbook"),
                ("pop_rec_id", "BIGINT", "accept: population.pop_rec_id of the chosen candidate (any of the listed ones, not only the best); NULL for reject"),
            ),
        ),
        Table(
            "match_models",
            "The trained matching model and settings of each run (auditable: which model linked a row)",
            (
                RUN_ID, REGISTRY,
                ("model", "JSON", "m/u probabilities per comparison level, lambda, term frequencies used"),
                ("settings", "JSON", "Comparisons, blocking rules, thresholds"),
                ("blocking", "JSON", "Pairs generated per blocking rule"),
            ),
        ),
    )
}


# Views analysts and reports read. `links` keeps what the matcher decided (the audit record);
# `links_effective` is the outcome after reviewers' decisions: an accepted review candidate is
# matched — to the candidate the reviewer chose, which may be a runner-up — (or a duplicate when
# the person is already matched by an earlier row), a rejected one
# is unmatched with reason review_rejected. Without decisions the view equals `links`.
REVIEW_DECISIONS_LATEST_SQL = """
SELECT * FROM review_decisions
QUALIFY row_number() OVER (PARTITION BY run_id, source_file, source_row, owner_index ORDER BY decided_at DESC) = 1
"""

#
# Both joins are pure equi-joins; whether a decision applies (a `review` link) or the first listing
# matters (an accepted decision) is decided in the CASEs. A condition on the preserved side in the
# ON clause of a LEFT JOIN (`l.status = 'review' AND ...`) made DuckDB fall back to a nested-loop
# join: 84 s for one count over a 100,000-row run (every report reads this view).
LINKS_EFFECTIVE_SQL = """
WITH joined AS (
    SELECT l.*, d.decision, d.reviewer AS d_reviewer, d.decided_at AS d_decided_at,
           d.pop_rec_id AS d_pop_rec_id, d.so_dinh_danh AS d_so_dinh_danh
    FROM links l
    LEFT JOIN review_decisions_latest d
      ON d.run_id = l.run_id AND d.source_file = l.source_file
     AND d.source_row = l.source_row AND d.owner_index = l.owner_index
),
decided AS (               -- a decision counts for a review link only
    SELECT * EXCLUDE (decision, d_reviewer, d_decided_at, d_pop_rec_id, d_so_dinh_danh),
           CASE WHEN status = 'review' THEN decision END AS review_decision,
           CASE WHEN status = 'review' THEN d_reviewer END AS reviewer,
           CASE WHEN status = 'review' THEN d_decided_at END AS decided_at,
           CASE WHEN status = 'review' AND d_pop_rec_id IS NOT NULL THEN d_pop_rec_id ELSE pop_rec_id END AS chosen_pop_rec_id,
           CASE WHEN status = 'review' AND d_pop_rec_id IS NOT NULL THEN d_so_dinh_danh ELSE so_dinh_danh END AS chosen_so_dinh_danh
    FROM joined
),
first_listing AS (          -- the first matched row of each person in a run
    SELECT run_id, so_dinh_danh, min(source_row) AS first_row
    FROM links WHERE status = 'matched' AND so_dinh_danh IS NOT NULL
    GROUP BY run_id, so_dinh_danh
)
SELECT d.run_id, d.registry, d.source_file, d.source_row, d.excel_row, d.owner_index, d.rec_id,
       CASE d.review_decision WHEN 'reject' THEN NULL WHEN 'accept' THEN d.chosen_pop_rec_id ELSE d.pop_rec_id END AS pop_rec_id,
       CASE d.review_decision WHEN 'reject' THEN NULL WHEN 'accept' THEN d.chosen_so_dinh_danh ELSE d.so_dinh_danh END AS so_dinh_danh,
       CASE d.review_decision
           WHEN 'accept' THEN CASE WHEN f.first_row IS NULL THEN 'matched' ELSE 'duplicate' END
           WHEN 'reject' THEN 'unmatched'
           ELSE d.status
       END AS status,
       CASE d.review_decision WHEN 'accept' THEN 'review_accepted' WHEN 'reject' THEN 'review_rejected' ELSE d.method END AS method,
       d.match_weight, d.match_probability,
       CASE WHEN d.review_decision = 'accept' THEN f.first_row ELSE d.duplicate_of END AS duplicate_of,
       d.entity,
       CASE WHEN d.review_decision = 'reject' THEN 'review_rejected' ELSE d.reason END AS reason,
       d.review_decision, d.reviewer, d.decided_at
FROM decided d
LEFT JOIN first_listing f    -- f is read only where review_decision = 'accept' (above)
  ON f.run_id = d.run_id AND f.so_dinh_danh = d.chosen_so_dinh_danh
"""


@dataclass(frozen=True)
class View:
    name: str
    comment: str
    sql: str
    columns: tuple[tuple[str, str], ...]  # name, comment


VIEWS: dict[str, View] = {  # in creation order: links_effective reads review_decisions_latest
    v.name: v
    for v in (
        View(
            "review_decisions_latest",
            "The decision that counts per review record: the latest row of review_decisions for each "
            "run, source_file, source_row, owner_index",
            REVIEW_DECISIONS_LATEST_SQL,
            tuple((name, comment) for name, _, comment in TABLES["review_decisions"].columns),
        ),
        View(
            "links_effective",
            "links after reviewers' decisions (review_decisions): accepted review candidates matched "
            "(method review_accepted), rejected ones unmatched (method review_rejected); columns of links "
            "plus review_decision, reviewer, decided_at",
            LINKS_EFFECTIVE_SQL,
            tuple(
                (name, {
                    "status": "Outcome after review: matched, review (still undecided), unmatched, rejected or duplicate",
                    "method": "links.method, or review_accepted / review_rejected when a reviewer decided",
                    "so_dinh_danh": "Linked person's 12-digit ID; NULL when not linked or the reviewer rejected the candidate",
                }.get(name, comment))
                for name, _, comment in TABLES["links"].columns
            )
            + (
                ("review_decision", "accept or reject: the latest reviewer decision on a review link; NULL otherwise"),
                ("reviewer", "Who made that decision"),
                ("decided_at", "When that decision was imported"),
            ),
        ),
    )
}


def rows_table_name(registry: str) -> str:
    return f"{registry}_rows"


def rows_table(spec: RegistrySpec) -> Table:
    """`<registry>_rows`: every input row, raw and normalized, with its unit and problems."""
    cols: list[Column] = [RUN_ID, SOURCE_FILE, SOURCE_ROW, EXCEL_ROW]
    for c in spec.columns:
        label = c.label_vi or c.name
        cols.append((c.name, "VARCHAR", f"{label}: value as read from the file"))
        cols.append((f"{c.name}_clean", "VARCHAR", f"{label}: normalized value ({c.kind})"))
    cols += [
        ("ma_tinh", "VARCHAR", "Current (2025) province code of the row's address, NULL when unknown or ambiguous"),
        ("ma_xa", "VARCHAR", "Current (2025) commune code of the row's address, NULL when unknown or ambiguous"),
        ("address_status", "VARCHAR", "current, legacy_mapped, legacy_split (ambiguous), province_only, unparsed"),
        ("problems", "VARCHAR[]", "Problem codes as column:code, e.g. ngay_sinh:date_impossible"),
        ("row_status", "VARCHAR", "ok, or rejected when the row cannot be matched at all"),
        ("reject_reason", "VARCHAR", "Why the row was rejected"),
    ]
    return Table(rows_table_name(spec.name), f"{spec.title_vi}: input rows, raw and normalized", tuple(cols))


def ddl(table: Table) -> list[str]:
    """CREATE TABLE IF NOT EXISTS plus COMMENT ON for the table and each column."""
    cols = ",\n  ".join(f"{quote_identifier(n)} {t}" for n, t, _ in table.columns)
    stmts = [f"CREATE TABLE IF NOT EXISTS {quote_identifier(table.name)} (\n  {cols}\n)"]
    stmts.append(f"COMMENT ON TABLE {quote_identifier(table.name)} IS {quote_literal(table.comment)}")
    stmts += [f"COMMENT ON COLUMN {quote_identifier(table.name)}.{quote_identifier(n)} IS {quote_literal(c)}" for n, _, c in table.columns]
    return stmts


def all_tables(specs: Iterable[RegistrySpec]) -> list[Table]:
    return list(TABLES.values()) + [rows_table(s) for s in specs]


# ---------------------------------------------------------------- opening the warehouse ----
# Encryption at rest, spill files and the run lock live here, so every command (run, demo, report,
# review, the Prefect flows) opens the warehouse the same way through `connect`.

KEY_ENV = "DOISOAT_DB_KEY"
MIN_KEY_CHARS = 16
ALIAS = "doisoat"  # the encrypted warehouse is ATTACHed under this name, then made the default (USE)
HOST = socket.gethostname()
KILLED_MESSAGE = "bị dừng đột ngột (killed)"


@dataclass
class _Session:
    """What the CLI was told for this command: the key (from --key-file) and the output folder.

    Process-wide on purpose: the key must reach every `connect` of a run (ledger, population
    cache, checks, write, reports) without being threaded through each stage's signature, and
    without ever being put on a command line or into the environment of child processes."""

    key: str | None = None
    spill_root: Path | None = None
    spill_dirs: set[Path] = field(default_factory=set)


_SESSION = _Session()


def read_key_file(path: Path | str) -> str:
    """The key in a file (first line, surrounding blanks dropped); Vietnamese errors, key never echoed."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DoisoatError(f"Không tìm thấy tệp khoá {path}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DoisoatError(f"Không đọc được tệp khoá {path} ({type(exc).__name__}).") from None
    key = text.strip().splitlines()[0].strip() if text.strip() else ""
    _check_key(key, f"tệp khoá {path}")
    if path.stat().st_mode & 0o077:
        logging.getLogger("doisoat").warning(
            "Tệp khoá %s đang cho người dùng khác đọc được; nên đặt quyền chỉ chủ sở hữu (chmod 600).", path
        )
    return key


def _check_key(key: str, where: str) -> None:
    if len(key) < MIN_KEY_CHARS:
        raise DoisoatError(
            f"Khoá trong {where} quá ngắn (cần ít nhất {MIN_KEY_CHARS} ký tự). Tạo khoá ngẫu nhiên, ví dụ: "
            "python -c \"import secrets; print(secrets.token_urlsafe(32))\" > khoa.txt"
        )


def warehouse_key() -> str | None:
    """The key of this process: --key-file (set by the CLI session) first, else DOISOAT_DB_KEY."""
    if _SESSION.key is not None:
        return _SESSION.key
    key = os.environ.get(KEY_ENV, "").strip()
    if not key:
        return None
    _check_key(key, f"biến môi trường {KEY_ENV}")
    return key


def httpfs_extension() -> Path:
    """DuckDB's httpfs build shipped as the PyPI package duckdb-extension-httpfs (same version as duckdb).

    DuckDB 1.5.5 writes an encrypted database only with httpfs loaded (its OpenSSL crypto); the
    extension cannot be downloaded on an offline office machine, so it comes from the package."""
    spec = importlib.util.find_spec("duckdb_extension_httpfs")
    path = None
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "extensions" / f"v{duckdb.__version__}" / "httpfs.duckdb_extension"
    if path is None or not path.exists():
        raise DoisoatError(
            f"Cần gói duckdb-extension-httpfs=={duckdb.__version__} để ghi kho dữ liệu mã hoá "
            f"(pip install duckdb-extension-httpfs=={duckdb.__version__})."
        )
    return path


def _open_error(path: Path, exc: duckdb.Error) -> Exception:
    text = str(exc)
    if "without a key" in text:
        return DoisoatError(f"Kho dữ liệu {path} đã mã hoá: cần khoá ({KEY_ENV} hoặc --key-file).")
    if "Wrong encryption key" in text:
        return DoisoatError(f"Khoá không đúng: không mở được kho dữ liệu đã mã hoá {path}.")
    if "is not encrypted" in text:
        return DoisoatError(
            f"Kho dữ liệu {path} chưa mã hoá nhưng đã cho khoá. Bỏ khoá để mở kho như cũ, hoặc chép kho sang "
            "một tệp mã hoá (README, mục 'Dữ liệu cá nhân')."
        )
    if "lock" in text.lower():
        return WarehouseError(f"--db {path}: kho dữ liệu đang được một chương trình khác mở; hãy đóng chương trình đó rồi chạy lại.")
    return WarehouseError(f"--db {path}: không mở được kho dữ liệu: tệp bị hỏng hoặc không phải tệp DuckDB ({type(exc).__name__}).")


def _open(path: Path, key: str | None) -> duckdb.DuckDBPyConnection:
    try:
        if key is None:
            return duckdb.connect(str(path))
        con = duckdb.connect()
        try:
            con.execute(f"LOAD {quote_literal(str(httpfs_extension()))}")
            con.execute(f"ATTACH {quote_literal(str(path))} AS {quote_identifier(ALIAS)} (ENCRYPTION_KEY ?)", [key])
            con.execute(f"USE {quote_identifier(ALIAS)}")
        except BaseException:
            con.close()
            raise
        return con
    except duckdb.Error as exc:
        raise _open_error(path, exc) from None


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def connect(db: Path | str, specs: Iterable[RegistrySpec] = ()) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse and make sure every table exists.

    With a key (DOISOAT_DB_KEY or --key-file) the file is an encrypted DuckDB database ATTACHed
    under `doisoat` and made the default, so callers' SQL is the same either way. DuckDB's spill
    files go to a private folder in the output folder (removed when the command ends), and a
    `running` run whose process is gone is marked failed here — "at the next open".

    A `--db` that is a folder, not a DuckDB file, a DuckDB database of something else, damaged
    or locked by another program is a `WarehouseError` in Vietnamese, never a DuckDB traceback."""
    if str(db) == ":memory:":
        con = duckdb.connect(":memory:")
        ensure_schema(con, specs)
        return con
    path = Path(db)
    _check_path(path)
    con = _open(path, warehouse_key())
    try:
        con.execute("SET temp_directory = ?", [str(_spill_dir(path))])
        _check_doisoat(con, db)
        ensure_schema(con, specs)
        mark_interrupted_runs(con, path)
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"--db {db}: kho dữ liệu bị hỏng, không đọc được cấu trúc bảng ({type(exc).__name__}).") from None
    except BaseException:
        con.close()
        raise
    return con


def _check_path(path: Path) -> None:
    """Refuse a folder, an uncreatable parent, or a file that is not a DuckDB database."""
    if path.is_dir():
        raise WarehouseError(f"--db {path}: đây là một thư mục, cần đường dẫn tới tệp kho dữ liệu (.duckdb).")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"--db {path}: không tạo được thư mục chứa kho dữ liệu ({exc.strerror}).") from None
    if path.exists() and path.stat().st_size > 0:
        with open(path, "rb") as fh:
            head = fh.read(16)
        if head[8:12] != DUCKDB_MAGIC:
            raise WarehouseError(
                f"--db {path}: tệp này không phải kho dữ liệu DuckDB của doisoat (hoặc đã bị hỏng). "
                "Hãy chỉ một tệp .duckdb do doisoat tạo, hoặc một đường dẫn mới."
            )




def _type_key(dtype: str) -> str:
    return {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(dtype.upper(), dtype.upper()).split("(")[0]


def _check_doisoat(con: duckdb.DuckDBPyConnection, db: Path | str) -> None:
    """An existing database must be a doisoat warehouse: some of our tables, with the columns
    (and types) this version declares or fewer — never someone else's data."""
    cols = con.execute(
        f"SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE {_HERE} AND NOT internal"
    ).fetchall()
    if not cols:
        return  # a new, empty database
    have: dict[str, dict[str, str]] = {}
    for table, column, dtype in cols:
        have.setdefault(table, {})[column] = dtype
    if not set(have) & set(TABLES):
        raise WarehouseError(
            f"--db {db}: đây là cơ sở dữ liệu DuckDB nhưng không phải kho doisoat (không có bảng nào của doisoat; có các bảng: "
            + ", ".join(sorted(have)[:8]) + "). Hãy dùng một tệp khác cho --db."
        )
    for name, table in TABLES.items():
        for column, dtype, _ in table.columns:
            found = have.get(name, {}).get(column)
            if found is not None and _type_key(found) != _type_key(dtype):
                raise WarehouseError(
                    f"--db {db}: bảng {name}, cột {column} có kiểu {found} thay vì {dtype}: "
                    "kho dữ liệu không đúng cấu trúc của doisoat."
                )


# Spill files: DuckDB writes sort/join overflow to `temp_directory` (by default `.tmp` in the
# current folder when the database is ATTACHed). Keep them in a folder of ours, owner-only, named by
# host and pid so a later command can remove the folder of a killed one.

_SPILL_PREFIX = ".doisoat-tmp-"


def _spill_dir(path: Path) -> Path:
    root = _SESSION.spill_root or path.parent
    spill = root / f"{_SPILL_PREFIX}{HOST}-{os.getpid()}"
    if spill not in _SESSION.spill_dirs:
        _remove_stale_spill_dirs(root)
        spill.mkdir(mode=0o700, parents=True, exist_ok=True)
        _SESSION.spill_dirs.add(spill)
    return spill


def _remove_stale_spill_dirs(root: Path) -> None:
    if not root.is_dir():
        return
    for folder in root.glob(f"{_SPILL_PREFIX}{HOST}-*"):
        pid = folder.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _pid_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def remove_spill_dirs() -> None:
    """Remove this process's spill folders (end of a CLI command, and at interpreter exit)."""
    for folder in list(_SESSION.spill_dirs):
        shutil.rmtree(folder, ignore_errors=True)
        _SESSION.spill_dirs.discard(folder)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The run lock: `<db>.lock` beside the warehouse, held with flock(2) for a whole command or run.
# DuckDB lets one process at a time open a file for writing, and a run opens and closes the
# warehouse several times, so without this lock two runs would interleave or fail half-way with a
# DuckDB locking error. The kernel drops a flock when its process dies (SIGKILL included), so a
# lock can never be left stale; the file's content (who, since when) is only for the message.


@dataclass
class _Held:
    fd: int
    depth: int
    info: dict


_HELD: dict[Path, _Held] = {}


def lock_path(db: Path | str) -> Path:
    path = Path(db)
    return path.with_name(path.name + ".lock")


class WarehouseBusy(WarehouseError):
    """Another doisoat process holds the warehouse."""


def _vn_time(iso_utc: str | None) -> str:
    try:
        when = datetime.fromisoformat(iso_utc).astimezone(VN_TZ)
    except (TypeError, ValueError):
        return "không rõ thời điểm"
    return when.strftime("%H:%M:%S ngày %d/%m/%Y") + " (giờ Việt Nam)"


def _busy_message(db: Path, info: dict) -> str:
    who = f"lần chạy {info['run_id']}" if info.get("run_id") else f"lệnh doisoat {info.get('command') or '?'}"
    if info.get("stage"):
        who += f", đang ở bước {info['stage']}"
    where = f"tiến trình {info.get('pid', '?')} trên máy {info.get('hostname', '?')}"
    return (
        f"Kho dữ liệu {db} đang được dùng bởi {who} ({where}) từ {_vn_time(info.get('since'))}. "
        "Chờ lần chạy đó xong rồi chạy lại."
    )


def _write_lock_info(fd: int, info: dict) -> None:
    """Overwrite, then cut to length: a reader sees the old text, the new one, or invalid JSON."""
    data = json.dumps(info, ensure_ascii=False).encode("utf-8")
    os.pwrite(fd, data, 0)
    os.ftruncate(fd, len(data))


def _read_lock_info(fd: int) -> dict:
    for _ in range(20):  # caught mid-rewrite: read again
        try:
            return json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
        except (ValueError, OSError):
            continue
    return {}


@contextmanager
def exclusive(db: Path | str, *, command: str = "run", run_id: str | None = None):
    """Hold the warehouse for this process, or refuse at once with who holds it and since when.

    Re-entrant within a process (a demo holds it across its runs; each run records its run_id in
    the lock file while it runs)."""
    key = Path(db).resolve()
    held = _HELD.get(key)
    if held is not None:
        outer = held.info
        held.depth += 1
        if run_id:
            held.info = {**outer, "run_id": run_id}
            _write_lock_info(held.fd, held.info)
        try:
            yield held.info
        finally:
            held.depth -= 1
            if held.info is not outer:
                held.info = outer
                _write_lock_info(held.fd, outer)
        return
    try:
        key.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise DoisoatError(f"Không tạo được tệp {lock_path(db)} (chống hai lần chạy cùng lúc) cạnh kho dữ liệu ({exc.strerror}).") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        info = _read_lock_info(fd)
        os.close(fd)
        raise WarehouseBusy(_busy_message(Path(db), info)) from None
    info = {"command": command, "run_id": run_id, "pid": os.getpid(), "hostname": HOST,
            "since": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    _HELD[key] = _Held(fd=fd, depth=1, info=info)
    try:
        _write_lock_info(fd, info)
        yield info
    finally:
        del _HELD[key]
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def note_stage(db: Path | str, stage: str) -> None:
    """Record the stage a run is in, in the lock file (shown when a second run is refused)."""
    held = _HELD.get(Path(db).resolve())
    if held is not None:
        held.info = {**held.info, "stage": stage}
        _write_lock_info(held.fd, held.info)


def _live_run_ids(path: Path) -> set[str] | None:
    """Run ids that may still be running, or None when another process holds the lock right now
    and did not say which run (then nothing is marked)."""
    held = _HELD.get(path.resolve())
    if held is not None:
        return {held.info["run_id"]} if held.info.get("run_id") else set()
    lock = lock_path(path)
    if not lock.exists():
        return set()
    fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            info = _read_lock_info(fd)
            return {info["run_id"]} if info.get("run_id") else None
        fcntl.flock(fd, fcntl.LOCK_UN)
        return set()
    finally:
        os.close(fd)


def mark_interrupted_runs(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Mark `running` rows whose run no longer runs as failed ("bị dừng đột ngột (killed)").

    A run holds the lock from before its `running` row is written until after it is closed, so a
    `running` row that is not the lock holder's run belongs to a process that died (SIGKILL, power
    cut, out of memory). Its results were never committed: the one write transaction rolled back."""
    stuck = con.execute("SELECT run_id, pid, hostname FROM runs WHERE status = 'running'").fetchall()
    if not stuck:
        return []
    live = _live_run_ids(path)
    if live is None:
        return []
    now = datetime.now(VN_TZ).strftime("%H:%M:%S ngày %d/%m/%Y")
    marked = []
    for run_id, pid, hostname in stuck:
        if run_id in live:
            continue
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = now(), error = ? WHERE run_id = ? AND status = 'running'",
            [f"{KILLED_MESSAGE}: tiến trình {pid or '?'} trên máy {hostname or '?'} kết thúc khi chưa xong; "
             f"kết quả không được ghi (phát hiện lúc {now}, giờ Việt Nam)", run_id],
        )
        marked.append(run_id)
    return marked


@contextmanager
def session(db: Path | str, *, command: str, key_file: Path | str | None = None, spill_root: Path | str | None = None):
    """One CLI command on the warehouse: its key, its spill folder, the lock for its whole length.

    `command` is what the refusal message shows until a run id is known, e.g. "run social_welfare".

    report/review on a warehouse that does not exist take no lock (they fail with their own message)."""
    previous = (_SESSION.key, _SESSION.spill_root)
    _SESSION.key = read_key_file(key_file) if key_file else None
    _SESSION.spill_root = Path(spill_root) if spill_root else None
    try:
        if command.split()[0] in ("run", "demo") or Path(db).exists():
            with exclusive(db, command=command):
                yield
        else:
            yield
    finally:
        remove_spill_dirs()
        _SESSION.key, _SESSION.spill_root = previous


# The warehouse's own schema: with an encrypted (ATTACHed) warehouse the in-memory `memory.main`
# is there too.
_HERE = "database_name = current_database() AND schema_name = 'main'"


def ensure_schema(con: duckdb.DuckDBPyConnection, specs: Iterable[RegistrySpec] = ()) -> None:
    """Create missing tables (with their comments) and the views, in one transaction.

    Existing tables keep their rows; a column this version declares and an older warehouse
    lacks is added (NULL for old rows), so a warehouse written by an earlier release stays usable."""
    existing = {r[0] for r in con.execute(f"SELECT table_name FROM duckdb_tables() WHERE {_HERE}").fetchall()}
    tables = all_tables(specs)
    todo = [t for t in tables if t.name not in existing]
    have = {
        (r[0], r[1])
        for r in con.execute(f"SELECT table_name, column_name FROM duckdb_columns() WHERE {_HERE}").fetchall()
    }
    added = [(t, c) for t in tables if t.name in existing for c in t.columns if (t.name, c[0]) not in have]
    views = {r[0] for r in con.execute(f"SELECT view_name FROM duckdb_views() WHERE {_HERE} AND NOT internal").fetchall()}
    if not todo and not added and set(VIEWS) <= views and not _stale_views(con):
        return
    with transaction(con):
        for table in todo:
            for stmt in ddl(table):
                con.execute(stmt)
        for table, (name, typ, comment) in added:
            con.execute(f"ALTER TABLE {quote_identifier(table.name)} ADD COLUMN {quote_identifier(name)} {typ}")
            con.execute(f"COMMENT ON COLUMN {quote_identifier(table.name)}.{quote_identifier(name)} IS {quote_literal(comment)}")
        for view in VIEWS.values():
            con.execute(f"CREATE OR REPLACE VIEW {quote_identifier(view.name)} AS {view.sql}")
            con.execute(f"COMMENT ON VIEW {quote_identifier(view.name)} IS {quote_literal(view.comment)}")
            for column, comment in view.columns:
                con.execute(f"COMMENT ON COLUMN {quote_identifier(view.name)}.{quote_identifier(column)} IS {quote_literal(comment)}")


def _stale_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Views whose stored definition is not this version's (a warehouse written by an earlier
    release keeps its views otherwise — e.g. the nested-loop links_effective). DuckDB stores a
    view's SQL rewritten, so this version's SQL is compared after the same rewriting: created as
    a temporary view and read back. When the probe cannot run (a read-only warehouse), nothing
    is reported stale."""
    stale = []
    try:
        for view in VIEWS.values():
            stored = con.execute(f"SELECT sql FROM duckdb_views() WHERE {_HERE} AND view_name = ?", [view.name]).fetchone()
            con.execute(f"CREATE OR REPLACE TEMP VIEW _doisoat_probe AS {view.sql}")
            probe = con.execute("SELECT sql FROM duckdb_views() WHERE temporary AND view_name = '_doisoat_probe'").fetchone()
            con.execute("DROP VIEW IF EXISTS temp._doisoat_probe")
            body = lambda sql: sql.split(" AS ", 1)[1] if sql and " AS " in sql else sql  # noqa: E731 (drop "CREATE VIEW name")
            if stored is None or probe is None or body(stored[0]) != body(probe[0]):
                stale.append(view.name)
    except duckdb.Error:
        return []
    return stale


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame) -> int:
    """Insert a frame by column name; warehouse columns missing from the frame become NULL.

    Frame columns that the table does not declare are refused: silently dropping data is
    exactly what the warehouse must never do."""
    if frame.height == 0:
        return 0
    known = {
        r[0]
        for r in con.execute(
            f"SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND {_HERE}", [table]
        ).fetchall()
    }
    extra = [c for c in frame.columns if c not in known]
    if extra:
        raise ValueError(f"{table}: columns not in the warehouse schema: {extra}")
    view = f"_insert_{table}"
    con.register(view, frame.to_arrow())
    try:
        cols = ", ".join(quote_identifier(c) for c in frame.columns)
        con.execute(f"INSERT INTO {quote_identifier(table)} ({cols}) SELECT {cols} FROM {quote_identifier(view)}")
    finally:
        con.unregister(view)
    return frame.height


def write_results(con: duckdb.DuckDBPyConnection, frames: Mapping[str, pl.DataFrame]) -> dict[str, int]:
    """Write all result tables of one run atomically; returns rows written per table."""
    written: dict[str, int] = {}
    with transaction(con):
        for table, frame in frames.items():
            written[table] = insert_frame(con, table, frame)
    return written


def population_cached(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    return con.execute("SELECT count(*) FROM population WHERE extract_sha256 = ?", [sha256]).fetchone()[0] > 0


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, registry: str, parameters: dict, package_versions: dict) -> None:
    """Ledger row before any work, so even a crash leaves a trace of the attempt."""
    con.execute(
        "INSERT INTO runs (run_id, registry, started_at, status, parameters, package_versions, pid, hostname) "
        "VALUES (?, ?, now(), 'running', ?, ?, ?, ?)",
        [run_id, registry, json.dumps(parameters, ensure_ascii=False, default=str), json.dumps(package_versions),
         os.getpid(), HOST],
    )


def finish_run(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    *,
    status: str,
    error: str | None = None,
    input_files: list | None = None,
    population_sha256: str | None = None,
    row_counts: dict | None = None,
    notes: list | None = None,
) -> None:
    con.execute(
        "UPDATE runs SET finished_at = now(), status = ?, error = ?, input_files = ?, population_sha256 = ?, "
        "row_counts = ?, notes = ? WHERE run_id = ?",
        [
            status,
            error,
            json.dumps(input_files or [], ensure_ascii=False),
            population_sha256,
            json.dumps(row_counts or {}),
            json.dumps(notes or [], ensure_ascii=False),
            run_id,
        ],
    )


def schema_markdown(specs: Iterable[RegistrySpec] = ()) -> str:
    """The column lists as Markdown (pasted into ARCHITECTURE.md; a test keeps them in sync)."""
    out: list[str] = []
    registry_rows = [rows_table(s) for s in specs][:1]
    for table in list(TABLES.values()) + registry_rows:
        name = "<registry>_rows" if table in registry_rows else table.name
        out.append(f"- `{name}` — {table.comment}: " + ", ".join(f"`{n}` {t}" for n, t, _ in table.columns))
    for view in VIEWS.values():
        out.append(f"- view `{view.name}` — {view.comment}")
    return "\n".join(out)
