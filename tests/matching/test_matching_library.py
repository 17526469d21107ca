"""The comparison library: every template level is reached by the case it is meant for, fields are
prepared alike on both sides, blocking keys resolve over spec columns, and a registry with no
Vietnamese field at all (given/family names, a passport number, a postcode) links through it."""

import random

import duckdb
import polars as pl
import pytest

from matching import library
from matching.comparisons import level_sql
from matching.link import link_records
from matching.person_schema import SCHEMA, field_columns
from matching.settings import LinkSettings


def prepared(entry: dict, values: dict) -> dict:
    """One record's prepared field columns, made from raw spec-column values like the pipeline does."""
    frame = pl.DataFrame({k: [v] for k, v in values.items()}, schema={k: pl.String for k in values})
    for c in values:  # a date column arrives normalized (the date normalizer's year/month/day)
        if entry.get("template") == "date":
            y, m, d = (None, None, None) if values[c] is None else map(int, values[c].split("-"))
            frame = frame.with_columns(
                pl.lit(y, pl.Int16).alias(f"{c}_year"),
                pl.lit(m, pl.Int16).alias(f"{c}_month"),
                pl.lit(d, pl.Int16).alias(f"{c}_day"),
            )
    return frame.select(field_columns(frame, library.field_preparations([entry]))).to_dicts()[0]


def level_of(entry: dict, r: dict, p: dict) -> str:
    c = library.comparison(entry)
    con = duckdb.connect()
    for name, values in (("r", prepared(entry, r)), ("p", prepared(entry, p))):
        con.register(name, pl.DataFrame([values]).to_arrow())
    (i,) = con.execute(f"SELECT {level_sql([c])} FROM r, p").fetchone()
    return c.levels[i].label


NAME = {"template": "person_name", "name": "ten", "given": "given", "family": "family"}


@pytest.mark.parametrize(
    "r, p, level",
    [
        (("Harry", None), ("Harry", "Max"), "jw_0.85"),
        ((None, None), ("Harry", "Max"), "null"),
        (("Harry", "Max"), ("harry", "MAX"), "exact"),
        (("Zoë", "O'Brien"), ("Zoe", "OBrien"), "exact"),
        (("Max", "Harry"), ("Harry", "Max"), "swapped"),
        (("Harry", "Maxwel"), ("Harry", "Maxwell"), "given_exact_family_close"),
        (("Harriet", "Maxwell"), ("Harryet", "Maxwell"), "family_exact_given_close"),
        (("Jonathon", "Smithe"), ("Jonathan", "Smith"), "jw_0.92"),
        (("Jo", "Black"), ("Jo", "White"), "one_part_exact"),
        (("Anna", "Lee"), ("Peter", "Grant"), "different"),
    ],
)
def test_person_name_given_and_family(r, p, level):
    side = lambda v: {"given": v[0], "family": v[1]}  # noqa: E731
    assert level_of(NAME, side(r), side(p)) == level


@pytest.mark.parametrize(
    "r, p, level",
    [
        ("Maria Garcia Lopez", "maria garcia lopez", "exact"),
        ("Garcia Lopez Maria", "Maria Garcia Lopez", "words_reordered"),
        ("Maria Garcia Lopes", "Maria Garcia Lopez", "jw_0.92"),
        ("Maria Garcia", "John Smith", "different"),
    ],
)
def test_person_name_in_one_column(r, p, level):
    entry = {"template": "person_name", "column": "full_name"}
    assert level_of(entry, {"full_name": r}, {"full_name": p}) == level


@pytest.mark.parametrize(
    "r, p, level",
    [
        ("C 1234567", "c1234567", "agree"),
        ("AB-12.345", "ab12345", "agree"),
        ("C1234568", "C1234567", "one_edit"),
        ("C123456", "C1234567", "one_edit"),
        ("C1243567", "C1234567", "transposition"),
        ("C1234599", "C1234567", "two_edits"),
        ("X9999999", "C1234567", "conflict"),
        (None, "C1234567", "null"),
    ],
)
def test_generic_id_any_length_and_pattern(r, p, level):
    entry = {"template": "generic_id", "column": "so_ho_chieu", "params": {"max_edits": 2}}
    assert level_of(entry, {"so_ho_chieu": r}, {"so_ho_chieu": p}) == level


