"""ID numbers: cleaning, kinds, lost leading zeros, CCCD digit checks against sex and birth year."""

import polars as pl
import pytest

from matching.normalize.ids import normalize_id, normalize_id_column, province_codes

CASES = [
    # (written, clean, kind, problems)
    ("031063558124", "031063558124", "cccd12", ()),
    ("031 063 558 124", "031063558124", "cccd12", ("id_formatting",)),
    ("031.063.558.124", "031063558124", "cccd12", ("id_formatting",)),
    ("031-063-558-124", "031063558124", "cccd12", ("id_formatting",)),
    ("'031063558124", "031063558124", "cccd12", ("id_formatting",)),
    ("31063558124", "031063558124", "cccd12", ("id_leading_zero_restored",)),
    ("31063558124.0", "031063558124", "cccd12", ("id_leading_zero_restored",)),
    ("012345678", "012345678", "cmnd9", ()),
    ("12345678", "012345678", "cmnd9", ("id_leading_zero_restored",)),
    ("0123456789", "0123456789", "bhxh10", ()),
    ("999063558124", "999063558124", "cmnd12", ("id_province_unknown",)),
    ("031963558124", "031963558124", "cmnd12", ()),  # digit 4 = 9: not a century/sex digit
    ("12345", "12345", "invalid", ("id_bad_length",)),
    ("99063558124", None, "invalid", ("id_bad_length",)),  # 11 digits, zero-padded form not valid
    ("abc", None, "invalid", ("id_not_digits",)),
    ("", None, None, ()),
    (None, None, None, ()),
]


@pytest.mark.parametrize("written,clean,kind,problems", CASES)
def test_cleaning_and_kind(written, clean, kind, problems):
    got = normalize_id(written)
    assert (got.clean, got.kind, got.problems) == (clean, kind, problems) or (
        clean is None and got.kind == kind and got.problems == problems
    )


def test_excel_float():
    assert normalize_id(31063558124.0).clean == "031063558124"


def test_province_codes_come_from_the_legacy_table():
    codes = province_codes()
    assert len(codes) == 63 and "001" in codes and "079" in codes and "031" in codes


def test_cccd_checks_against_sex_and_birth_year():
    # digit 4 = 0: male born 1900-1999; digits 5-6 = 63
    assert normalize_id("031063558124", sex="Nam", birth_year=1963).problems == ()
    assert normalize_id("031063558124", sex="Nữ", birth_year=1963).problems == ("id_sex_mismatch",)
    assert normalize_id("031063558124", sex="Nam", birth_year=1964).problems == ("id_birth_year_mismatch",)
    # 3 = female born 2000-2099
    assert normalize_id("001305000123", sex="Nữ", birth_year=2005).problems == ()
    assert normalize_id("001305000123", sex="Nữ", birth_year=1905).problems == ("id_birth_year_mismatch",)
    # no checks on a 9-digit CMND
    assert normalize_id("012345678", sex="Nữ", birth_year=1900).problems == ()


def test_column_with_row_sex_and_year():
    df = pl.DataFrame(
        {"id": ["031063558124", "031063558124", None], "sex": ["Nam", "Nữ", "Nam"], "y": [1963, 1963, 1963]}
    )
    out = normalize_id_column(df, "id", sex=pl.col("sex"), birth_year=pl.col("y"))
    assert out["id_problems"].to_list() == [[], ["id_sex_mismatch"], []]
    assert out["id_kind"].to_list() == ["cccd12", "cccd12", None]
    assert out.columns[:3] == ["id", "sex", "y"]


@pytest.mark.parametrize("written,clean,kind,problems", [c for c in CASES if c[1]])
def test_clean_id_is_idempotent(written, clean, kind, problems):
    again = normalize_id(clean)
    assert (again.clean, again.kind) == (clean, kind)
