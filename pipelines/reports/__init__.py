"""Reports of a run, all regenerated from the warehouse alone (`doisoat report RUN_ID`).

`write_reports` writes into `out_dir/<run_id>/`:
- `<registry>.xlsx` — the officers' workbook (excel.py),
- `<registry>_audit.html` — the auditors' self-contained report (html.py),
- `data_docs/` — Great Expectations Data Docs of the registry's suite, re-run on the run's rows
  as stored in `<registry>_rows` (counts only, no values),
and makes sure the run's `coverage` rows exist (computed by coverage.py when missing).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import duckdb

from pipelines.errors import DoisoatError, OutputError


def ensure_writable_dir(path: Path, option: str = "--out") -> None:
    """Refuse an output folder that cannot be written, before anything is committed: a run or
    a review must not end with its results in the warehouse and no report beside them."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{option} {path}: đây là một tệp, cần một thư mục để ghi báo cáo.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doisoat-ghi-thu-"):
            pass
    except OSError as exc:
        raise OutputError(f"{option} {path}: không ghi được vào thư mục này ({exc.strerror or type(exc).__name__}).") from None


def write_reports(con: duckdb.DuckDBPyConnection, run_id: str, out_dir: Path, unmasked: bool = False, data_docs: bool = True) -> dict[str, Path]:
    """Write the workbook, the HTML audit report and Data Docs of one run; returns their paths."""
    from pipelines.registries import REGISTRIES
    from pipelines.reports.coverage import coverage_frame, run_registry, store_coverage
    from pipelines.reports.excel import write_workbook
    from pipelines.reports.html import write_html

    spec = REGISTRIES[run_registry(con, run_id)]
    folder = Path(out_dir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    has_coverage = con.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [run_id]).fetchone()[0] > 0
    coverage = coverage_frame(con, run_id, spec) if has_coverage else store_coverage(con, run_id, spec)
    paths: dict[str, Path] = {}
    paths["excel"] = folder / f"{spec.name}.xlsx"
    write_workbook(con, spec, run_id, coverage, paths["excel"], unmasked=unmasked)
    if data_docs:
        paths["data_docs"] = build_data_docs(con, spec, run_id, folder / "data_docs")
    paths["html"] = write_html(con, spec, run_id, coverage, folder / f"{spec.name}_audit.html", unmasked=unmasked)
    return paths


def build_data_docs(con: duckdb.DuckDBPyConnection, spec, run_id: str, docs_dir: Path) -> Path:
    """Re-run the registry's suite on the stored rows of the run and build Data Docs there."""
    from pipelines.warehouse import rows_table_name
    from validation.suites import run_suite

    table = rows_table_name(spec.name).replace('"', '""')
    rows = con.execute(  # with the entity of the row's first person: organizations skip person checks
        f"""
        SELECT r.*, l.entity FROM "{table}" r
        LEFT JOIN links l ON l.run_id = r.run_id AND l.source_file = r.source_file
                         AND l.source_row = r.source_row AND l.owner_index = 0
        WHERE r.run_id = ? ORDER BY r.source_row
        """,
        [run_id],
    ).pl()
    run_suite(spec, rows, data_docs_dir=docs_dir)
    return docs_dir / "index.html"


def regenerate_cli(run_id: str, db: Path, out_dir: Path, unmasked: bool = False) -> int:
    """`doisoat report RUN_ID`: rebuild a run's reports from the warehouse file."""
    if not Path(db).exists():
        raise DoisoatError(f"Không tìm thấy kho dữ liệu {db}.")
    from pipelines.registries import REGISTRIES
    from pipelines.warehouse import connect

    ensure_writable_dir(Path(out_dir))
    con = connect(db, REGISTRIES.values())
    try:
        paths = write_reports(con, run_id, Path(out_dir), unmasked=unmasked)
    finally:
        con.close()
    labels = {"excel": "Sổ Excel cho cán bộ", "html": "Báo cáo kiểm toán HTML", "data_docs": "Data Docs (Great Expectations)"}
    for kind, path in paths.items():
        print(f"{labels.get(kind, kind)}: {path}", file=sys.stdout)
    return 0