def test_generic_id_one_edit_only_by_default():
    entry = {"template": "generic_id", "column": "ma"}
    assert level_of(entry, {"ma": "1234599"}, {"ma": "1234567"}) == "conflict"
    assert level_of(entry, {"ma": "1243567"}, {"ma": "1234567"}) == "transposition"


@pytest.mark.parametrize(
    "r, p, level",
    [
        ("12 Main Street", "12 main street", "exact"),
        ("12 Main Streeet", "12 Main Street", "jw_0.90"),
        ("Main Street, 12", "12 Main Street", "words_0.80"),
        ("Flat 3, 12 Main Street", "12 Main Street Apt", "words_0.50"),
        ("Hill Road", "12 Main Street", "different"),
    ],
)
def test_text_tokens_free_text_address(r, p, level):
    entry = {"template": "text_tokens", "column": "address"}
    assert level_of(entry, {"address": r}, {"address": p}) == level


@pytest.mark.parametrize(
    "r, p, level",
    [("12", "12", "exact"), ("13a", "12", "within_1"), ("17", "12", "within_5"), ("40", "12", "different")],
)
def test_numeric_closeness(r, p, level):
    entry = {"template": "numeric", "column": "so_nha", "params": {"close": [1, 5]}}
    assert level_of(entry, {"so_nha": r}, {"so_nha": p}) == level


def test_exact_code_and_date_fields():
    code = {"template": "exact_code", "column": "quoc_tich"}
    assert level_of(code, {"quoc_tich": " gbr "}, {"quoc_tich": "GBR"}) == "agree"
    assert level_of(code, {"quoc_tich": "FRA"}, {"quoc_tich": "GBR"}) == "different"
    dob = {"template": "date", "column": "dob"}
    assert level_of(dob, {"dob": "1980-05-17"}, {"dob": "1980-17-05"}) == "day_month_swapped"
    assert level_of(dob, {"dob": "1981-05-17"}, {"dob": "1980-05-17"}) == "one_digit"


def test_parameters_change_the_levels_and_are_checked():
    c = library.comparison({"template": "vietnamese_name", "params": {"jw_bands": [0.97, 0.9]}})
    assert [lv.label for lv in c.levels][-3:] == ["jw_0.97", "jw_0.90", "different"]
    with pytest.raises(ValueError, match="no parameter"):
        library.comparison({"template": "generic_id", "column": "x", "params": {"threshold": 1}})
    with pytest.raises(ValueError, match="needs"):
        library.comparison({"template": "person_name", "given": "g"})
    with pytest.raises(ValueError, match="used twice"):
        library.comparisons([{"template": "exact_code", "column": "x"}, {"template": "numeric", "column": "x"}])
    with pytest.raises(ValueError, match="one column, one preparation"):
        library.field_preparations(
            [{"template": "exact_code", "column": "x"}, {"template": "numeric", "name": "x2", "column": "x"}]
        )


def test_blocking_keys_over_spec_columns_and_person_keys():
    entries = [NAME, {"template": "date", "column": "dob"}, {"template": "exact_code", "column": "postcode"}]
    rules = library.blocking_rules(
        [
            "ho_ten_nam_sinh",
            {"name": "family_dob", "keys": ["family", "dob"]},
            {"name": "whole_year", "keys": ["ten", "dob.year", "postcode"]},
            {"name": "vn", "keys": ["ten", "ngay_sinh"]},
        ],
        entries,
    )
    assert [r.keys for r in rules] == [
        ("ho_ten_key_nomid", "ngay_sinh_year"),
        ("f_family", "f_dob_year", "f_dob_month", "f_dob_day"),
        ("f_ten", "f_dob_year", "f_postcode"),
        ("f_ten", "ngay_sinh_year", "ngay_sinh_month", "ngay_sinh_day"),
    ]
    with pytest.raises(ValueError, match="neither a column compared"):
        library.blocking_rules([{"name": "x", "keys": ["suburb"]}], entries)
    with pytest.raises(ValueError, match="only a date field has parts"):
        library.blocking_rules([{"name": "x", "keys": ["postcode.year"]}], entries)


# ------------------------------------------------------------------ linking with no Vietnamese field


