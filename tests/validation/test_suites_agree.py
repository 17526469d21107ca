"""The expectation suite reads amounts, dates, sex and IDs exactly as the normalizer does.

Why: the suite runs on the run's in-memory frame (normalizer columns present), and can be run
again on a run's `<registry>_rows` table read back from the warehouse (raw values, `_clean` as
text, problems) or on a raw frame. Each path must give the same checked frame, and each checked
value must be the normalizer's own reading of the raw value; otherwise a run's expectation results
and results rebuilt from the warehouse could disagree. Property-based: values are drawn from the
shapes officers type, plus arbitrary text."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.normalize.amounts import parse_amount
from matching.normalize.dates import parse_date
from matching.normalize.frame import normalize_columns
from matching.normalize.ids import normalize_id
from matching.normalize.sex import normalize_sex
from pipelines.registries import REGISTRIES
from validation.suites import checked_frame, prepare_frame, run_suite

WELFARE = REGISTRIES["social_welfare"]
SAMPLE_ROW = {  # the columns the strategies do not vary
    "ma_doi_tuong": "DT01",
    "ho_ten": "Nguyễn Văn An",
    "dia_chi": "Xã Hùng Chân, Tỉnh Nghệ An",
    "loai_doi_tuong": "Cao tuổi",
    "so_tai_khoan": None,
    "ngan_hang": None,
}

_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=14)
AMOUNTS = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "1.500.000",
            "1,500,000",
            "1 500 000 đ",
            "5 triệu",
            "abc 7",
            "1.500.000,5",
            "120,5",
            "45.6 m2",
            "-500.000",
            "0",
            "1.2.3",
            "đ",
            "1e6",
            "2 tỷ",
            "500 nghìn",
            "  ",
        ]
    ),
    st.text(alphabet="0123456789.,- đồngVNDvnm2²triệuabc", max_size=14),
    st.builds(
        lambda n, sep: f"{n:,}".replace(",", sep), st.integers(-(10**9), 10**10), st.sampled_from([".", ",", " "])
    ),
    _TEXT,
)
DATES = st.one_of(
    st.none(),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.dates().map(lambda d: d.strftime("%Y")),
    st.sampled_from(
        [
            "31/02/1950",
            "01/01/2090",
            "00/00/1945",
            "/ /1945",
            "3/1945",
            "năm 1945",
            "1899",
            "16501",
            "12/25/1970",
            "ngày 5 tháng 3 năm 1945",
            "1950.0",
            "",
        ]
    ),
    st.text(alphabet="0123456789/-. ", max_size=12),
    _TEXT,
)
SEXES = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "Nam",
            "Nữ",
            "nam",
            "NỮ",
            "nu",
            "M",
            "F",
            "Male",
            "female",
            "trai",
            "gái",
            "Ông",
            "Bà",
            "X",
            "1",
            "0",
            "",
            "  ",
        ]
    ),
    _TEXT,
)
IDS = st.one_of(
    st.none(),
    st.builds(lambda p, d, r: f"0{p:02d}{d}{r:08d}", st.integers(0, 99), st.integers(0, 9), st.integers(0, 10**8 - 1)),
    st.text(alphabet="0123456789", min_size=7, max_size=13),
    st.text(alphabet="0123456789 .-'", max_size=15),
    _TEXT,
)
MODES = st.sampled_from(["Tiền mặt", "Chuyển khoản", "chuyen khoan", "Tài khoản", "", None])
ROWS = st.lists(st.tuples(DATES, SEXES, IDS, AMOUNTS, MODES), min_size=1, max_size=12)


def _raw_frame(rows) -> pl.DataFrame:
    data = [
        {**SAMPLE_ROW, "ngay_sinh": d, "gioi_tinh": s, "so_cccd": i, "muc_tro_cap": a, "hinh_thuc_chi_tra": m}
        for d, s, i, a, m in rows
    ]
    return pl.DataFrame(data, schema={c.name: pl.Utf8 for c in WELFARE.columns})


def _normalized(raw: pl.DataFrame) -> pl.DataFrame:
    """The run's in-memory frame (as pipelines' normalize stage builds it)."""
    return normalize_columns(raw, WELFARE.columns, sex_column="gioi_tinh", dob_column="ngay_sinh")


def _from_warehouse(con: duckdb.DuckDBPyConnection, normalized: pl.DataFrame) -> pl.DataFrame:
    """The same rows written to and read back from a DuckDB file in the `<registry>_rows` form:
    raw value and `_clean` of each column as VARCHAR, problems as VARCHAR[]."""
    cols = [pl.col(c.name).cast(pl.Utf8) for c in WELFARE.columns]
    cols += [pl.col(f"{c.name}_clean").cast(pl.Utf8) for c in WELFARE.columns]
    frame = normalized.select(*cols, pl.col("problems"))  # noqa: F841 (read by DuckDB by name)
    con.execute("CREATE OR REPLACE TABLE social_welfare_rows AS SELECT * FROM frame")
    return con.execute("SELECT * FROM social_welfare_rows").pl()


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    db = duckdb.connect(str(tmp_path_factory.mktemp("wh") / "agree.duckdb"))
    yield db
    db.close()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_checked_values_are_the_normalizers_on_every_path(con, rows):
    raw = _raw_frame(rows)
    normalized = _normalized(raw)
    in_memory = checked_frame(WELFARE, normalized)
    assert checked_frame(WELFARE, raw).equals(in_memory)
    assert checked_frame(WELFARE, _from_warehouse(con, normalized)).equals(in_memory)

    by_parser = [
        {
            "muc_tro_cap_value": parse_amount(a)[0],
            "ngay_sinh_year": parse_date(d).year,
            "gioi_tinh_sex": normalize_sex(s),
            "so_cccd_kind": normalize_id(i, normalize_sex(s), parse_date(d).year).kind,
        }
        for d, s, i, a, _ in rows
    ]
    assert in_memory.select(list(by_parser[0])).to_dicts() == by_parser


@settings(max_examples=60, deadline=None)
@given(st.lists(AMOUNTS, min_size=1, max_size=20))
def test_amount_value_is_the_normalizers_reading(texts):
    raw = pl.DataFrame({"muc_tro_cap": texts}, schema={"muc_tro_cap": pl.Utf8})
    values = prepare_frame(WELFARE, raw)["muc_tro_cap_value"].to_list()
    assert values == [parse_amount(t)[0] for t in texts]


@pytest.mark.parametrize(
    "text, value, problems",
    [
        ("1.500.000", 1_500_000.0, []),
        ("1,500,000", 1_500_000.0, []),
        ("1 500 000 đ", 1_500_000.0, []),
        ("5 triệu", None, ["not_a_number"]),
        ("abc 7", None, ["not_a_number"]),
    ],
)
def test_officers_amounts_are_read_exactly_or_flagged(text, value, problems):
    """The issue's examples: a scale word or stray text is flagged, never guessed (5.0, 7.0)."""
    assert parse_amount(text) == (value, problems)
    checked = prepare_frame(WELFARE, pl.DataFrame({"muc_tro_cap": [text]}))
    assert checked["muc_tro_cap_value"].to_list() == [value]


def test_the_run_and_the_warehouse_give_the_same_expectation_results(con):
    """The committed sample's welfare rows, plus the issue's amounts, through Great Expectations:
    once on the run's in-memory frame, once on the rows read back from the warehouse."""
    raw = pl.read_csv("data/sample/social_welfare.csv", infer_schema=False).head(300)
    odd = raw.head(4).with_columns(
        pl.Series("muc_tro_cap", ["5 triệu", "abc 7", "1 500 000 đ", "1e6"]),
        pl.Series("so_cccd", ["54190441628", "0541 9044 1628", "12345", "X"]),
    )
    raw = pl.concat([raw, odd])
    normalized = _normalized(raw)
    run = run_suite(WELFARE, normalized)
    rebuilt = run_suite(WELFARE, _from_warehouse(con, normalized))
    assert rebuilt.equals(run)
    unparsed = run.filter(pl.col("details").str.contains('"check": "amount_parsed"'))
    assert unparsed["unexpected_count"].to_list() == [3]  # 5 triệu, abc 7, 1e6
