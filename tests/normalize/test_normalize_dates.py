"""Dates: every format registries use; impossible dates rejected with a reason, never guessed."""

import datetime as dt

import polars as pl
import pytest

from matching.normalize.dates import normalize_date_column, parse_date

FORMATS = [
    # (written, clean, precision, problem or None)
    ("05/03/1945", "1945-03-05", "day", None),
    ("5/3/1945", "1945-03-05", "day", None),
    ("05-03-1945", "1945-03-05", "day", None),
    ("05.03.1945", "1945-03-05", "day", None),
    ("1945-03-05", "1945-03-05", "day", None),
    ("1945-03-05 00:00:00", "1945-03-05", "day", None),
    ("19450305", "1945-03-05", "day", None),
    ("ngày 5 tháng 3 năm 1945", "1945-03-05", "day", None),
    ("16501", "1945-03-05", "day", "date_excel_serial"),
    ("16501.0", "1945-03-05", "day", "date_excel_serial"),
    ("1945", "1945", "year", None),
    ("1945.0", "1945", "year", None),
    ("năm 1945", "1945", "year", None),
    ("Năm 1945", "1945", "year", None),
    ("00/00/1945", "1945", "year", "date_partial"),
    ("/ /1945", "1945", "year", "date_partial"),
    ("//1945", "1945", "year", "date_partial"),
    ("3/1945", "1945-03", "month", None),
    ("03/1945", "1945-03", "month", None),
    ("00/03/1945", "1945-03", "month", "date_partial"),
    ("12/25/1960", "1960-12-25", "day", "date_day_month_swapped"),
]


@pytest.mark.parametrize("written,clean,precision,problem", FORMATS)
def test_formats(written, clean, precision, problem):
    p = parse_date(written)
    assert (p.clean, p.precision) == (clean, precision)
    assert p.problems == ((problem,) if problem else ())


@pytest.mark.parametrize(
    "written,problem",
    [
        ("31/02/1990", "date_impossible"),
        ("29/02/1999", "date_impossible"),
        ("13/13/1990", "date_impossible"),
        ("01/01/1800", "date_too_old"),
        ("1800", "date_too_old"),
        ("01/01/2999", "date_future"),
        ("05/03/45", "date_unparsed"),
        ("không rõ", "date_unparsed"),
    ],
)
def test_impossible_dates_are_rejected_not_guessed(written, problem):
    p = parse_date(written)
    assert p.year is None and p.clean is None and p.precision is None
    assert p.problems == (problem,)


def test_leap_day_is_valid():
    assert parse_date("29/02/2000").clean == "2000-02-29"


def test_placeholder_0101_only_for_the_elderly():
    old = parse_date("01/01/1940")
    assert old.placeholder and "date_placeholder_0101" in old.problems and old.precision == "day"
    assert not parse_date("01/01/1980").placeholder


def test_native_values():
    assert parse_date(dt.date(1945, 3, 5)).clean == "1945-03-05"
    assert parse_date(16501.0).clean == "1945-03-05"
    assert parse_date(None).clean is None and parse_date(None).problems == ()


def test_column_types_and_year_kind():
    df = pl.DataFrame({"d": ["05/03/1945", None, "1945", "x", "05/03/1945"]})
    out = normalize_date_column(df, "d")
    assert out.schema["d_year"] == pl.Int16 and out.schema["d_month"] == pl.Int8 and out.schema["d_day"] == pl.Int8
    assert out["d_clean"].to_list() == ["1945-03-05", None, "1945", None, "1945-03-05"]
    assert out["d_precision"].to_list() == ["day", None, "year", None, "day"]
    assert out["d_problems"].to_list() == [[], [], [], ["date_unparsed"], []]
    year = normalize_date_column(
        pl.DataFrame({"nam_sinh": ["1950", "05/03/1945", "01/01/1940"]}), "nam_sinh", year_only=True
    )
    assert year["nam_sinh_clean"].to_list() == ["1950", "1945", "1940"]
    assert year["nam_sinh_precision"].to_list() == ["year"] * 3
    assert year["nam_sinh_month"].to_list() == [None] * 3


@pytest.mark.parametrize("written", [w for w, *_ in FORMATS])
def test_clean_date_is_idempotent(written):
    first = parse_date(written)
    again = parse_date(first.clean)
    assert (again.clean, again.precision) == (first.clean, first.precision)


def test_column_parse_is_parse_date_on_every_shape():
    """The vectorized shapes (dates._fast_table) give exactly parse_date's result: every day and
    month from 0 to 99 that matters (zero, 12/13 swaps, month ends, leap days), separators, years
    around 1900, the 1960 placeholder limit and today, in both kinds."""
    from matching.normalize.dates import _python_table, date_table

    parts = ["0", "00", "1", "01", "02", "2", "12", "13", "28", "29", "30", "31", "32", "99"]
    years = ["0000", "1600", "1899", "1900", "1959", "1960", "2000", "2023", "2024", "2100", "9999"]
    today = dt.date.today()
    values = {
        f"{d}{sep}{m}{sep}{y}" if dmy else f"{y}{sep}{m}{sep}{d}"
        for d in parts
        for m in parts
        for y in years
        for sep in "/-."
        for dmy in (True, False)
    } | set(years)
    for delta in (-1, 0, 1):
        day = today + dt.timedelta(days=delta)
        values |= {
            day.strftime("%d/%m/%Y"),
            day.strftime("%Y-%m-%d"),
            str(day.year),
            f"{day.month}/{day.day}/{day.year}",
        }
    values |= {"1945.0", "5/3/45", " 05/03/1945", "ngày 5/3/1945", "05/03/1945 10:00", "0/5/1945"}
    values = sorted(values)
    for year_only in (False, True):
        got = date_table(pl.Series(values), year_only=year_only).sort("raw")
        assert got.equals(_python_table(values, year_only).sort("raw"))
