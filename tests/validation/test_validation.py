"""The generated GX suite catches crafted bad rows; Data Docs show counts, never personal data;
the missing-field report suggests CSDLQG's value only for linked rows."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.registries import REGISTRIES
from validation.completeness import missing_fields
from validation.suites import expectation_plan, prepare_frame, run_suite

WELFARE = REGISTRIES["social_welfare"]

# Row 1 is clean; each other row carries one defect named in its comment.
ROWS = pl.DataFrame(
    {
        "source_file": ["btxh.xlsx"] * 5,
        "source_row": [1, 2, 3, 4, 5],
        "excel_row": [3, 4, 5, 6, 7],
        "ma_doi_tuong": ["DT01", "DT02", "DT03", "DT04", "DT05"],
        "ho_ten": ["Nguyễn Văn An", "  ", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"],  # 2: name missing
        "ngay_sinh": ["02/03/1950", "1960", "31/12/1955", "01/01/2090", "05/06/1970"],  # 4: in the future
        "gioi_tinh": ["Nam", "Nữ", "Nữ", "Nam", "X"],  # 5: sex not in set
        "so_cccd": ["001050012345", "001160012346", "12345", "001055012347", "001170012348"],  # 3: bad ID
        "dia_chi": ["Xã A, Hà Nội"] * 5,
        "loai_doi_tuong": ["Cao tuổi"] * 5,
        "muc_tro_cap": ["1.500.000", "-500.000", "500000", "500000", "500000"],  # 2: negative amount
        "hinh_thuc_chi_tra": ["Chuyển khoản", "Tiền mặt", "Tiền mặt", "chuyen khoan", "Tiền mặt"],
        "so_tai_khoan": ["0123456789", None, None, "", None],  # 4: paid by account, no account
        "ngan_hang": [None] * 5,
    }
)


@pytest.fixture(scope="module")
def docs_run(tmp_path_factory):
    return run_suite(WELFARE, ROWS), None


def _result(results: pl.DataFrame, check: str, column: str) -> dict:
    hit = results.filter(pl.col("details").str.contains(f'"check": "{check}"') & (pl.col("column") == column))
    assert hit.height == 1, (check, column)
    return hit.row(0, named=True)


@pytest.mark.parametrize(
    "check, column, unexpected",
    [
        ("required", "ho_ten", 1),
        ("id_format", "so_cccd_kind", 1),
        ("date_parsed", "ngay_sinh_year", 1),  # the normalizer reads no year from a future date
        ("sex_valid", "gioi_tinh_sex", 1),
        ("amount_positive", "muc_tro_cap_value", 1),
        ("account_present", "so_tai_khoan", 1),
        ("required", "dia_chi", 0),
    ],
)
def test_suite_flags_each_crafted_defect(docs_run, check, column, unexpected):
    results, _ = docs_run
    r = _result(results, check, column)
    assert r["unexpected_count"] == unexpected
    assert r["success"] is (unexpected == 0)


def test_account_check_counts_only_rows_paid_by_account(docs_run):
    r = _result(docs_run[0], "account_present", "so_tai_khoan")
    assert r["element_count"] == 2  # rows 1 and 4 say "chuyển khoản"
    assert r["unexpected_rate"] == pytest.approx(0.5)


def test_results_fit_the_warehouse_table(docs_run):
    from pipelines.warehouse import TABLES

    cols = set(TABLES["expectation_results"].column_names) - {"run_id"}
    assert set(docs_run[0].columns) == cols


def test_results_hold_counts_not_values(docs_run):
    """No sample values kept (result_format SUMMARY, partial_unexpected_count 0): nothing of a row
    reaches expectation_results or GX's stores."""
    text = docs_run[0].write_csv()
    for value in ROWS["so_cccd"].to_list() + ["Nguyễn Văn An", "0123456789", "1.500.000"]:
        assert value not in text


def test_id_consistency_uses_normalizer_problems():
    frame = ROWS.with_columns(
        pl.Series("so_cccd_problems", [[], ["id_sex_mismatch"], [], [], []], dtype=pl.List(pl.Utf8))
    )
    checked = prepare_frame(WELFARE, frame)
    assert checked["so_cccd_consistent"].to_list() == [True, False, None, True, True]
    # the warehouse form: problems as column:code
    wh = ROWS.with_columns(pl.Series("problems", [[], ["so_cccd:id_birth_year_mismatch", "ho_ten:nfd"], [], [], []]))
    assert prepare_frame(WELFARE, wh)["so_cccd_consistent"].to_list()[:2] == [True, False]


