"""Addresses: abbreviations, current two-level, old three-level mapped by join, split wards."""

import polars as pl
import pytest

from matching.normalize.addresses import normalize_address_column, parse_address
from matching.reference.admin_units import current_units, legacy_units


def _legacy_row(ward: str, district: str) -> dict:
    leg = legacy_units()
    return leg.filter((pl.col("ten_xa_cu") == ward) & (pl.col("ten_huyen_cu") == district)).row(0, named=True)


def test_current_two_level():
    a = parse_address("Phường Ba Đình, Thành phố Hà Nội")
    assert (a.status, a.ma_tinh, a.ma_xa, a.ten_xa) == ("current", "01", "00004", "Phường Ba Đình")
    assert a.problems == ()


@pytest.mark.parametrize(
    "text",
    [
        "Phuong Ba Dinh, Ha Noi",
        "PHƯỜNG BA ĐÌNH, TP. HÀ NỘI",
        "P. Ba Đình, TP Hà Nội",
        "Số 5 ngõ 10, Phường Ba Đình, Hà Nội",
        "Ba Đình, Hà Nội",
    ],
)
def test_current_variants_accent_and_abbreviation_insensitive(text):
    a = parse_address(text)
    assert (a.status, a.ma_xa) == ("current", "00004")


def test_old_three_level_maps_to_the_new_commune():
    row = _legacy_row("Phường Đằng Hải", "Quận Hải An")
    assert not row["is_split"]
    for text in (
        "phường Đằng Hải, quận Hải An, thành phố Hải Phòng",
        "P. Đằng Hải, Q. Hải An, TP. Hải Phòng",
        "Tổ 5, P.Đằng Hải, Q.Hải An, Hải Phòng",
    ):
        a = parse_address(text)
        assert (a.status, a.ma_xa, a.ma_tinh) == ("legacy_mapped", row["new_ma_xa"], "31"), text
        assert a.problems == ("address_old_units",)


def test_numbered_wards_and_f_abbreviation():
    leg = (
        legacy_units()
        .filter(
            (pl.col("ten_tinh_cu") == "Thành phố Hồ Chí Minh")
            & (pl.col("ten_huyen_cu") == "Quận 5")
            & (pl.col("ten_xa_cu") == "Phường 4")
        )
        .row(0, named=True)
    )
    for text in ("F.4, Q.5, TP.HCM", "P4, Q5, TP HCM", "Phường 04, Quận 5, Thành phố Hồ Chí Minh"):
        a = parse_address(text)
        assert a.ma_xa == (None if leg["is_split"] else leg["new_ma_xa"]), text
        assert a.status in ("legacy_mapped", "legacy_split")
    assert parse_address("F.4, Q.5, TP.HCM").clean == "Phường 4, Quận 5, Thành phố Hồ Chí Minh"


def test_split_ward_is_reported_not_guessed():
    leg = (
        legacy_units()
        .filter(pl.col("is_split") & pl.col("ten_xa_cu").is_not_null())
        .sort("ma_xa_cu")
        .row(0, named=True)
    )
    a = parse_address(f"{leg['ten_xa_cu']}, {leg['ten_huyen_cu']}, {leg['ten_tinh_cu']}")
    assert a.status == "legacy_split"
    assert a.ma_xa is None
    assert a.ma_tinh == leg["new_ma_tinh"]
    assert "address_split_ward" in a.problems


def test_old_province_only_maps_to_the_new_province():
    a = parse_address("Tỉnh Hải Dương")
    assert (a.status, a.ma_tinh, a.ma_xa) == ("province_only", "31", None)


def test_unparsed_and_empty():
    assert parse_address("không rõ địa chỉ").status == "unparsed"
    assert parse_address("").status is None and parse_address(None).problems == ()


def test_every_current_unit_parses_to_itself():
    cur = current_units()
    df = cur.select(dia_chi=pl.format("{}, {}", "ten_xa", "ten_tinh"), expect="ma_xa")
    out = normalize_address_column(df, "dia_chi")
    ok = (out["dia_chi_ma_xa"] == out["expect"]).sum()
    assert ok / cur.height > 0.999
    assert out.height == cur.height and out["expect"].to_list() == cur["ma_xa"].to_list()


def test_names_that_differ_only_by_diacritics_are_told_apart():
    # Hải Phòng has both "Xã Cẩm Giang" and "Xã Cẩm Giàng": the accent-free key collides
    cur = current_units().filter(pl.col("ten_xa").is_in(["Xã Cẩm Giang", "Xã Cẩm Giàng"]) & (pl.col("ma_tinh") == "31"))
    assert cur.height == 2
    for row in cur.iter_rows(named=True):
        a = parse_address(f"Thôn 5, {row['ten_xa']}, {row['ten_tinh']}")
        assert (a.status, a.ma_xa) == ("current", row["ma_xa"])


def test_a_hyphen_inside_a_unit_name_is_not_a_separator():
    a = parse_address("Số 25 Lê Lợi, Phường Văn Miếu - Quốc Tử Giám, Thành phố Hà Nội")
    assert a.status == "current" and a.ten_xa == "Phường Văn Miếu - Quốc Tử Giám"


def test_every_legacy_ward_maps_or_is_reported_split():
    leg = legacy_units().filter(pl.col("ten_xa_cu").is_not_null())
    df = leg.select(dia_chi=pl.format("{}, {}, {}", "ten_xa_cu", "ten_huyen_cu", "ten_tinh_cu"))
    out = normalize_address_column(df, "dia_chi").with_columns(expect=leg["new_ma_xa"], split=leg["is_split"])
    mapped = out.filter(~pl.col("split"))
    assert (mapped["dia_chi_address_status"] == "legacy_mapped").mean() > 0.99
    assert (mapped["dia_chi_ma_xa"] == mapped["expect"]).mean() > 0.99
    split = out.filter(pl.col("split"))
    assert (split["dia_chi_address_status"] == "legacy_split").mean() > 0.99
    assert split["dia_chi_ma_xa"].null_count() == split.height


def test_clean_address_is_idempotent():
    texts = ["P. Đằng Hải, Q. Hải An, TP. Hải Phòng", "F.4, Q.5, TP.HCM", "Thôn 5,  Xã Cẩm Giàng , Hải Phòng", "Hà Nội"]
    out = normalize_address_column(pl.DataFrame({"a": texts}), "a")
    again = normalize_address_column(out.select(a=pl.col("a_clean")), "a")
    for col in ("a_clean", "a_ma_xa", "a_ma_tinh", "a_address_status"):
        assert again[col].to_list() == out[col].to_list(), col


def test_no_province_written_unique_names_only():
    row = _legacy_row("Phường Đằng Hải", "Quận Hải An")
    a = parse_address("Tổ 5, Phường Đằng Hải, Quận Hải An")
    assert (a.status, a.ma_xa, a.ma_tinh) == ("legacy_mapped", row["new_ma_xa"], "31")
    assert "address_no_province" in a.problems
    a = parse_address("Thôn 3, Phường Ba Đình")
    assert (a.status, a.ma_xa) == ("current", "00004") and "address_no_province" in a.problems
    # a commune name found in several provinces is never guessed
    many = current_units().group_by("ten_xa").len().filter(pl.col("len") > 1)["ten_xa"][0]
    assert parse_address(f"Thôn 3, {many}").status == "unparsed"
