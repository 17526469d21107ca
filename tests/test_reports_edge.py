"""Edge cases of the reports: a run with no rows for every registry, and land organizations,
which are not persons and must neither lower coverage nor appear as "not found"."""

from __future__ import annotations

import openpyxl
import polars as pl
import pytest
import reports_warehouse as rw

from pipelines.findings.coverage import coverage_frame
from pipelines.registries import REGISTRIES
from pipelines.reports import write_reports
from pipelines.reports.queries import action_lists, fetch
from pipelines.warehouse import connect, finish_run, insert_frame, start_run


@pytest.mark.parametrize("name", sorted(REGISTRIES))
def test_empty_run_still_gives_every_report(tmp_path, name):
    con = connect(tmp_path / "w.duckdb", REGISTRIES.values())
    run_id = f"{name}-empty"
    start_run(con, run_id, name, {}, {})
    finish_run(con, run_id, status="failed", error="tệp rỗng")
    paths = write_reports(con, run_id, tmp_path / "out")
    wb = openpyxl.load_workbook(paths["excel"])
    assert wb.sheetnames[:2] == ["Tổng hợp", "Theo xã"]
    assert wb.sheetnames[2:] == [a.sheet for a in action_lists(REGISTRIES[name])] + ["Dòng không phải dữ liệu"]
    assert "thất bại" in paths["html"].read_text(encoding="utf-8")


def test_organizations_do_not_count_as_not_found(tmp_path):
    con = rw.build(tmp_path / "w.duckdb")
    before = coverage_frame(con, rw.RUN_ID)
    org = (
        con.execute("SELECT * FROM links WHERE run_id = ? AND source_row = 6", [rw.RUN_ID])
        .pl()
        .with_columns(
            pl.lit(9).cast(pl.Int64).alias("source_row"),
            pl.lit(90).cast(pl.Int64).alias("rec_id"),
            pl.lit("organization").alias("entity"),
            pl.lit("organization").alias("method"),
        )
    )
    insert_frame(con, "links", org)
    after = coverage_frame(con, rw.RUN_ID)
    assert after.equals(before)
    not_found = next(a for a in action_lists(rw.SPEC) if a.code == "not_found")
    assert 9 not in fetch(con, rw.SPEC, not_found, rw.RUN_ID)["source_row"].to_list()


def test_report_of_unknown_run_is_a_clear_vietnamese_error(tmp_path, capsys):
    from pipelines.cli import main

    con = connect(tmp_path / "w.duckdb", REGISTRIES.values())
    con.close()
    assert main(["report", "khong-co", "--db", str(tmp_path / "w.duckdb"), "--out", str(tmp_path / "out")]) == 2
    assert "Không có lần chạy 'khong-co'" in capsys.readouterr().err
