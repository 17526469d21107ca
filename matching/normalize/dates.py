"""Dates, possibly partial: "05/03/1945", "1945-03-05", "5.3.1945", Excel serials, "năm 1945",
"00/00/1945", "/ /1945", "3/1945"...

Why per distinct value: a date-of-birth column of 10 million rows holds at most a few tens of
thousands of distinct strings, so a careful Python parser on the distinct values, joined back,
is both exact and fast. Nothing is guessed: a date that cannot exist gives null plus a problem.

Columns for source `c`: `c_year` (Int16), `c_month` (Int8), `c_day` (Int8), `c_precision`
(`day`/`month`/`year`/null), `c_placeholder` (01/01 on someone born before 1960: maybe only the
year is known), `c_clean` (yyyy-mm-dd / yyyy-mm / yyyy), `c_problems`.
Problem codes: `date_unparsed`, `date_impossible` (31/02, month 13), `date_future`,
`date_too_old` (before 1900), `date_day_month_swapped` (mm/dd/yyyy where the month is > 12, a
deterministic fix), `date_excel_serial`, `date_placeholder_0101`, `date_partial` (day or month
written as 00 or blank).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import polars as pl

from matching.normalize.fold import fold
from matching.normalize.problems import Distinct, finish, prefix_col

MIN_YEAR = 1900
PLACEHOLDER_BEFORE = 1960
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_MIN_SERIAL = 10_000  # 1927-05-18; smaller numbers are more likely years or junk


@dataclass(frozen=True)
class ParsedDate:
    year: int | None
    month: int | None
    day: int | None
    precision: str | None  # day / month / year
    placeholder: bool
    clean: str | None
    problems: tuple[str, ...]


_EMPTY = ParsedDate(None, None, None, None, False, None, ())

_WORDS_RE = re.compile(r"\b(ngay|thang|nam|sinh|ns)\b")
_YMD_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ t]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY_RE = re.compile(r"^(\d{0,2})\s*[-/.]\s*(\d{0,2})\s*[-/.]\s*(\d{4})(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_MY_RE = re.compile(r"^(\d{1,2})\s*[-/.]\s*(\d{4})$")
_YM_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})$")  # our own yyyy-mm output
_Y_RE = re.compile(r"^(\d{4})$")
_NUM_RE = re.compile(r"^(\d{5})(?:\.0+)?$")
_SPELLED_RE = re.compile(r"^(\d{1,2})\s+(\d{1,2})\s+(\d{4})$")  # "ngày 5 tháng 3 năm 1945"
_COMPACT_RE = re.compile(r"^(\d{8})$")


def _today() -> dt.date:
    return dt.date.today()


def _build(year: int, month: int | None, day: int | None, problems: list[str]) -> ParsedDate:
    today = _today()
    if month is not None and not 1 <= month <= 12:
        return ParsedDate(None, None, None, None, False, None, (*problems, "date_impossible"))
    if day is not None and (month is None or not 1 <= day <= calendar.monthrange(year, month)[1]):
        return ParsedDate(None, None, None, None, False, None, (*problems, "date_impossible"))
    if year < MIN_YEAR:
        return ParsedDate(None, None, None, None, False, None, (*problems, "date_too_old"))
    if (year, month or 1, day or 1) > (today.year, today.month, today.day):
        return ParsedDate(None, None, None, None, False, None, (*problems, "date_future"))
    if day is not None:
        precision, clean = "day", f"{year:04d}-{month:02d}-{day:02d}"
    elif month is not None:
        precision, clean = "month", f"{year:04d}-{month:02d}"
    else:
        precision, clean = "year", f"{year:04d}"
    placeholder = day == 1 and month == 1 and year < PLACEHOLDER_BEFORE
    if placeholder:
        problems = [*problems, "date_placeholder_0101"]
    return ParsedDate(year, month, day, precision, placeholder, clean, tuple(problems))


def _dmy(day_s: str, month_s: str, year: int) -> ParsedDate:
    day = int(day_s) if day_s.strip("0") else None
    month = int(month_s) if month_s.strip("0") else None
    problems: list[str] = []
    if day is None or month is None:
        problems.append("date_partial")
        if month is None:
            day = None  # "05/00/1945": a day without a month means nothing
    if day is not None and month is not None and month > 12 and day <= 12:
        day, month = month, day
        problems.append("date_day_month_swapped")
    return _build(year, month, day, problems)


def parse_date(value: object) -> ParsedDate:
    """Parse one date-like value (str, int, float, date, datetime, None)."""
    if value is None:
        return _EMPTY
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return _build(value.year, value.month, value.day, [])
    if isinstance(value, float):
        if value != value:  # NaN
            return _EMPTY
        value = str(int(value)) if value.is_integer() else str(value)
    s = fold(value)
    if not s:
        return _EMPTY
    s = _WORDS_RE.sub(" ", s).strip(" ,:.")
    s = re.sub(r"\s+", " ", s)
    if re.fullmatch(r"\d+\.0+", s):  # a number that went through a float: "1950.0", "16501.0"
        s = s.split(".")[0]
    if m := _YMD_RE.match(s):
        return _build(int(m[1]), int(m[2]), int(m[3]), [])
    if m := _DMY_RE.match(s):
        return _dmy(m[1], m[2], int(m[3]))
    if m := _SPELLED_RE.match(s):
        return _dmy(m[1], m[2], int(m[3]))
    if m := _MY_RE.match(s):
        month = int(m[1])
        return _build(int(m[2]), month if month else None, None, [] if month else ["date_partial"])
    if m := _YM_RE.match(s):
        month = int(m[2])
        return _build(int(m[1]), month if month else None, None, [] if month else ["date_partial"])
    if m := _Y_RE.match(s):
        return _build(int(m[1]), None, None, [])
    if m := _COMPACT_RE.match(s):
        d = m[1]
        if d[:2] in ("19", "20"):
            return _build(int(d[:4]), int(d[4:6]), int(d[6:]), [])
        return _dmy(d[:2], d[2:4], int(d[4:]))
    if m := _NUM_RE.match(s):
        serial = int(m[1])
        if serial >= _EXCEL_MIN_SERIAL:
            date = _EXCEL_EPOCH + dt.timedelta(days=serial)
            return _build(date.year, date.month, date.day, ["date_excel_serial"])
    return ParsedDate(None, None, None, None, False, None, ("date_unparsed",))


def _year_only(p: ParsedDate) -> ParsedDate:
    """'year' kind (land's nam_sinh): keep the year alone, whatever precision was written."""
    if p.year is None:
        return p
    problems = tuple(x for x in p.problems if x != "date_placeholder_0101")
    return ParsedDate(p.year, None, None, "year", False, f"{p.year:04d}", problems)


_SCHEMA = {
    "raw": pl.Utf8,
    "year": pl.Int16,
    "month": pl.Int8,
    "day": pl.Int8,
    "precision": pl.Utf8,
    "placeholder": pl.Boolean,
    "clean": pl.Utf8,
    "problems": pl.Utf8,  # codes joined by ";" (see problems.py)
}


def _as_text(col: pl.Series) -> pl.Series:
    """Bring a date-like column of any dtype to text the parser understands."""
    if col.dtype == pl.Datetime or col.dtype == pl.Date:
        return col.cast(pl.Date).dt.strftime("%Y-%m-%d")
    if col.dtype.is_float():
        whole = col.is_finite() & (col == col.floor())
        return (
            pl.select(pl.when(whole).then(col.cast(pl.Int64, strict=False).cast(pl.Utf8)).otherwise(col.cast(pl.Utf8)))
            .to_series()
            .alias(col.name)
        )
    return col.cast(pl.Utf8)


# The shapes most dates are written in, as parse_date reads them when the whole value is ASCII
# digits and separators: day/month/year (day and month not zero), year-month-day, year.
_FAST_DMY = r"^([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})$"
_FAST_YMD = r"^([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})$"
_FAST_Y = r"^([0-9]{4})$"


def _fast_table(values: pl.Series) -> tuple[pl.DataFrame, pl.Series]:
    """(parse_date of the values written in a `_FAST_*` shape, as a `_SCHEMA` table; the other
    values). Why: parse_date costs ~20 µs a value in Python and a date-of-birth column holds tens of
    thousands of distinct values (37,000 in a 100,000-row welfare list); these shapes are most of
    them and `_dmy`/`_build` are a few comparisons, here over the whole column. The same rules in
    the same order: a swapped day and month, then impossible month, impossible day, too old, future,
    the 01/01 placeholder (tests/normalize/test_normalize_dates.py compares both on every shape)."""
    frame = pl.DataFrame({"raw": values})
    dmy = pl.col("raw").str.extract_groups(_FAST_DMY)
    ymd = pl.col("raw").str.extract_groups(_FAST_YMD)
    frame = frame.with_columns(dmy=dmy, ymd=ymd, y_only=pl.col("raw").str.extract(_FAST_Y, 1).cast(pl.Int32))
    d1 = pl.col("dmy").struct.field("1").cast(pl.Int32)
    m1 = pl.col("dmy").struct.field("2").cast(pl.Int32)
    is_dmy = d1.is_not_null() & (d1 != 0) & (m1 != 0)  # 00 day or month: date_partial, parse_date's
    swapped = is_dmy & (m1 > 12) & (d1 <= 12)
    frame = frame.with_columns(
        kind=pl.when(is_dmy)
        .then(pl.lit("dmy"))
        .when(pl.col("ymd").struct.field("1").is_not_null())
        .then(pl.lit("ymd"))
        .when(pl.col("y_only").is_not_null())
        .then(pl.lit("y")),
        y=pl.coalesce(
            pl.when(is_dmy).then(pl.col("dmy").struct.field("3").cast(pl.Int32)),
            pl.col("ymd").struct.field("1").cast(pl.Int32),
            pl.col("y_only"),
        ),
        m=pl.when(swapped).then(d1).when(is_dmy).then(m1).otherwise(pl.col("ymd").struct.field("2").cast(pl.Int32)),
        d=pl.when(swapped).then(m1).when(is_dmy).then(d1).otherwise(pl.col("ymd").struct.field("3").cast(pl.Int32)),
        swapped=swapped,
    )
    rest = frame.filter(pl.col("kind").is_null())["raw"]
    frame = frame.filter(pl.col("kind").is_not_null())
    today = _today()
    y, m, d = pl.col("y"), pl.col("m"), pl.col("d")
    leap = ((y % 4 == 0) & (y % 100 != 0)) | (y % 400 == 0)
    month_days = (
        pl.when(m.is_in([4, 6, 9, 11])).then(30).when(m == 2).then(pl.when(leap).then(29).otherwise(28)).otherwise(31)
    )
    m1_, d1_ = m.fill_null(1), d.fill_null(1)
    future = (y > today.year) | ((y == today.year) & ((m1_ > today.month) | ((m1_ == today.month) & (d1_ > today.day))))
    verdict = (
        pl.when(m.is_not_null() & ~m.is_between(1, 12))
        .then(pl.lit("date_impossible"))
        .when(d.is_not_null() & (m.is_null() | ~d.is_between(1, month_days)))
        .then(pl.lit("date_impossible"))
        .when(y < MIN_YEAR)
        .then(pl.lit("date_too_old"))
        .when(future)
        .then(pl.lit("date_future"))
    )
    frame = frame.with_columns(verdict=verdict)
    ok = pl.col("verdict").is_null()
    placeholder = (ok & (d == 1) & (m == 1) & (y < PLACEHOLDER_BEFORE)).fill_null(False)
    two = lambda e: e.cast(pl.String).str.zfill(2)  # noqa: E731
    clean = (
        pl.when(d.is_not_null())
        .then(pl.concat_str(y.cast(pl.String).str.zfill(4), two(m), two(d), separator="-"))
        .when(m.is_not_null())
        .then(pl.concat_str(y.cast(pl.String).str.zfill(4), two(m), separator="-"))
        .otherwise(y.cast(pl.String).str.zfill(4))
    )
    problems = pl.concat_str(
        pl.when(pl.col("swapped")).then(pl.lit("date_day_month_swapped")),
        pl.col("verdict"),
        pl.when(placeholder).then(pl.lit("date_placeholder_0101")),
        separator=";",
        ignore_nulls=True,
    )
    table = frame.select(
        "raw",
        year=pl.when(ok).then(y).cast(pl.Int16),
        month=pl.when(ok).then(m).cast(pl.Int8),
        day=pl.when(ok).then(d).cast(pl.Int8),
        precision=pl.when(ok).then(
            pl.when(d.is_not_null())
            .then(pl.lit("day"))
            .when(m.is_not_null())
            .then(pl.lit("month"))
            .otherwise(pl.lit("year"))
        ),
        placeholder=placeholder,
        clean=pl.when(ok).then(clean),
        problems=problems,
    )
    return table, rest


def _python_table(values: list, year_only: bool) -> pl.DataFrame:
    parsed = [parse_date(v) for v in values]
    if year_only:
        parsed = [_year_only(p) for p in parsed]
    return pl.DataFrame(
        {
            "raw": values,
            "year": [p.year for p in parsed],
            "month": [p.month for p in parsed],
            "day": [p.day for p in parsed],
            "precision": [p.precision for p in parsed],
            "placeholder": [p.placeholder for p in parsed],
            "clean": [p.clean for p in parsed],
            "problems": [";".join(p.problems) for p in parsed],
        },
        schema=_SCHEMA,
    )


def date_table(values: pl.Series, *, year_only: bool = False) -> pl.DataFrame:
    """parse_date (and `_year_only` for the year kind) of each of `values` (distinct, text), as a
    `_SCHEMA` table: the common shapes vectorized (`_fast_table`), the others through parse_date."""
    fast, rest = _fast_table(values.cast(pl.Utf8))
    if year_only:
        kept = pl.col("year").is_not_null()
        fast = fast.with_columns(
            month=pl.when(~kept).then(pl.col("month")),
            day=pl.when(~kept).then(pl.col("day")),
            precision=pl.when(kept).then(pl.lit("year")).otherwise(pl.col("precision")),
            placeholder=pl.when(kept).then(False).otherwise(pl.col("placeholder")),
            clean=pl.when(kept).then(pl.col("year").cast(pl.String).str.zfill(4)).otherwise(pl.col("clean")),
            problems=pl.when(kept)
            .then(pl.col("problems").str.replace(r"^date_placeholder_0101$|;date_placeholder_0101$", ""))
            .otherwise(pl.col("problems")),
        )
    return pl.concat([fast.cast(_SCHEMA), _python_table(rest.to_list(), year_only)], how="vertical")


def normalize_date_column(
    df: pl.DataFrame, c: str, *, year_only: bool = False, keep_prefixed: bool = False
) -> pl.DataFrame:
    """Add the date columns for `c` (parse distinct values, join back; row order kept)."""
    text = _as_text(df[c]).alias("__raw")
    distinct = Distinct(text)
    table = date_table(distinct.values, year_only=year_only)
    table = table.rename({"problems": prefix_col(c)})
    table = table.rename({k: f"{c}_{k}" for k in _SCHEMA if k not in ("raw", "problems")}).rename({"raw": "__raw"})
    out = distinct.attach(df, table, "__raw")
    out = out.with_columns(pl.col(f"{c}_placeholder").fill_null(False))
    return finish(out, c, keep_prefixed)