def _foreign_people(n: int, seed: int) -> pl.DataFrame:
    rnd = random.Random(seed)
    given = ["harry", "olivia", "noah", "emma", "liam", "ava", "lucas", "mia", "ethan", "zoe", "jack", "ella"]
    family = ["smith", "jones", "brown", "taylor", "wilson", "martin", "garcia", "muller", "rossi", "dubois"]
    rows = []
    for _ in range(n):
        rows.append(
            {
                "given": rnd.choice(given) + rnd.choice(["", "a", "e", "o"]),
                "family": rnd.choice(family) + rnd.choice(["", "son", "er"]),
                "dob": f"{rnd.randint(1940, 2005)}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
                "passport": f"{rnd.choice('ABCE')}{rnd.randint(1_000_000, 9_999_999)}",
                "postcode": f"{rnd.randint(2000, 2100)}",
            }
        )
    return pl.DataFrame(rows)


def _typo(rnd: random.Random, text: str) -> str:
    i = rnd.randrange(len(text))
    return text[:i] + rnd.choice("abcdefghijklmnopqrstuvwxyz") + text[i + 1 :]


def _engine_frame(frame: pl.DataFrame, entries: list, rec_ids: list[int]) -> pl.DataFrame:
    dates = frame["dob"].str.split("-")
    normalized = frame.with_columns(
        dates.list.get(0, null_on_oob=True).cast(pl.Int16).alias("dob_year"),
        dates.list.get(1, null_on_oob=True).cast(pl.Int16).alias("dob_month"),
        dates.list.get(2, null_on_oob=True).cast(pl.Int16).alias("dob_day"),
    )
    person = pl.DataFrame({"rec_id": rec_ids}).with_columns(
        [pl.lit(None, dtype=t).alias(c) for c, t in SCHEMA.items() if c != "rec_id"]
    )
    fields = normalized.select(field_columns(normalized, library.field_preparations(entries)))
    return pl.concat([person, fields], how="horizontal")


def test_a_dataset_without_vietnamese_fields_links_by_templates():
    entries = [
        NAME,
        {"template": "date", "column": "dob"},
        {"template": "generic_id", "column": "passport"},
        {"template": "exact_code", "column": "postcode", "params": {"term_frequency": True}},
    ]
    blocking = [
        {"name": "family_dob", "keys": ["family", "dob"]},
        {"name": "given_dob", "keys": ["given", "dob"]},
        {"name": "passport", "keys": ["passport"]},
        {"name": "name_postcode", "keys": ["ten", "postcode"]},
    ]
    rnd = random.Random(7)
    population = _foreign_people(3000, seed=1)
    truth, rows = {}, []
    for k, i in enumerate(rnd.sample(range(population.height), 300)):
        row = dict(population.row(i, named=True))
        field = rnd.choice(["given", "family", "passport", "postcode", "dob", None])
        if field in ("given", "family", "passport"):
            row[field] = _typo(rnd, row[field])
        elif field == "postcode":
            row[field] = None
        elif field == "dob":
            y, m, d = row["dob"].split("-")
            row["dob"] = f"{y}-{d}-{m}" if int(d) <= 12 else f"{int(y) + 1}-{m}-{d}"
        rows.append(row)
        truth[k + 1] = i + 1
    absent = _foreign_people(60, seed=99)  # nobody in the reference list
    registry = pl.concat([pl.DataFrame(rows), absent])
    con = duckdb.connect()
    con.register("_r", _engine_frame(registry, entries, list(range(1, registry.height + 1))).to_arrow())
    con.register("_p", _engine_frame(population, entries, list(range(1, population.height + 1))).to_arrow())
    con.execute("CREATE TABLE reg AS SELECT * FROM _r; CREATE TABLE pop AS SELECT * FROM _p")
    settings = LinkSettings(comparisons=tuple(entries), blocking_rules=tuple(blocking), u_sample_pairs=200_000)
    result = link_records(con, "reg", "pop", settings)
    linked = result.links.filter(pl.col("status").is_in(["matched", "duplicate"]))
    pairs = dict(linked.select("rec_id", "pop_rec_id").iter_rows())
    right = sum(1 for rec, pop in pairs.items() if truth.get(rec) == pop)
    precision, recall = right / max(len(pairs), 1), right / len(truth)
    assert precision >= 0.99, (precision, recall)  # measured 1.000
    assert recall >= 0.95, (precision, recall)  # measured 1.000
    saved = result.model["comparisons"]
    assert "f_passport" in saved["passport"]["columns"]
    assert saved["ten"]["levels"][1]["tf"]["key"] == "f_ten"
