"""A registry doisoat has never heard of, added with a YAML file and no Python (issue 13).

Why: provinces keep their own lists (health-insurance card holders, pupils, ASM guests). A user
writes a spec file in any folder and runs `run --spec`, then `report` and `review` on that run:
the warehouse creates the registry's table, and the later commands rebuild the spec from the run's
ledger row instead of looking the name up among the built-in registries. The list here is the
sample welfare list with a health-insurance card's headers, so its truth is known.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sample"

SPEC = textwrap.dedent(
    """\
    spec: registry
    name: the_bhyt
    title_vi: Người có thẻ bảo hiểm y tế
    key_column: ma_the
    columns:
      - {name: ma_the, kind: text, aliases: [Mã thẻ BHYT, Mã thẻ], required: true, label_vi: Mã thẻ BHYT}
      - {name: ho_ten, kind: name, aliases: [$HO_TEN], required: true, role: ho_ten, label_vi: Họ và tên}
      - {name: ngay_sinh, kind: date, aliases: [$NGAY_SINH], required: true, role: ngay_sinh, label_vi: Ngày sinh}
      - {name: gioi_tinh, kind: sex, aliases: [$GIOI_TINH], required: true, role: gioi_tinh, label_vi: Giới tính}
      - {name: so_dinh_danh, kind: id, aliases: [$SO_CCCD], role: id, label_vi: Số định danh}
      - {name: dia_chi, kind: address, aliases: [$DIA_CHI], required: true, role: dia_chi, label_vi: Địa chỉ}
    match:
      comparisons: [ho_ten, ngay_sinh, gioi_tinh, id, dia_chi]
      blocking_rules: [ho_ten_nam_sinh, ho_ten_ngay_thang, ho_ten_xa, ten_ngay_sinh, ngay_sinh_xa]
    targets: {linked: 1.0, verified: 1.0, complete: 1.0}
    """
)
HEADERS = {
    "ma_doi_tuong": "Mã thẻ BHYT",
    "ho_ten": "Họ và tên",
    "ngay_sinh": "Ngày sinh",
    "gioi_tinh": "Giới tính",
    "so_cccd": "Số định danh",
    "dia_chi": "Địa chỉ",
}


def _doisoat(*args: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=900
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_a_registry_from_a_yaml_file_runs_reports_and_takes_reviews(tmp_path):
    spec_file = tmp_path / "the_bhyt.yaml"
    spec_file.write_text(SPEC, encoding="utf-8")
    cards = pl.read_csv(SAMPLE / "social_welfare.csv", infer_schema_length=0)
    cards.select(list(HEADERS)).rename(HEADERS).write_csv(tmp_path / "the_bhyt.csv")
    db, out = tmp_path / "kho.duckdb", tmp_path / "out"

    run = _doisoat(
        "run", "--spec", str(spec_file), "--population", str(SAMPLE / "population.csv"),
        "--input", str(tmp_path / "the_bhyt.csv"), "--db", str(db), "--out", str(out),
    )  # fmt: skip
    run_id = re.search(r"Lần chạy (\S+) \(Người có thẻ bảo hiểm y tế\)", run.stdout).group(1)
    _doisoat("report", run_id, "--db", str(db), "--out", str(tmp_path / "again"))
    assert (tmp_path / "again" / run_id / "the_bhyt.xlsx").is_file()
    _doisoat("review", str(out / run_id / "the_bhyt.xlsx"), "--db", str(db), "--reviewer", "Cán bộ kiểm tra")

    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM the_bhyt_rows WHERE run_id = ?", [run_id]).fetchone()[0] == len(cards)
        links = con.execute(
            "SELECT source_row, status, so_dinh_danh FROM links WHERE run_id = ? ORDER BY source_row", [run_id]
        ).pl()
        coverage = con.execute("SELECT count(*) FROM coverage WHERE run_id = ?", [run_id]).fetchone()[0]
    assert links.height == len(cards) and coverage > 0  # one outcome per row; coverage of the own registry
    truth = pl.read_csv(SAMPLE / "truth" / "social_welfare.csv", infer_schema_length=0).select(
        pl.col("source_row").cast(pl.Int64), pl.col("so_dinh_danh").alias("true_id")
    )
    linked = links.filter(pl.col("status").is_in(["matched", "duplicate"])).join(truth, on="source_row")
    correct = linked.filter(pl.col("so_dinh_danh") == pl.col("true_id")).height
    present = truth.filter(pl.col("true_id").is_not_null()).height
    assert correct / linked.height >= 0.995  # precision
    assert correct / present >= 0.95  # recall


# A CSDLQG extract (or a province's own master list) whose headers are none of the usual ones.
OTHER_HEADERS = {
    "so_dinh_danh": "Mã định danh công dân",
    "so_cmnd_cu": "CMTND",
    "ho_ten": "Tên công dân",
    "ngay_sinh": "Sinh ngày",
    "gioi_tinh": "Phái",
    "ho_ten_cha": "Cha",
    "ho_ten_me": "Mẹ",
    "ma_tinh": "MaTinh",
    "ten_tinh": "TenTinh",
    "ma_xa": "MaXa",
    "ten_xa": "TenXa",
    "dia_chi_thuong_tru": "Thường trú tại",
    "ma_ho": "MaHo",
    "ngay_mat": "Ngày từ trần",
}
KINDS = {"so_dinh_danh": "id", "so_cmnd_cu": "id", "ho_ten": "name", "ngay_sinh": "date", "gioi_tinh": "sex",
         "ho_ten_cha": "name", "ho_ten_me": "name", "ngay_mat": "date"}  # fmt: skip
ROLES = {"so_dinh_danh": "id", "ho_ten": "ho_ten", "ngay_sinh": "ngay_sinh", "gioi_tinh": "gioi_tinh",
         "ho_ten_cha": "ho_ten_cha", "ho_ten_me": "ho_ten_me"}  # fmt: skip


def _reference_spec() -> str:
    lines = ["spec: reference", "name: population", "title_vi: Danh sách công dân của tỉnh", "columns:"]
    for name, header in OTHER_HEADERS.items():
        extra = (
            f", required: true, role: {ROLES[name]}"
            if name in ROLES and name not in ("ho_ten_cha", "ho_ten_me")
            else ""
        )
        role = f", role: {ROLES[name]}" if name in ("ho_ten_cha", "ho_ten_me") else ""
        lines.append(f"  - {{name: {name}, kind: {KINDS.get(name, 'text')}, aliases: [{header}]{extra}{role}}}")
    return "\n".join(lines) + "\n"


def test_an_extract_with_other_headers_is_read_through_its_spec_file(tmp_path):
    extract = pl.read_csv(SAMPLE / "population.csv", infer_schema_length=0)
    extract.rename(OTHER_HEADERS).write_csv(tmp_path / "cong_dan.csv")
    (tmp_path / "cong_dan.yaml").write_text(_reference_spec(), encoding="utf-8")
    db, out = tmp_path / "kho.duckdb", tmp_path / "out"
    common = ["--input", str(SAMPLE / "social_welfare.csv"), "--db", str(db), "--out", str(out), "-q"]

    refused = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "run", "social_welfare", "--population", str(tmp_path / "cong_dan.csv"),
         *common], capture_output=True, text=True, cwd=ROOT, timeout=900,
    )  # fmt: skip
    assert refused.returncode == 2 and "không tìm thấy các cột bắt buộc" in refused.stderr  # usual headers absent
    _doisoat("run", "social_welfare", "--population", str(SAMPLE / "population.csv"), *common)
    _doisoat("run", "social_welfare", "--population", str(tmp_path / "cong_dan.csv"),
             "--population-spec", str(tmp_path / "cong_dan.yaml"), *common)  # fmt: skip

    with duckdb.connect(str(db), read_only=True) as con:
        runs = [
            r[0]
            for r in con.execute("SELECT run_id FROM runs WHERE status = 'succeeded' ORDER BY started_at").fetchall()
        ]
        assert len(runs) == 2
        links = [
            con.execute(
                "SELECT source_row, owner_index, status, method, so_dinh_danh FROM links "
                "WHERE run_id = ? ORDER BY 1, 2",
                [run],
            ).fetchall()
            for run in runs
        ]
        params = con.execute("SELECT parameters FROM runs WHERE run_id = ?", [runs[1]]).fetchone()[0]
    assert links[0] == links[1] and len(links[0]) == 500  # the same links as with the usual headers
    assert "cong_dan.yaml" in params  # the run records which reference spec it read