def test_every_registry_gets_a_plan_with_required_checks():
    for spec in REGISTRIES.values():
        plan = expectation_plan(spec)
        required = {p["column"] for p in plan if p["check"] == "required"}
        assert required == set(spec.required_columns)


@pytest.mark.parametrize(
    "text, value",
    [
        ("1.500.000", 1500000.0),
        ("1,500,000 đ", 1500000.0),
        ("120,5", 120.5),
        ("45.6 m2", 45.6),
        ("-500.000", -500000.0),
        ("abc", None),
        (None, None),
    ],
)
def test_parse_amount(text, value):
    """The suite reads an amount as the normalizer does (matching/normalize/amounts.py)."""
    raw = pl.DataFrame({"muc_tro_cap": [text]}, schema={"muc_tro_cap": pl.Utf8})
    assert prepare_frame(WELFARE, raw)["muc_tro_cap_value"].to_list() == [value]


def test_missing_fields_suggest_csdlqg_values_for_linked_rows_only():
    rows = ROWS.with_columns(pl.Series("ngay_sinh", ["02/03/1950", "", "31/12/1955", "01/01/2090", None]))
    links = pl.DataFrame(
        {
            "source_row": [1, 2, 3, 4, 5],
            "owner_index": [0] * 5,
            "status": ["matched", "matched", "unmatched", "review", "matched"],
            "so_dinh_danh": ["001050012345", "001160012346", None, "001055012347", "001170012348"],
        }
    )
    population = pl.DataFrame(
        {
            "so_dinh_danh": ["001050012345", "001160012346", "001055012347", "001170012348"],
            "ho_ten": ["Nguyễn Văn An", "Hoàng Thị Hoa", "Lê Văn Cường", "Phạm Thị Dung"],
            "ngay_sinh_clean": ["1950-03-02", "1960-07-08", "1955-01-01", "1970-06-05"],
            "gioi_tinh": ["Nam", "Nữ", "Nam", "Nữ"],
            "dia_chi_thuong_tru": ["Xã A"] * 4,
        }
    )
    out = missing_fields(WELFARE, rows, population, links)
    got = {(r["source_row"], r["field"]): r["csdlqg_value"] for r in out.iter_rows(named=True)}
    assert got == {
        (2, "ho_ten"): "Hoàng Thị Hoa",
        (2, "ngay_sinh"): "08/07/1960",
        (4, "so_tai_khoan"): None,  # paid by account, CSDLQG holds no accounts; row is only in review
        (5, "ngay_sinh"): "05/06/1970",
    }
    assert out["excel_row"].to_list() == [4, 4, 6, 7]


LAND = REGISTRIES["land"]
LAND_ROWS = pl.DataFrame(
    {
        "source_file": ["dat.xlsx"] * 2,
        "source_row": [1, 2],
        "excel_row": [2, 3],
        "so_giay_chung_nhan": ["AB 1", "AB 2"],
        "so_to": ["1", "2"],
        "so_thua": ["10", "20"],
        "dien_tich": ["120,5", "300"],
        "chu_su_dung": ["Công ty TNHH Minh Phát", "Ông Lò Văn Páo"],
        "nam_sinh": [None, "1960"],
        "so_giay_to": [None, None],  # the organization has neither; the person lacks his ID
        "dia_chi_thuong_tru": ["Xã A", "Xã B"],
        "dia_chi_thua_dat": [None, None],
        "chu_su_dung_entity": ["organization", "person"],
    }
)


def test_land_organizations_are_not_missing_person_fields():
    results = run_suite(LAND, LAND_ROWS)
    ids = _result(results, "required", "so_giay_to")
    assert (ids["element_count"], ids["unexpected_count"]) == (1, 1)
    assert _result(results, "required", "nam_sinh")["unexpected_count"] == 0
    assert _result(results, "required", "chu_su_dung")["element_count"] == 2  # organizations need a name too

    links = pl.DataFrame(
        {
            "source_row": [1, 2],
            "owner_index": [0, 0],
            "status": ["unmatched", "unmatched"],
            "so_dinh_danh": [None, None],
            "entity": ["organization", "person"],
        }
    )
    out = missing_fields(
        LAND,
        LAND_ROWS.drop("chu_su_dung_entity"),
        pl.DataFrame({"so_dinh_danh": []}, schema={"so_dinh_danh": pl.Utf8}),
        links,
    )
    assert out.select("source_row", "field").rows() == [(2, "so_giay_to")]
