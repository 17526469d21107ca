"""frame.normalize_columns: the contract other stages code against (ARCHITECTURE.md)."""

import polars as pl
import pytest

from matching.normalize.frame import normalize_columns
from pipelines.spec import ColumnSpec

COLUMNS = [
    ("ho_ten", "name"),
    ("ngay_sinh", "date"),
    ("gioi_tinh", "sex"),
    ("so_cccd", "id"),
    ("dia_chi", "address"),
    ("muc", "amount"),
    ("ghi_chu", "text"),
    ("chu", "owner"),
    ("nam_sinh", "year"),
]


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "ho_ten": ["NguyÔn V¨n An", "Trần Thị Hoà", None],
            "ngay_sinh": ["05/03/1963", "1945", "31/02/2000"],
            "gioi_tinh": ["Nam", "nữ", ""],
            "so_cccd": ["31063558124", "001145000123", "x"],
            "dia_chi": ["P. Đằng Hải, Q. Hải An, TP. Hải Phòng", "Hà Nội", None],
            "muc": ["1.500.000", "abc", None],
            "ghi_chu": [" a  b ", None, ""],
            "chu": ["Ông Lê Văn A và bà Trần Thị B", "Công ty TNHH Hòa Phát", "Hộ ông Phạm Văn C"],
            "nam_sinh": ["1950", "01/01/1940", None],
        }
    )


def test_contract_columns_and_types():
    out = normalize_columns(_frame(), COLUMNS, sex_column="gioi_tinh", dob_column="ngay_sinh")
    expected = {
        "ho_ten_clean": pl.Utf8,
        "ho_ten_key": pl.Utf8,
        "ho_ten_key_nomid": pl.Utf8,
        "ho_ten_ho_key": pl.Utf8,
        "ho_ten_ten_key": pl.Utf8,
        "ho_ten_problems": pl.List(pl.Utf8),
        "ngay_sinh_year": pl.Int16,
        "ngay_sinh_month": pl.Int8,
        "ngay_sinh_day": pl.Int8,
        "ngay_sinh_precision": pl.Utf8,
        "ngay_sinh_placeholder": pl.Boolean,
        "ngay_sinh_clean": pl.Utf8,
        "so_cccd_clean": pl.Utf8,
        "so_cccd_kind": pl.Utf8,
        "gioi_tinh_clean": pl.Utf8,
        "dia_chi_ma_tinh": pl.Utf8,
        "dia_chi_ma_xa": pl.Utf8,
        "dia_chi_ten_tinh": pl.Utf8,
        "dia_chi_ten_xa": pl.Utf8,
        "dia_chi_address_status": pl.Utf8,
        "dia_chi_clean": pl.Utf8,
        "muc_clean": pl.Float64,
        "ghi_chu_clean": pl.Utf8,
        "chu_entity": pl.Utf8,
        "nam_sinh_year": pl.Int16,
        "problems": pl.List(pl.Utf8),
    }
    for col, dtype in expected.items():
        assert out.schema[col] == dtype, col
    assert not [c for c in out.columns if c.startswith("__")]
    assert out.select(_frame().columns).equals(_frame())  # source columns untouched, order kept


def test_values_and_combined_problems():
    out = normalize_columns(_frame(), COLUMNS, sex_column="gioi_tinh", dob_column="ngay_sinh")
    assert out["ho_ten_clean"].to_list() == ["Nguyễn Văn An", "Trần Thị Hòa", None]
    assert out["so_cccd_clean"].to_list() == ["031063558124", "001145000123", None]
    assert out["muc_clean"].to_list() == [1_500_000.0, None, None]
    assert out["ghi_chu_clean"].to_list() == ["a b", None, None]
    assert out["chu_entity"].to_list() == ["couple", "organization", "household"]
    assert out["nam_sinh_clean"].to_list() == ["1950", "1940", None]
    problems = out["problems"].to_list()
    assert "ho_ten:legacy_tcvn3" in problems[0] and "so_cccd:id_leading_zero_restored" in problems[0]
    assert "dia_chi:address_old_units" in problems[0]
    assert "ho_ten:tone_style" in problems[1] and "muc:not_a_number" in problems[1]
    assert "ngay_sinh:date_impossible" in problems[2] and "so_cccd:id_not_digits" in problems[2]
    assert all(p.split(":")[0] in dict(COLUMNS) for row in problems for p in row)


def test_id_checks_use_row_sex_and_birth_year():
    df = pl.DataFrame({"ns": ["05/03/1963", "05/03/1970"], "gt": ["NỮ", "Nam"], "id": ["031063558124"] * 2})
    out = normalize_columns(df, [("id", "id"), ("ns", "date"), ("gt", "sex")], sex_column="gt", dob_column="ns")
    assert out["id_problems"].to_list() == [["id_sex_mismatch"], ["id_birth_year_mismatch"]]


def test_accepts_column_specs_and_rejects_unknown_kinds():
    df = pl.DataFrame({"ho_ten": ["trần văn b"]})
    out = normalize_columns(df, [ColumnSpec("ho_ten", "name")])
    assert out["ho_ten_clean"][0] == "Trần Văn B"
    with pytest.raises(ValueError):
        normalize_columns(df, [("ho_ten", "bogus")])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_ANY_TEXT = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.text(alphabet="0123456789 ./-'", max_size=15),
    st.text(alphabet="aăâbcdđeêghiklmnoôơpqrstuưvxyàáảãạ ĐÐµ¸¶·¹¨©®ª«¬\u00ad,", max_size=30),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(*[_ANY_TEXT] * len(COLUMNS)), min_size=1, max_size=8))
def test_any_text_never_raises_and_keeps_rows(rows):
    df = pl.DataFrame([dict(zip([c for c, _ in COLUMNS], r)) for r in rows], schema={c: pl.Utf8 for c, _ in COLUMNS})
    out = normalize_columns(df, COLUMNS, sex_column="gioi_tinh", dob_column="ngay_sinh")
    assert out.height == df.height
    assert out.select(df.columns).equals(df)
    assert out["problems"].dtype == pl.List(pl.Utf8)
