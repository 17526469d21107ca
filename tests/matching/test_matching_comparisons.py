"""Every comparison level is reachable by the case it is meant for."""

import duckdb
import pytest
from matching_factory import load, person

from matching.comparisons import level_sql
from matching.templates import COMPARISONS


def level_of(comparison: str, r: dict, p: dict) -> str:
    con = duckdb.connect()
    load(con, "r", [r])
    load(con, "p", [p])
    c = COMPARISONS[comparison]
    (i,) = con.execute(f"SELECT {level_sql([c])} FROM r, p").fetchone()
    return c.levels[i].label


BASE = dict(dob=(1960, 5, 17), sex="Nam", id12="001060012345", ma_tinh="01", ma_xa="01001")


def pair(r_over: dict, p_over: dict) -> tuple[dict, dict]:
    def make(over):
        args = {"name": "Nguyễn Văn Hùng", **BASE, **over}
        return person(1, args.pop("name"), args.pop("dob"), **args)

    return make(r_over), make(p_over)


@pytest.mark.parametrize(
    "r_name, p_name, level",
    [
        (None, "Nguyễn Văn Hùng", "null"),
        ("Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "exact"),
        ("Nguyen Van Hung", "Nguyễn Văn Hùng", "key_exact"),
        ("Nguyễn Hùng", "Nguyễn Văn Hùng", "key_nomid"),
        ("Huỳnh Thị Lan", "Hoàng Thị Lan", "surname_variant"),
        ("Võ Lan", "Vũ Thị Lan", "surname_variant"),
        ("Nguyên Thanh Hùng", "Nguyễn Thành Hưng", "key_exact"),
        ("Nguyễn Văn Hùnh", "Nguyễn Văn Hùng", "jw_0.95"),
        ("Trần Minh Tuấn", "Trần Minh Tú", "jw_0.95"),
        ("Nguyễn Thanh Hà", "Nguyễn Thu Hằng", "jw_0.90"),
        ("Nguyễn Thị Hoa", "Nguyễn Văn Hùng", "jw_0.85"),
        ("Lê Văn Nam", "Phạm Thị Hoa", "different"),
    ],
)
def test_name_levels(r_name, p_name, level):
    r, p = pair({"name": r_name}, {"name": p_name})
    assert level_of("ho_ten", r, p) == level


def test_given_name_equal_surname_fuzzy():
    r, p = pair({"name": "Ngyễn Văn Hùng"}, {"name": "Nguyễn Văn Hùng"})
    assert level_of("ho_ten", r, p) == "given_equal_surname_fuzzy"


@pytest.mark.parametrize(
    "r_dob, p_dob, level",
    [
        (None, (1960, 5, 17), "null"),
        ((1960, 5, 17), (1960, 5, 17), "exact"),
        ((1960,), (1960, 5, 17), "year_only"),
        ((1960, 1, 1), (1960, 5, 17), "placeholder_01_01"),
        ((1960, 7, 5), (1960, 5, 7), "day_month_swapped"),
        ((1960, 5, 18), (1960, 5, 17), "one_digit"),
        ((1968, 5, 17), (1960, 5, 17), "one_digit"),
        ((1961, 5, 17), (1960, 5, 17), "one_digit"),
        ((1970, 5, 17), (1969, 5, 17), "year_pm1"),
        ((1960, 9, 23), (1960, 5, 17), "same_year"),
        ((1975, 9, 23), (1960, 5, 17), "different"),
    ],
)
def test_dob_levels(r_dob, p_dob, level):
    r, p = pair({"dob": r_dob}, {"dob": p_dob})
    assert level_of("ngay_sinh", r, p) == level


@pytest.mark.parametrize(
    "r_over, p_over, level",
    [
        ({"id12": None}, {}, "null"),
        ({}, {}, "agree"),
        ({"id12": None, "cmnd9": "123456789"}, {"cmnd9": "123456789"}, "agree"),
        ({"id12": "001060012346"}, {}, "one_edit"),
        ({"id12": "001060013245"}, {"id12": "001060012345"}, "one_edit"),
        ({"id12": None, "cmnd9": "123456780"}, {"cmnd9": "123456789"}, "one_edit"),
        ({"id12": "079185999999"}, {}, "conflict"),
        ({"id12": None, "cmnd9": "123456789"}, {}, "null"),
    ],
)
def test_id_levels(r_over, p_over, level):
    r, p = pair(r_over, p_over)
    assert level_of("id", r, p) == level


@pytest.mark.parametrize(
    "comparison, r_over, p_over, level",
    [
        ("gioi_tinh", {"sex": None}, {}, "null"),
        ("gioi_tinh", {}, {}, "agree"),
        ("gioi_tinh", {"sex": "Nữ"}, {}, "different"),
        ("dia_chi", {"ma_tinh": None, "ma_xa": None}, {}, "null"),
        ("dia_chi", {}, {}, "same_xa"),
        ("dia_chi", {"ma_xa": None}, {}, "same_tinh"),
        ("dia_chi", {"ma_xa": "01002"}, {}, "same_tinh"),
        ("dia_chi", {"ma_tinh": "79", "ma_xa": "79001"}, {}, "different"),
        ("ho_ten_me", {"me": None}, {"me": "Lê Thị Hoa"}, "null"),
        ("ho_ten_me", {"me": "Le Thi Hoa"}, {"me": "Lê Thị Hoa"}, "exact"),
        ("ho_ten_me", {"me": "Lê Thị Hòa"}, {"me": "Lê Thị Hoa"}, "exact"),
        ("ho_ten_me", {"me": "Lê Thị Hoan"}, {"me": "Lê Thị Hoa"}, "jw_0.90"),
        ("ho_ten_cha", {"cha": "Trần Văn Nam"}, {"cha": "Lê Văn Bình"}, "different"),
    ],
)
def test_other_levels(comparison, r_over, p_over, level):
    r, p = pair(r_over, p_over)
    assert level_of(comparison, r, p) == level
