"""The generic reconcile pipeline on a tiny hand-made fixture: real files, a real DuckDB file,
real GX suite and matcher. Checks the contracts other stages and analysts rely on."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import duckdb
import openpyxl
import polars as pl
import pytest
import xlsxwriter

from pipelines import warehouse
from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.flow import DEMO_ORDER, RunSummary, reconcile, run_demo_cli
from pipelines.registries import REGISTRIES, get_spec

TINY = Path(__file__).resolve().parent / "fixtures" / "tiny"

LINK_COLUMNS = {
    "run_id",
    "registry",
    "source_file",
    "source_row",
    "so_dinh_danh",
    "status",
    "method",
    "match_probability",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """`doisoat demo` on the tiny fixture: all five registries, deaths first, into one warehouse."""
    root = tmp_path_factory.mktemp("tiny")
    shutil.copytree(TINY, root / "sample")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = run_demo_cli(root / "sample", root / "w.duckdb", root / "out", unmasked=False)
    return code, out.getvalue(), root


@pytest.fixture(scope="module")
def tiny_runs(demo):
    _, _, root = demo
    db = root / "w.duckdb"
    con = duckdb.connect(str(db), read_only=True)
    try:
        latest = con.execute(
            "SELECT registry, arg_max(run_id, started_at), arg_max(row_counts, started_at) FROM runs "
            "WHERE status = 'succeeded' GROUP BY registry"
        ).fetchall()
    finally:
        con.close()
    runs = {r: RunSummary(run_id=run_id, registry=r, row_counts=json.loads(counts)) for r, run_id, counts in latest}
    assert set(runs) == set(DEMO_ORDER)
    return db, runs


def _con(db):
    return duckdb.connect(str(db), read_only=True)


def test_every_input_row_has_exactly_one_outcome(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        for registry, summary in runs.items():
            c = summary.row_counts
            rows = pl.read_csv(TINY / f"{registry}.csv", infer_schema=False).height
            assert c["input_rows"] == rows
            assert c["matched"] + c["review"] + c["unmatched"] + c["rejected"] + c["duplicate"] == c["records"]
            assert c["records"] == rows + c["extra_owner_records"]
            n, distinct_rows = con.execute(
                "SELECT count(*), count(DISTINCT source_row) FROM links WHERE run_id = ?", [summary.run_id]
            ).fetchone()
            assert (n, distinct_rows) == (c["records"], rows)
            stored = json.loads(
                con.execute("SELECT row_counts FROM runs WHERE run_id = ?", [summary.run_id]).fetchone()[0]
            )
            assert stored["input_rows"] == rows
    finally:
        con.close()


def test_links_contract_and_outcomes(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        cols = {
            r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = 'links'").fetchall()
        }
        assert LINK_COLUMNS <= cols
        links = con.execute(
            "SELECT registry, source_row, owner_index, status, method, entity, so_dinh_danh "
            "FROM links WHERE run_id IN (SELECT unnest(?))",
            [[s.run_id for s in runs.values()]],
        ).pl()
    finally:
        con.close()
    assert set(links["status"]) <= set(warehouse.LINK_STATUSES)
    welfare = links.filter(pl.col("registry") == "social_welfare").sort("source_row")
    # row 3 has no name, no date and no ID: rejected with a reason; row 5 repeats row 4
    assert welfare["status"].to_list() == ["matched", "matched", "rejected", "matched", "duplicate"]
    assert welfare["so_dinh_danh"].to_list()[0] == "001050012345"  # linked through the old 9-digit CMND
    land = links.filter(pl.col("registry") == "land").sort("source_row", "owner_index")
    org = land.filter(pl.col("source_row") == 2)
    assert org.select("status", "method", "entity").row(0) == ("unmatched", "organization", "organization")
    assert land.filter(pl.col("source_row") == 1).height == 2, "a couple gives two person records"


def test_alive_checks_use_csdlqg_and_registered_deaths(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        alerts = con.execute(
            "SELECT registry, source_row, kind, death_source, ngay_mat_csdlqg, ngay_mat_khai_tu, old_value, new_value "
            "FROM alerts WHERE run_id IN (SELECT unnest(?)) ORDER BY ALL",
            [[s.run_id for s in runs.values()]],
        ).fetchall()
    finally:
        con.close()
    # Lê Văn Cường: death registered, CSDLQG still alive -> alert on the death and on his welfare and pension rows
    assert ("civil_deaths", 1, "death_not_in_csdlqg", "civil_deaths", None, "2026-04-03", None, None) in alerts
    assert ("social_welfare", 4, "dead_still_paid", "civil_deaths", None, "2026-04-03", None, None) in alerts
    assert ("pension", 2, "dead_still_paid", "civil_deaths", None, "2026-04-03", None, None) in alerts
    # Trần Thị Bình: dead in CSDLQG and registered: both dates
    assert (
        "social_welfare",
        2,
        "dead_still_paid",
        "csdlqg;civil_deaths",
        "2025-06-01",
        "2025-06-01",
        None,
        None,
    ) in alerts
    # old CMND replaced by a 12-digit ID: suggested update
    assert ("social_welfare", 1, "suggested_id_update", None, None, None, "012345678", "001050012345") in alerts


def test_mismatches_and_duplicates(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        mm = con.execute(
            "SELECT source_row, field, registry_value, csdlqg_value FROM mismatches WHERE run_id = ?",
            [runs["social_welfare"].run_id],
        ).fetchall()
        dups = con.execute(
            "SELECT source_row, duplicate_of, basis FROM duplicates WHERE run_id = ? ORDER BY basis",
            [runs["social_welfare"].run_id],
        ).fetchall()
    finally:
        con.close()
    assert (2, "ho_ten", "Tran Thi Binh", "Trần Thị Bình") in mm
    assert dups == [(5, 4, "same_key"), (5, 4, "same_person")]


def test_every_table_and_column_has_a_comment(tiny_runs):
    db, _ = tiny_runs
    con = _con(db)
    try:
        missing_t = con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE NOT internal AND (comment IS NULL OR comment = '')"
        ).fetchall()
        missing_c = con.execute(
            "SELECT table_name, column_name FROM duckdb_columns() "
            "WHERE NOT internal AND schema_name = 'main' AND (comment IS NULL OR comment = '')"
        ).fetchall()
    finally:
        con.close()
    assert missing_t == [] and missing_c == []


def test_population_is_normalized_once_per_extract(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        shas = con.execute("SELECT DISTINCT population_sha256 FROM runs WHERE status = 'succeeded'").fetchall()
        n = con.execute("SELECT count(*) FROM population").fetchone()[0]
        cached = [
            json.loads(r[0])[1].get("cached")
            for r in con.execute(
                "SELECT input_files FROM runs WHERE status = 'succeeded' ORDER BY started_at"
            ).fetchall()
        ]
    finally:
        con.close()
    assert len(shas) == 1
    assert n == pl.read_csv(TINY / "population.csv", infer_schema=False).height
    assert cached[0] is False and all(cached[1:])


def test_failed_write_leaves_previous_results_intact(tiny_runs, tmp_path):
    db_src, runs = tiny_runs
    db = tmp_path / "copy.duckdb"
    shutil.copy(db_src, db)
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        before = {
            t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("links", "alerts", "mismatches")
        }
        good = con.execute("SELECT * FROM links LIMIT 3").pl().with_columns(pl.lit("run-x").alias("run_id"))
    finally:
        con.close()
    bad = pl.DataFrame({"run_id": ["run-x"], "not_a_column": [1]})
    with pytest.raises(ValueError, match="not_a_column"):  # the pipeline's own write
        warehouse.write_run(db, "run-x", {"links": good, "alerts": bad}, {}, specs=REGISTRIES.values())
    con = warehouse.connect(db, REGISTRIES.values())
    try:
        after = {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("links", "alerts", "mismatches")}
        assert after == before
        assert con.execute("SELECT count(*) FROM links WHERE run_id = 'run-x'").fetchone()[0] == 0
    finally:
        con.close()


def test_failed_run_is_recorded_and_earlier_runs_stay(tiny_runs, tmp_path):
    db_src, runs = tiny_runs
    db = tmp_path / "copy.duckdb"
    shutil.copy(db_src, db)
    bad = tmp_path / "thieu_cot.csv"
    bad.write_text("ho_ten,gioi_tinh\nNguyễn Văn An,Nam\n", encoding="utf-8")
    with pytest.raises(InputError, match="thieu_cot.csv"):
        reconcile(get_spec("pension"), TINY / "population.csv", bad, db, tmp_path / "out", reports=False)
    con = _con(db)
    try:
        status, error = con.execute(
            "SELECT status, error FROM runs WHERE status <> 'succeeded' ORDER BY started_at DESC LIMIT 1"
        ).fetchone()
        n = con.execute("SELECT count(*) FROM links WHERE run_id = ?", [runs["pension"].run_id]).fetchone()[0]
    finally:
        con.close()
    assert status == "failed" and "không tìm thấy các cột bắt buộc" in error
    assert n == 2


def test_excel_input_gives_the_same_outcomes_as_csv(tiny_runs, tmp_path):
    db, runs = tiny_runs
    csv = pl.read_csv(TINY / "social_welfare.csv", infer_schema=False)
    path = tmp_path / "bao_tro.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet()
    ws.write(0, 0, "DANH SÁCH ĐỐI TƯỢNG BẢO TRỢ XÃ HỘI")
    labels = {c.name: c.label_vi for c in get_spec("social_welfare").columns}
    ws.write_row(2, 0, ["STT"] + [labels[c] for c in csv.columns])
    for i, row in enumerate(csv.iter_rows()):
        ws.write_row(3 + i, 0, [i + 1] + [v or "" for v in row])
    ws.write_row(3 + csv.height, 0, ["Tổng cộng"])
    wb.close()
    summary = reconcile(
        get_spec("social_welfare"),
        TINY / "population.csv",
        path,
        tmp_path / "x.duckdb",
        tmp_path / "out",
        reports=False,
    )
    want = {k: runs["social_welfare"].row_counts[k] for k in ("input_rows", "matched", "rejected", "duplicate")}
    assert {k: summary.row_counts[k] for k in want} == want
    assert any("tổng cộng" in n for n in summary.notes)


def test_workbook_with_one_sheet_per_commune_gives_the_same_outcomes(tiny_runs, tmp_path):
    """The same rows split over two sheets after a cover sheet: same outcomes, and every row of the
    workbook (report sheets included) says which sheet and row to fix."""
    db, runs = tiny_runs
    csv = pl.read_csv(TINY / "social_welfare.csv", infer_schema=False)
    path = tmp_path / "bao_tro_theo_xa.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    wb.add_worksheet("Bìa").write(0, 0, "Báo cáo năm 2026")
    labels = {c.name: c.label_vi for c in get_spec("social_welfare").columns}
    half = csv.height // 2
    for name, part in (("Xã 1", csv.head(half)), ("Xã 2", csv.tail(csv.height - half))):
        ws = wb.add_worksheet(name)
        ws.write_row(0, 0, [labels[c] for c in csv.columns])
        for i, row in enumerate(part.iter_rows()):
            ws.write_row(1 + i, 0, [v or "" for v in row])
    wb.close()
    out = tmp_path / "out"
    summary = reconcile(get_spec("social_welfare"), TINY / "population.csv", path, tmp_path / "x.duckdb", out)
    want = {k: runs["social_welfare"].row_counts[k] for k in ("input_rows", "matched", "rejected", "duplicate")}
    assert {k: summary.row_counts[k] for k in want} == want
    con = duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True)
    try:
        files = con.execute("SELECT source_file, count(*), min(excel_row) FROM links GROUP BY 1 ORDER BY 1").fetchall()
    finally:
        con.close()
    assert files == [("bao_tro_theo_xa.xlsx [Xã 1]", half, 2), ("bao_tro_theo_xa.xlsx [Xã 2]", csv.height - half, 2)]
    book = openpyxl.load_workbook(summary.reports["excel"], read_only=True)
    listed = {
        r[0]
        for name in ("Sai lệch", "Không tìm thấy")
        for r in book[name].iter_rows(min_row=5, values_only=True)
        if r and r[0]
    }
    book.close()
    assert listed and listed <= {"bao_tro_theo_xa.xlsx [Xã 1]", "bao_tro_theo_xa.xlsx [Xã 2]"}


def test_cli_reports_bad_files_without_traceback(tmp_path, capsys):
    empty = tmp_path / "rong.csv"
    empty.write_bytes(b"")
    code = main(
        [
            "run",
            "pension",
            "--population",
            str(TINY / "population.csv"),
            "--input",
            str(empty),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "rong.csv" in err and "rỗng" in err and "Traceback" not in err


def test_demo_prints_a_vietnamese_coverage_summary(demo):
    code, out, root = demo
    assert code == 0
    assert "Tổng hợp đối soát" in out and "Liên kết" in out
    for spec in (get_spec(r) for r in DEMO_ORDER):
        assert spec.title_vi in out
    assert any((root / "out").rglob("*.xlsx")), "officers' workbooks written"


def test_residence_held_differently_by_csdlqg_is_a_mismatch(tiny_runs):
    db, runs = tiny_runs
    con = _con(db)
    try:
        rows = con.execute(
            "SELECT source_row, field, kind, csdlqg_value FROM mismatches WHERE run_id = ? AND kind = 'residence'",
            [runs["pension"].run_id],
        ).fetchall()
    finally:
        con.close()
    assert rows == [(1, "dia_chi", "residence", "Phường Ba Đình, Thành phố Hà Nội")]


def test_garbage_rows_are_kept_with_one_outcome_each(tmp_path):
    """Unreadable owners, no name at all, impossible dates: every row still ends in links."""
    path = tmp_path / "dat_loi.csv"
    path.write_text(
        "so_giay_chung_nhan,so_to,so_thua,dien_tich,chu_su_dung,nam_sinh,so_giay_to,dia_chi_thuong_tru,dia_chi_thua_dat\n"
        "CN1,1,1,-5,???,abc,012345678,???,\n"  # no readable owner, but an old CMND: matched by ID
        "CN2,1,2,10,,,,,\n"  # nothing at all: rejected
        "CN3,1,3,x,Ông Nguyễn Văn An,1850,,Hà Nội,\n"  # impossible year, no ID: matched or not, never lost
        "CN4,1,4,10,Công ty TNHH Minh Phát,,,,\n",  # organization
        encoding="utf-8",
    )
    summary = reconcile(
        get_spec("land"), TINY / "population.csv", path, tmp_path / "w.duckdb", tmp_path / "out", reports=False
    )
    c = summary.row_counts
    assert c["input_rows"] == 4 and c["records"] == 4
    con = _con(tmp_path / "w.duckdb")
    try:
        links = dict(con.execute("SELECT source_row, status || '/' || method FROM links").fetchall())
    finally:
        con.close()
    assert links[1] == "matched/cmnd9"
    assert links[2] == "rejected/rejected"
    assert links[4] == "unmatched/organization"


def test_cli_run_reconciles_one_file_and_prints_the_summary(tmp_path, capsys):
    code = main(
        [
            "run",
            "pension",
            "--population",
            str(TINY / "population.csv"),
            "--input",
            str(TINY / "pension.csv"),
            "--db",
            str(tmp_path / "w.duckdb"),
            "--out",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Người hưởng lương hưu" in out and "Liên kết" in out and "100.0 %" in out
    assert "001050012345" not in out, "no personal data on screen"


def test_a_file_with_no_matchable_row_still_gives_outcomes_and_reports(tmp_path):
    path = tmp_path / "khong_ten.csv"
    path.write_text(
        "ma_doi_tuong,ho_ten,ngay_sinh,gioi_tinh,so_cccd,dia_chi,loai_doi_tuong,muc_tro_cap,hinh_thuc_chi_tra\n"
        "DT1,,,,,,Người cao tuổi,500000,Tiền mặt\nDT2,,,,,,Người cao tuổi,500000,Tiền mặt\n",
        encoding="utf-8",
    )
    summary = reconcile(
        get_spec("social_welfare"), TINY / "population.csv", path, tmp_path / "w.duckdb", tmp_path / "out"
    )
    assert summary.row_counts["rejected"] == summary.row_counts["input_rows"] == 2
    assert summary.reports, "reports are written even when nothing could be matched"
