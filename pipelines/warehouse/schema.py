"""The warehouse's declared schema: tables, views and their comments, and how a database gets them.

Why a declared schema: validation, reports and analysts read these tables by name, so the
column lists live here as data (`TABLES`), each table and column with a Vietnamese-readable
English comment emitted as `COMMENT ON`. `<registry>_rows` tables are generated from the
registry's spec (one raw + one clean column per spec column), so a registry added by spec gets
its table without code here. The person-schema columns (`population`, `registry_persons`) take
their names and types from `matching/person_schema.py`, the one home of that schema; only their
comments are written here.

`ensure_schema` applies the declaration to an opened database (missing tables, columns and
views; stale views replaced) and `check_doisoat` refuses a database that is not a doisoat
warehouse. `transaction` lives here because `ensure_schema` is its first user; the run's write
(`write.py`) uses the same one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from matching.person_schema import OPTIONAL, SCHEMA
from matching.sql import quote_identifier, quote_literal
from pipelines.errors import WarehouseError
from pipelines.spec import RegistrySpec
from pipelines.warehouse.changes import (
    CHANGES_COLUMNS,
    CHANGES_SQL,
    COVERAGE_CHANGES_COLUMNS,
    COVERAGE_CHANGES_SQL,
)

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
SOURCE_ROW: Column = (
    "source_row",
    "BIGINT",
    "1 = first data row under the header, counting every data row (rejected ones included)",
)
EXCEL_ROW: Column = (
    "excel_row",
    "BIGINT",
    "Row number the officer sees in Excel or a text editor (header and title rows counted)",
)
OWNER_INDEX: Column = (
    "owner_index",
    "SMALLINT",
    "Person within the row: 0, or 1 for the second owner of a land certificate",
)
SO_DINH_DANH: Column = (
    "so_dinh_danh",
    "VARCHAR",
    "12-digit personal ID of the linked CSDLQG person; NULL when not linked",
)

ROW_KEY = (RUN_ID, REGISTRY, SOURCE_FILE, SOURCE_ROW, EXCEL_ROW, OWNER_INDEX)

LINK_STATUSES = ("matched", "review", "unmatched", "rejected", "duplicate")

# DuckDB types of the person schema's polars types (matching/person_schema.py SCHEMA, OPTIONAL).
_DUCKDB_TYPES = {pl.Int64: "BIGINT", pl.Int16: "SMALLINT", pl.String: "VARCHAR"}
PERSON_TYPES: dict[str, str] = {name: _DUCKDB_TYPES[dtype] for name, dtype in (SCHEMA | OPTIONAL).items()}

# What each person-schema column means in the registry's records (`registry_persons`) ...
PERSON_COMMENTS: dict[str, str] = {
    "ho_ten": "Canonical display name",
    "ho_ten_key": "Accent-free lower-case name key",
    "ho_ten_key_nomid": "Name key without standalone thi/van",
    "ho_key": "Surname key (regional variants folded)",
    "ten_key": "Given-name key",
    "ngay_sinh_year": "Birth year",
    "ngay_sinh_month": "Birth month; NULL beyond the precision",
    "ngay_sinh_day": "Birth day; NULL beyond the precision",
    "ngay_sinh_precision": "day, month or year",
    "gioi_tinh": "Nam / Nữ / NULL",
    "id12": "12-digit ID given in the row (CCCD or 12-digit CMND)",
    "cmnd9": "9-digit CMND given in the row",
    "ma_tinh": "Current province code of the row's address; NULL when unknown/ambiguous",
    "ma_xa": "Current commune code of the row's address; NULL when unknown/ambiguous",
    "ho_ten_cha_key": "Father's name key (births)",
    "ho_ten_me_key": "Mother's name key (births)",
}
# ... and in the CSDLQG extract (`population`), where the extract's own columns hold rec_id
# (pop_rec_id), ho_ten (ho_ten_clean), ma_tinh, ma_xa and ma_ho, and sex is stored as gioi_tinh_clean
# beside the extract's raw gioi_tinh.
POPULATION_PERSON_COMMENTS: dict[str, str] = {
    "ho_ten_key": "Person schema: accent-free lower-case name key",
    "ho_ten_key_nomid": "Person schema: name key without standalone thi/van",
    "ho_key": "Person schema: surname key (regional variants folded)",
    "ten_key": "Person schema: given-name key",
    "ngay_sinh_year": "Person schema: birth year",
    "ngay_sinh_month": "Person schema: birth month",
    "ngay_sinh_day": "Person schema: birth day",
    "ngay_sinh_precision": "Person schema: day, month or year",
    "gioi_tinh": "Person schema: Nam / Nữ",
    "id12": "Person schema: so_dinh_danh",
    "cmnd9": "Person schema: so_cmnd_cu",
    "ho_ten_cha_key": "Person schema: father's name key",
    "ho_ten_me_key": "Person schema: mother's name key",
}
POPULATION_STORED_AS = {"gioi_tinh": "gioi_tinh_clean"}


def person_column(name: str, comment: str) -> Column:
    """A column the person schema declares, with its type from there."""
    return (name, PERSON_TYPES[name], comment)


def person_columns(comments: Mapping[str, str], renamed: Mapping[str, str] = {}) -> tuple[Column, ...]:
    """The person-schema columns named in `comments`, in the schema's order, typed by the schema."""
    return tuple(
        (renamed.get(name, name), PERSON_TYPES[name], comments[name]) for name in PERSON_TYPES if name in comments
    )


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
                (
                    "input_files",
                    "JSON",
                    "List of {role, path, file, sha256, bytes, format, encoding, rows, "
                    "dropped_rows (lines that are not data), line_encodings}",
                ),
                ("population_sha256", "VARCHAR", "SHA-256 of the CSDLQG extract used (population.extract_sha256)"),
                ("parameters", "JSON", "Run parameters and the full registry spec (thresholds, comparisons)"),
                ("package_versions", "JSON", "Versions of doisoat and its main dependencies"),
                (
                    "row_counts",
                    "JSON",
                    "Input rows and outcome counts: "
                    "{input_rows, persons, matched, review, unmatched, rejected, duplicate, ...}",
                ),
                (
                    "notes",
                    "JSON",
                    "Ingestion notes shown to officers: lines that are not data, "
                    "how each range of lines was decoded, legacy encodings",
                ),
                (
                    "pid",
                    "INTEGER",
                    "Process id of the run: a 'running' row whose process is gone is marked failed at the next open",
                ),
                ("hostname", "VARCHAR", "Machine the run ran on (with pid, tells a crashed run from a live one)"),
                (
                    "mode",
                    "VARCHAR",
                    "first (no earlier run), incremental (unchanged links kept, only the rest matched) or full "
                    "(every record matched again); see previous_run_id and model_run_id",
                ),
                ("previous_run_id", "VARCHAR", "The earlier run whose links and decisions this run kept, if any"),
                ("model_run_id", "VARCHAR", "Run whose trained model scored this run (this run when it trained one)"),
            ),
        ),
        Table(
            "population",
            "Normalized CSDLQG extract, cached per extract SHA-256 (normalized once, reused by later runs)",
            (
                ("extract_sha256", "VARCHAR", "SHA-256 of the extract file; the cache key"),
                (
                    "reference_spec_sha256",
                    "VARCHAR",
                    "SHA-256 of the reference spec's columns it was read with (pipelines/population.yaml or "
                    "--population-spec); with extract_sha256 the cache key. NULL: stored before, default spec",
                ),
                ("run_id", "VARCHAR", "Run that first loaded this extract"),
                (
                    "pop_rec_id",
                    "BIGINT",
                    "Row number in the extract (1 = first data row); the matcher's population rec_id",
                ),
                EXCEL_ROW,
                (
                    "so_dinh_danh",
                    "VARCHAR",
                    "12-digit personal ID; for another reference list, its own record key (the links carry it)",
                ),
                ("so_cmnd_cu", "VARCHAR", "Old 9-digit CMND, when CSDLQG keeps one"),
                ("ho_ten", "VARCHAR", "Full name as in the extract"),
                ("ho_ten_clean", "VARCHAR", "Canonical display name (NFC, one tone style, Title Case)"),
                ("ngay_sinh", "VARCHAR", "Date of birth as in the extract"),
                ("ngay_sinh_clean", "VARCHAR", "Date of birth yyyy-mm-dd / yyyy-mm / yyyy"),
                ("gioi_tinh", "VARCHAR", "Sex: Nam / Nữ"),
                ("ho_ten_cha", "VARCHAR", "Father's name"),
                ("ho_ten_me", "VARCHAR", "Mother's name"),
                person_column("ma_tinh", "Current (2025) province code of permanent residence"),
                ("ten_tinh", "VARCHAR", "Province name"),
                person_column("ma_xa", "Current (2025) commune/ward code of permanent residence"),
                ("ten_xa", "VARCHAR", "Commune/ward name"),
                ("dia_chi_thuong_tru", "VARCHAR", "Permanent residence address text"),
                person_column("ma_ho", "Household code"),
                ("ngay_mat", "VARCHAR", "Date of death as in the extract; empty when alive"),
                ("ngay_mat_clean", "VARCHAR", "Date of death yyyy-mm-dd / yyyy-mm / yyyy; NULL when alive"),
                (
                    "other_fields",
                    "JSON",
                    "A reference list's columns beyond CSDLQG's, as read ({column: value}); NULL for an extract",
                ),
                (
                    "person_hash",
                    "VARCHAR",
                    "MD5 of what the person is compared and checked on (ID, name, date of birth, sex, parents, "
                    "commune, death): a reviewer's decision about the person holds while it is unchanged",
                ),
            )
            + person_columns(POPULATION_PERSON_COMMENTS, POPULATION_STORED_AS),
        ),
        Table(
            "registry_persons",
            "Person-schema records built from registry rows (what the matcher compared); land rows may give two",
            (
                RUN_ID,
                REGISTRY,
                person_column("rec_id", "source_row * 10 + owner_index"),
                SOURCE_ROW,
                OWNER_INDEX,
                ("entity", "VARCHAR", "person, couple, household or organization (land); person otherwise"),
                (
                    "record_key",
                    "VARCHAR",
                    "The record across runs: 'k:' + the registry's own key + '#' + owner_index, or 'h:' + "
                    "identity_hash when the key is empty (how next month's file finds this record)",
                ),
                ("identity_hash", "VARCHAR", "MD5 of the person-schema and compared field values (what was matched)"),
                ("record_hash", "VARCHAR", "MD5 of every column of the row as read, with owner_index"),
            )
            + person_columns(PERSON_COMMENTS),
        ),
        Table(
            "links",
            "One row per registry person record: "
            "its outcome (exactly one of matched, review, unmatched, rejected, duplicate)",
            ROW_KEY
            + (
                ("rec_id", "BIGINT", "source_row * 10 + owner_index"),
                ("pop_rec_id", "BIGINT", "population.pop_rec_id of the linked (or best review) candidate"),
                SO_DINH_DANH,
                ("status", "VARCHAR", "matched, review, unmatched, rejected or duplicate"),
                (
                    "method",
                    "VARCHAR",
                    "How the outcome was reached: "
                    "id_exact, cmnd9, id_one_edit, probabilistic, none, organization, foreigner, rejected, ...",
                ),
                (
                    "match_weight",
                    "DOUBLE",
                    "Fellegi-Sunter log2 Bayes factor of the pair; NULL for deterministic links",
                ),
                ("match_probability", "DOUBLE", "Posterior match probability 0..1 (1.0 for deterministic ID links)"),
                ("duplicate_of", "BIGINT", "For status duplicate: source_row of the first row listing the same person"),
                (
                    "entity",
                    "VARCHAR",
                    "person, organization or foreigner (neither is matched: status unmatched, method = entity)",
                ),
                ("reason", "VARCHAR", "Why a row was rejected or not matched (problem codes), NULL otherwise"),
                (
                    "link_from_run",
                    "VARCHAR",
                    "Run that made this link (this run, or an earlier one whose link was kept because neither the "
                    "record nor the person changed since: link stability); NULL when there is no person",
                ),
                (
                    "person_hash",
                    "VARCHAR",
                    "population.person_hash of pop_rec_id in this run's extract: the next run keeps the link "
                    "only while it is unchanged",
                ),
            ),
        ),
        Table(
            "skipped_rows",
            "Input lines that are not data rows (title, blank, totals, signature block, repeated header), "
            "one row per line with its reason: with `links` every line of the input has exactly one recorded outcome",
            (
                RUN_ID,
                REGISTRY,
                (
                    "source_file",
                    "VARCHAR",
                    "Input file name (with the sheet in brackets when several sheets were read)",
                ),
                ("sheet", "VARCHAR", "Worksheet name; NULL for CSV and Parquet"),
                EXCEL_ROW,
                (
                    "reason_code",
                    "VARCHAR",
                    "above_header, blank, totals, footer, repeated_header, column_numbers or other_sheet",
                ),
                ("reason", "VARCHAR", "The reason in Vietnamese, as shown to officers"),
                (
                    "text_masked",
                    "VARCHAR",
                    "The line's text without personal data: digits as #, words other than form labels as …",
                ),
            ),
        ),
        Table(
            "link_evidence_stored",
            "Per-comparison evidence of the candidate pairs a run scored, stored once: an incremental run does not "
            "store again the evidence of a kept link that is identical to an earlier run's (link_evidence_kept "
            "points there). Read the view link_evidence, which shows every run's evidence in full",
            (
                RUN_ID,
                REGISTRY,
                SOURCE_ROW,
                OWNER_INDEX,
                ("rec_id", "BIGINT", "Registry rec_id"),
                ("pop_rec_id", "BIGINT", "Candidate population.pop_rec_id"),
                ("so_dinh_danh", "VARCHAR", "Candidate's personal ID"),
                ("candidate_rank", "SMALLINT", "1 = best candidate of the record"),
                (
                    "comparison",
                    "VARCHAR",
                    "Comparison name: ho_ten, ngay_sinh, gioi_tinh, id, dia_chi, ho_ten_cha, ho_ten_me",
                ),
                ("level", "VARCHAR", "Level label reached, e.g. exact, accent_free, jw_0.92, different, null"),
                ("partial_weight", "DOUBLE", "log2(m/u) of that level"),
            ),
        ),
        Table(
            "link_evidence_kept",
            "Kept links of an incremental run whose evidence is not stored again: this run scored the kept pair "
            "and found every comparison's level and weight identical to the evidence stored by from_run_id "
            "(pipelines/warehouse/evidence.py); the view link_evidence shows it under this run",
            (
                RUN_ID,
                REGISTRY,
                ("rec_id", "BIGINT", "This run's rec_id of the kept link (links.rec_id)"),
                ("from_run_id", "VARCHAR", "Run whose link_evidence_stored rows hold the identical evidence"),
                ("from_rec_id", "BIGINT", "The record's rec_id in that run"),
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
                (
                    "kind",
                    "VARCHAR",
                    "value (plain difference), residence (different commune/province), format, "
                    "id (12-digit ID differs from so_dinh_danh), cmnd9 (9-digit CMND differs from so_cmnd_cu)",
                ),
                (
                    "method",
                    "VARCHAR",
                    "How the row was linked (links_effective.method): "
                    "id_exact, cmnd9, id_one_edit, probabilistic, household, review_accepted",
                ),
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
                (
                    "basis",
                    "VARCHAR",
                    "same_person (linked to the same CSDLQG person) or same_key (same registry record number)",
                ),
            ),
        ),
        Table(
            "alerts",
            "Cross-registry alerts (sống): dead persons still paid, deaths CSDLQG has not recorded, "
            "suggested ID updates",
            ROW_KEY
            + (
                SO_DINH_DANH,
                ("kind", "VARCHAR", "dead_still_paid, death_not_in_csdlqg, death_date_differs, suggested_id_update"),
                ("severity", "VARCHAR", "high, medium or low"),
                ("death_source", "VARCHAR", "csdlqg or civil_deaths: where the death is recorded"),
                ("ngay_mat_csdlqg", "VARCHAR", "Date of death in CSDLQG (yyyy-mm-dd), when recorded"),
                (
                    "ngay_mat_khai_tu",
                    "VARCHAR",
                    "Date of death in the civil-status death registration, when registered",
                ),
                ("old_value", "VARCHAR", "suggested_id_update: the 9-digit CMND in the registry"),
                ("new_value", "VARCHAR", "suggested_id_update: the 12-digit ID CSDLQG holds"),
                ("message_vi", "VARCHAR", "Vietnamese explanation for the officer"),
            ),
        ),
        Table(
            "population_issues",
            "Problems found in the CSDLQG extract itself (repeated so_dinh_danh, ID digits against sex or birth year, "
            "death before birth), one row per (extract row, issue); cached per extract SHA-256 like population",
            (
                ("extract_sha256", "VARCHAR", "SHA-256 of the extract file (population.extract_sha256)"),
                ("run_id", "VARCHAR", "Run that first loaded this extract"),
                ("pop_rec_id", "BIGINT", "population.pop_rec_id of the row (1 = first data row)"),
                EXCEL_ROW,
                ("so_dinh_danh", "VARCHAR", "The row's so_dinh_danh (reports mask it)"),
                (
                    "issue",
                    "VARCHAR",
                    "duplicate_id, id_sex_mismatch, id_birth_year_mismatch, death_before_birth, id_invalid",
                ),
                (
                    "detail",
                    "VARCHAR",
                    "Codes or row numbers only, never names: e.g. the other rows with the same so_dinh_danh",
                ),
            ),
        ),
        Table(
            "coverage",
            "Coverage against Đề án 06 targets per registry and administrative unit",
            (
                RUN_ID,
                REGISTRY,
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
                RUN_ID,
                REGISTRY,
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
            "Reviewer decisions on review-status links, read back from the officers' workbook "
            "(history kept; the latest counts)",
            (
                RUN_ID,
                REGISTRY,
                SOURCE_FILE,
                SOURCE_ROW,
                OWNER_INDEX,
                (
                    "so_dinh_danh",
                    "VARCHAR",
                    "accept: the candidate the reviewer chose; reject: the review link's best candidate",
                ),
                ("reviewer", "VARCHAR", "Who decided (doisoat review --reviewer)"),
                ("decision", "VARCHAR", "accept (same person) or reject (not this person)"),
                ("decided_at", "TIMESTAMPTZ", "When the decision was imported (UTC)"),
                ("note", "VARCHAR", "Reviewer's note from the workbook"),
                ("decision_file", "VARCHAR", "Workbook the decision was read from"),
                ("decision_file_sha256", "VARCHAR", "SHA-256 of that workbook"),
                (
                    "pop_rec_id",
                    "BIGINT",
                    "accept: population.pop_rec_id of the chosen candidate (any of the listed ones, "
                    "not only the best); NULL for reject",
                ),
            ),
        ),
        Table(
            "carried_decisions",
            "Reviewers' decisions of earlier runs that concern this run's records (pipelines/decisions.py): "
            "applied while both sides are unchanged, else shown again beside the question",
            (
                RUN_ID,
                REGISTRY,
                SOURCE_ROW,
                OWNER_INDEX,
                ("rec_id", "BIGINT", "source_row * 10 + owner_index"),
                ("pop_rec_id", "BIGINT", "population.pop_rec_id of the decided person in this run's extract"),
                ("so_dinh_danh", "VARCHAR", "The decided person (accept: the chosen one; reject: the rejected one)"),
                ("decision", "VARCHAR", "accept or reject"),
                (
                    "state",
                    "VARCHAR",
                    "applied (both sides unchanged: the engine kept the decision), record_changed, person_changed "
                    "or person_missing (asked again)",
                ),
                ("from_run_id", "VARCHAR", "Run whose review sheet held the decision"),
                ("reviewer", "VARCHAR", "Who decided"),
                ("decided_at", "TIMESTAMPTZ", "When the decision was imported"),
                ("note", "VARCHAR", "Reviewer's note"),
                ("decision_file_sha256", "VARCHAR", "SHA-256 of the workbook the decision came from"),
            ),
        ),
        Table(
            "match_models",
            "The trained matching model and settings of each run (auditable: which model linked a row)",
            (
                RUN_ID,
                REGISTRY,
                (
                    "model",
                    "JSON",
                    "Self-describing model (format 2): per comparison its columns and per level its SQL, gate, "
                    "parameters, term-frequency use, m, u and weight; lambda, prior (explain_pair re-scores from it)",
                ),
                ("settings", "JSON", "Comparisons, blocking rules, thresholds"),
                ("blocking", "JSON", "Pairs generated per blocking rule"),
                (
                    "trained_in_run_id",
                    "VARCHAR",
                    "Run the model was trained in: this run, or an earlier one whose model an incremental run reused",
                ),
            ),
        ),
        Table(
            "term_frequencies",
            "How common each name value was in the extract a model was trained on (frozen with the model: "
            "runs that reuse the model score with these counts, not the new extract's)",
            (
                RUN_ID,
                REGISTRY,
                ("tf_column", "VARCHAR", "The model's term-frequency column, e.g. tf_name, tf_ten"),
                ("value", "VARCHAR", "The normalized value counted (a name key): personal data, never in reports"),
                ("tf", "DOUBLE", "Share of the extract's persons with that value"),
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
           CASE WHEN status = 'review' AND d_pop_rec_id IS NOT NULL THEN d_pop_rec_id ELSE pop_rec_id END
               AS chosen_pop_rec_id,
           CASE WHEN status = 'review' AND d_pop_rec_id IS NOT NULL THEN d_so_dinh_danh ELSE so_dinh_danh END
               AS chosen_so_dinh_danh
    FROM joined
),
first_listing AS (          -- the first matched row of each person in a run
    SELECT run_id, so_dinh_danh, min(source_row) AS first_row
    FROM links WHERE status = 'matched' AND so_dinh_danh IS NOT NULL
    GROUP BY run_id, so_dinh_danh
)
SELECT d.run_id, d.registry, d.source_file, d.source_row, d.excel_row, d.owner_index, d.rec_id,
       CASE d.review_decision WHEN 'reject' THEN NULL WHEN 'accept' THEN d.chosen_pop_rec_id ELSE d.pop_rec_id END
           AS pop_rec_id,
       CASE d.review_decision WHEN 'reject' THEN NULL WHEN 'accept' THEN d.chosen_so_dinh_danh ELSE d.so_dinh_danh END
           AS so_dinh_danh,
       CASE d.review_decision
           WHEN 'accept' THEN CASE WHEN f.first_row IS NULL THEN 'matched' ELSE 'duplicate' END
           WHEN 'reject' THEN 'unmatched'
           ELSE d.status
       END AS status,
       CASE d.review_decision WHEN 'accept' THEN 'review_accepted' WHEN 'reject' THEN 'review_rejected'
                              ELSE d.method END AS method,
       d.match_weight, d.match_probability,
       CASE WHEN d.review_decision = 'accept' THEN f.first_row ELSE d.duplicate_of END AS duplicate_of,
       d.entity,
       CASE WHEN d.review_decision = 'reject' THEN 'review_rejected' ELSE d.reason END AS reason,
       CASE WHEN d.review_decision = 'reject' THEN NULL ELSE d.link_from_run END AS link_from_run,
       CASE WHEN d.review_decision = 'reject'
                  OR (d.review_decision = 'accept' AND d.chosen_pop_rec_id IS DISTINCT FROM d.pop_rec_id) THEN NULL
            ELSE d.person_hash END AS person_hash,  -- a person the reviewer chose instead: not fingerprinted here
       d.review_decision, d.reviewer, d.decided_at
FROM decided d
LEFT JOIN first_listing f    -- f is read only where review_decision = 'accept' (above)
  ON f.run_id = d.run_id AND f.so_dinh_danh = d.chosen_so_dinh_danh
"""


# Every run's evidence in full: the rows a run stored, and for the kept links of an incremental run
# the identical rows an earlier run stored, under this run's row, person row and rank 1 (the kept
# pair is the only pair an incremental run scores for the record; pipelines/warehouse/evidence.py).
LINK_EVIDENCE_SQL = """
SELECT run_id, registry, source_row, owner_index, rec_id, pop_rec_id, so_dinh_danh, candidate_rank,
       comparison, level, partial_weight
FROM link_evidence_stored
UNION ALL
SELECT k.run_id, k.registry, l.source_row, l.owner_index, k.rec_id, l.pop_rec_id, l.so_dinh_danh,
       1::SMALLINT AS candidate_rank, e.comparison, e.level, e.partial_weight
FROM link_evidence_kept k
JOIN links l ON l.run_id = k.run_id AND l.rec_id = k.rec_id
JOIN link_evidence_stored e
  ON e.run_id = k.from_run_id AND e.rec_id = k.from_rec_id AND e.so_dinh_danh = l.so_dinh_danh
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
            "link_evidence",
            "Per-comparison evidence for every kept candidate pair of every run: which level each comparison "
            "reached and its weight (link_evidence_stored, and an incremental run's unchanged kept links from "
            "the run that stored them: link_evidence_kept)",
            LINK_EVIDENCE_SQL,
            tuple((name, comment) for name, _, comment in TABLES["link_evidence_stored"].columns),
        ),
        View(
            "links_effective",
            "links after reviewers' decisions (review_decisions): accepted review candidates matched "
            "(method review_accepted), rejected ones unmatched (method review_rejected); columns of links "
            "plus review_decision, reviewer, decided_at",
            LINKS_EFFECTIVE_SQL,
            tuple(
                (
                    name,
                    {
                        "status": (
                            "Outcome after review: matched, review (still undecided), unmatched, rejected or duplicate"
                        ),
                        "method": "links.method, or review_accepted / review_rejected when a reviewer decided",
                        "so_dinh_danh": (
                            "Linked person's 12-digit ID; NULL when not linked or the reviewer rejected the candidate"
                        ),
                    }.get(name, comment),
                )
                for name, _, comment in TABLES["links"].columns
            )
            + (
                ("review_decision", "accept or reject: the latest reviewer decision on a review link; NULL otherwise"),
                ("reviewer", "Who made that decision"),
                ("decided_at", "When that decision was imported"),
            ),
        ),
        View(
            "changes",
            "What changed since the registry's previous succeeded run (Biến động so với lần trước): records "
            "added, removed, changed at source; mismatches and missing fields fixed or new; newly dead still "
            "paid; links changed — records recognized by record_key (pipelines/warehouse/changes.py)",
            CHANGES_SQL,
            CHANGES_COLUMNS,
        ),
        View(
            "coverage_changes",
            "Each coverage figure of a run beside the registry's previous succeeded run (per unit and metric)",
            COVERAGE_CHANGES_SQL,
            COVERAGE_CHANGES_COLUMNS,
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
    stmts += [
        f"COMMENT ON COLUMN {quote_identifier(table.name)}.{quote_identifier(n)} IS {quote_literal(c)}"
        for n, _, c in table.columns
    ]
    return stmts


def all_tables(specs: Iterable[RegistrySpec]) -> list[Table]:
    return list(TABLES.values()) + [rows_table(s) for s in specs]


# The warehouse's own schema: with an encrypted (ATTACHed) warehouse the in-memory `memory.main`
# is there too.
OWN_SCHEMA = "database_name = current_database() AND schema_name = 'main'"


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


# Tables an earlier release wrote under another name (old name -> new name): the view of the old
# name shows the same rows, so analysts' queries do not change.
RENAMED_TABLES = {"link_evidence": "link_evidence_stored"}


def ensure_schema(con: duckdb.DuckDBPyConnection, specs: Iterable[RegistrySpec] = ()) -> None:
    """Create missing tables (with their comments) and the views, in one transaction.

    Existing tables keep their rows; a column this version declares and an older warehouse
    lacks is added (NULL for old rows), so a warehouse written by an earlier release stays usable."""
    existing = {r[0] for r in con.execute(f"SELECT table_name FROM duckdb_tables() WHERE {OWN_SCHEMA}").fetchall()}
    renamed = [(old, new) for old, new in RENAMED_TABLES.items() if old in existing and new not in existing]
    existing |= {new for _, new in renamed}
    tables = all_tables(specs)
    todo = [t for t in tables if t.name not in existing]
    have = {
        (dict(renamed).get(r[0], r[0]), r[1])
        for r in con.execute(f"SELECT table_name, column_name FROM duckdb_columns() WHERE {OWN_SCHEMA}").fetchall()
    }
    added = [(t, c) for t in tables if t.name in existing for c in t.columns if (t.name, c[0]) not in have]
    views = {
        r[0]
        for r in con.execute(f"SELECT view_name FROM duckdb_views() WHERE {OWN_SCHEMA} AND NOT internal").fetchall()
    }
    if not renamed and not todo and not added and set(VIEWS) <= views and not _stale_views(con):
        return
    with transaction(con):
        for old, new in renamed:  # a warehouse of an earlier release: the table keeps its rows
            con.execute(f"ALTER TABLE {quote_identifier(old)} RENAME TO {quote_identifier(new)}")
            con.execute(f"COMMENT ON TABLE {quote_identifier(new)} IS {quote_literal(TABLES[new].comment)}")
        for table in todo:
            for stmt in ddl(table):
                con.execute(stmt)
        for table, (name, typ, comment) in added:
            con.execute(f"ALTER TABLE {quote_identifier(table.name)} ADD COLUMN {quote_identifier(name)} {typ}")
            con.execute(
                f"COMMENT ON COLUMN {quote_identifier(table.name)}.{quote_identifier(name)} IS {quote_literal(comment)}"
            )
        for view in VIEWS.values():
            con.execute(f"CREATE OR REPLACE VIEW {quote_identifier(view.name)} AS {view.sql}")
            con.execute(f"COMMENT ON VIEW {quote_identifier(view.name)} IS {quote_literal(view.comment)}")
            for column, comment in view.columns:
                con.execute(
                    f"COMMENT ON COLUMN {quote_identifier(view.name)}.{quote_identifier(column)} "
                    f"IS {quote_literal(comment)}"
                )


def _stale_views(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Views whose stored definition is not this version's (a warehouse written by an earlier
    release keeps its views otherwise — e.g. the nested-loop links_effective). DuckDB stores a
    view's SQL rewritten, so this version's SQL is compared after the same rewriting: created as
    a temporary view and read back. When the probe cannot run (a read-only warehouse), nothing
    is reported stale."""
    stale = []
    try:
        for view in VIEWS.values():
            stored = con.execute(
                f"SELECT sql FROM duckdb_views() WHERE {OWN_SCHEMA} AND view_name = ?", [view.name]
            ).fetchone()
            con.execute(f"CREATE OR REPLACE TEMP VIEW _doisoat_probe AS {view.sql}")
            probe = con.execute(
                "SELECT sql FROM duckdb_views() WHERE temporary AND view_name = '_doisoat_probe'"
            ).fetchone()
            con.execute("DROP VIEW IF EXISTS temp._doisoat_probe")
            body = lambda sql: sql.split(" AS ", 1)[1] if sql and " AS " in sql else sql  # noqa: E731 (drop "CREATE VIEW name")
            if stored is None or probe is None or body(stored[0]) != body(probe[0]):
                stale.append(view.name)
    except duckdb.Error:
        return []
    return stale


def _type_key(dtype: str) -> str:
    return {"TIMESTAMPTZ": "TIMESTAMP WITH TIME ZONE"}.get(dtype.upper(), dtype.upper()).split("(")[0]


def check_doisoat(con: duckdb.DuckDBPyConnection, db: Path | str) -> None:
    """An existing database must be a doisoat warehouse: some of our tables, with the columns
    (and types) this version declares or fewer — never someone else's data."""
    cols = con.execute(
        f"SELECT table_name, column_name, data_type FROM duckdb_columns() WHERE {OWN_SCHEMA} AND NOT internal"
    ).fetchall()
    if not cols:
        return  # a new, empty database
    have: dict[str, dict[str, str]] = {}
    for table, column, dtype in cols:
        have.setdefault(table, {})[column] = dtype
    if not set(have) & set(TABLES):
        raise WarehouseError(
            f"--db {db}: đây là cơ sở dữ liệu DuckDB nhưng không phải kho doisoat "
            f"(không có bảng nào của doisoat; có các bảng: "
            + ", ".join(sorted(have)[:8])
            + "). Hãy dùng một tệp khác cho --db."
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
