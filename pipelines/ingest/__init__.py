"""Ingestion: turn the files officers really have into one text frame with canonical columns.

Why so forgiving: registry files come from commune offices as CSV in UTF-8 or Windows-1258,
Excel sheets with title rows above the header, two-row merged headers, an STT column and a
"Tổng cộng" row at the bottom. We read every cell as text (numbers and dates are rendered the
way the officer sees them; the normalizers parse them), find the header row by matching the
spec's aliases (case, diacritics, spaces and punctuation ignored), and keep three row numbers on
every row: `source_file`, `source_row` (1 = first data row) and `excel_row` (what the officer
sees). Non-data rows (blank rows, the totals row) are dropped and *reported*, never silently.

Legacy TCVN3/VNI text inside a file is converted per value by the normalizer; ingestion only
decodes bytes. Anything wrong with the file itself raises `InputError` in Vietnamese.

The modules follow what ingestion does, in order:
`decoding` (bytes → text lines) → `sources` (files → grids of cell text) → `header` (which row
is the header, which column is which) → `lines` (which lines are not data, and why) → `table`
(one file → `IngestResult`, every line accounted for). This file re-exports what the rest of
doisoat uses.
"""

from pipelines.ingest.decoding import decode_lines
from pipelines.ingest.header import (
    alias_index,
    load_column_map,
    locate_header,
    two_row_labels,
)
from pipelines.ingest.lines import SKIP_REASONS, SKIPPED_COLUMNS, mask_text
from pipelines.ingest.sources import check_workbook, read_grid, read_sheets, sha256_file
from pipelines.ingest.table import IngestResult, read_csv_fast, read_parquet_fast, read_table

__all__ = [
    "SKIPPED_COLUMNS",
    "SKIP_REASONS",
    "IngestResult",
    "alias_index",
    "check_workbook",
    "decode_lines",
    "load_column_map",
    "locate_header",
    "mask_text",
    "read_csv_fast",
    "read_parquet_fast",
    "read_grid",
    "read_sheets",
    "read_table",
    "sha256_file",
    "two_row_labels",
]
