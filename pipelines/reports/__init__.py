"""Reports of a run, all regenerated from the warehouse alone (`doisoat report RUN_ID`).

`write_reports` writes into `out_dir/<run_id>/`:
- `<registry>.xlsx` — the officers' workbook (excel.py),
- `<registry>_audit.html` — the auditors' self-contained report (html.py),
- with `by_commune`: `theo_xa/` — one password-protected workbook per commune, IDs unmasked
  (commune_files.py), and `mat_khau_<registry>.csv` when the passwords were generated,
and makes sure the run's `coverage` rows exist (computed by coverage.py when missing). Every file
and folder written is owner-only (0600/0700, pipelines/private_files.py).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import polars as pl

from matching.sql import quote_identifier
from pipelines.errors import DoisoatError, OutputError
from pipelines.findings.coverage import coverage_frame, store_coverage
from pipelines.private_files import restrict, restrict_tree
from pipelines.progress import part
from pipelines.registries import REGISTRIES, spec_of_run
from pipelines.reports.commune_files import read_password_file, write_commune_workbooks
from pipelines.reports.excel import write_workbook
from pipelines.reports.html import write_html
from pipelines.reports.queries import changes_of_run
from pipelines.warehouse import connect


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
        raise OutputError(
            f"{option} {path}: không ghi được vào thư mục này ({exc.strerror or type(exc).__name__})."
        ) from None


def _cursor(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """A connection to the same warehouse for another thread, on the same default database and
    schema: an encrypted warehouse is ATTACHed and made the default with USE, which a new cursor
    does not inherit."""
    database, schema = con.execute("SELECT current_database(), current_schema()").fetchone()
    cursor = con.cursor()
    cursor.execute(f"USE {quote_identifier(database)}.{quote_identifier(schema)}")
    return cursor


def write_reports(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    out_dir: Path,
    unmasked: bool = False,
    by_commune: bool = False,
    password_file: Path | None = None,
) -> dict[str, Path]:
    """Write the workbook, the HTML audit report (and the communes' workbooks) of one run; returns their paths.

    The password is read here from `password_file`, never passed around: it must not reach the
    run ledger's parameters or a Prefect flow run's parameters."""

    spec = spec_of_run(con, run_id)
    folder = Path(out_dir) / run_id
    folder.mkdir(parents=True, exist_ok=True)
    with part("report_coverage", "  Tỉ lệ bao phủ…"):
        has_coverage = con.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [run_id]).fetchone()[0] > 0
        coverage = coverage_frame(con, run_id, spec) if has_coverage else store_coverage(con, run_id, spec)
    paths: dict[str, Path] = {"excel": folder / f"{spec.name}.xlsx", "html": folder / f"{spec.name}_audit.html"}

    def html(cursor: duckdb.DuckDBPyConnection, changes: Callable[[], pl.DataFrame]) -> None:
        with part("report_html", "  Báo cáo HTML…"):
            write_html(cursor, spec, run_id, coverage, paths["html"], unmasked=unmasked, changes=changes)

    # The workbook and the HTML report are mostly DuckDB queries and polars (both release the
    # GIL): side by side, each gets a core. The HTML thread has its own cursor, made here: a DuckDB
    # connection is never used by two threads. The `changes` view, the costliest query, is
    # evaluated once, first on the HTML thread; the workbook's second-to-last sheet waits for it.
    cursor = _cursor(con)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            changes = pool.submit(changes_of_run, cursor, run_id)
            html_done = pool.submit(html, cursor, changes.result)
            with part("report_excel", "  Sổ Excel…"):
                write_workbook(con, spec, run_id, coverage, paths["excel"], unmasked=unmasked, changes=changes.result)
            html_done.result()
    finally:
        cursor.close()
    if by_commune:
        password = read_password_file(Path(password_file)) if password_file else None
        with part("report_communes", "  Sổ từng xã…"):
            communes = write_commune_workbooks(con, spec, run_id, coverage, folder, password=password)
        paths["communes"] = communes.folder
        if communes.passwords is not None:
            paths["passwords"] = communes.passwords
    restrict_tree(folder)
    restrict(Path(out_dir))
    return paths


def regenerate_cli(
    run_id: str,
    db: Path,
    out_dir: Path,
    unmasked: bool = False,
    by_commune: bool = False,
    password_file: Path | None = None,
) -> int:
    """`doisoat report RUN_ID`: rebuild a run's reports from the warehouse file."""
    if not Path(db).exists():
        raise DoisoatError(f"Không tìm thấy kho dữ liệu {db}.", code="warehouse_not_found")

    ensure_writable_dir(Path(out_dir))
    con = connect(db, REGISTRIES.values())
    try:
        paths = write_reports(
            con, run_id, Path(out_dir), unmasked=unmasked, by_commune=by_commune, password_file=password_file
        )
    finally:
        con.close()
    labels = {
        "excel": "Sổ Excel cho cán bộ",
        "html": "Báo cáo kiểm toán HTML",
        "communes": "Sổ riêng từng xã (có mật khẩu)",
        "passwords": "Danh sách mật khẩu (gửi riêng, không kèm tệp)",
    }
    for kind, path in paths.items():
        print(f"{labels.get(kind, kind)}: {path}", file=sys.stdout)
    return 0
