"""Amounts as officers type them (matching/normalize/amounts.py): read exactly, or flagged."""

import pytest

from matching.normalize.amounts import parse_amount


@pytest.mark.parametrize(
    "text,value,problems",
    [
        ("1.500.000", 1_500_000.0, []),
        ("1,500,000", 1_500_000.0, []),
        ("1500000 đ", 1_500_000.0, []),
        ("1.500.000 VNĐ", 1_500_000.0, []),
        ("120,5", 120.5, []),
        ("120.5 m2", 120.5, []),
        ("0", 0.0, ["not_positive"]),
        ("-5", -5.0, ["not_positive"]),
        ("abc", None, ["not_a_number"]),
        ("1.2.3", None, ["not_a_number"]),
    ],
)
def test_amounts(text, value, problems):
    assert parse_amount(text) == (value, problems)


@pytest.mark.parametrize(
    "text",
    ["5 triệu", "2 tỷ", "500 nghìn", "5tr", "1,5 triệu", "abc 7", "7 abc", "1e6", "12a34"],
)
def test_words_and_stray_text_are_flagged_never_guessed(text):
    """A scale word or stray letters would need a guess at what the officer meant ("5 triệu"
    read as 5.0, "abc 7" as 7.0 by the suite's former copy): no value, `not_a_number`."""
    assert parse_amount(text) == (None, ["not_a_number"])


def test_spaces_and_units_are_not_part_of_the_number():
    assert parse_amount("1 500 000 đ") == (1_500_000.0, [])
    assert parse_amount("1.500.000 đồng") == (1_500_000.0, [])
    assert parse_amount("45,6 m²") == (45.6, [])
