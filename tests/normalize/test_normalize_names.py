"""Names: every defect class of vn-facts.md, and hypothesis properties over generated names."""

import unicodedata

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.normalize.names import name_table, normalize_name, normalize_name_column

DEFECTS = [
    # (written, clean, expected problem or None)
    ("  nguyễn   văn an ", "Nguyễn Văn An", None),
    ("NGUYỄN THỊ HÒA", "Nguyễn Thị Hòa", "all_caps"),
    ("Nguyễn Thị Hoà", "Nguyễn Thị Hòa", "tone_style"),
    ("Huỳnh Thị Thuỷ", "Huỳnh Thị Thủy", "tone_style"),
    (unicodedata.normalize("NFD", "Đỗ Thị Khỏe"), "Đỗ Thị Khỏe", "nfd"),
    ("Ðinh Văn Lâm", "Đinh Văn Lâm", "eth_d"),
    ("NguyÔn V¨n An", "Nguyễn Văn An", "legacy_tcvn3"),
    ("Hoµng ThÞ Lan", "Hoàng Thị Lan", "legacy_tcvn3"),
    ("§ç V¨n B×nh", "Đỗ Văn Bình", "legacy_tcvn3"),
    ("Nguyeãn Vaên An", "Nguyễn Văn An", "legacy_vni"),
    ("Ñoã Thò Hoa", "Đỗ Thị Hoa", "legacy_vni"),
    ("Nguyeenx Vawn Traafn", "Nguyễn Văn Trần", "telex_residue"),
    ("DDinh Thij Lan", "Đinh Thị Lan", "telex_residue"),
    ("Nguye^~n Va(n An", "Nguyễn Văn An", "telex_residue"),
    ("Nguye64n Va8n Tra62n", "Nguyễn Văn Trần", "telex_residue"),  # VNI typing keys
    ("D9inh Thi5 Hu7o7ng", "Đinh Thị Hương", "telex_residue"),
    ("Nguyễn Văn A1", "Nguyễn Văn A", "stray_chars"),  # a stray digit, not a tone key
    ("Bà Nguyễn Thị Lan", "Nguyễn Thị Lan", "honorific"),
    ("Ông Trần Văn Ba", "Trần Văn Ba", "honorific"),
    ("Nguyễn Văn A.", "Nguyễn Văn A", "stray_chars"),
    ("Nguyen Van Thuy", "Nguyen Van Thuy", "no_diacritics"),
]


@pytest.mark.parametrize("written,clean,problem", DEFECTS)
def test_defect_classes(written, clean, problem):
    n = normalize_name(written)
    assert n.clean == clean
    if problem:
        assert problem in n.problems
    else:
        assert n.problems == ()


@pytest.mark.parametrize("name", ["Mai Linh", "Phan Minh Thu", "Tran Van Hung", "La Kim Thoa"])
def test_plain_names_that_need_no_diacritics_are_not_flagged(name):
    assert normalize_name(name).problems == ()


def test_keys_and_split():
    n = normalize_name("Huỳnh Thị Đào")
    assert (n.key, n.key_nomid, n.ho_key, n.ten_key) == ("huynh thi dao", "huynh dao", "hoang", "dao")
    assert (n.ho, n.dem, n.ten, n.structured) == ("Huỳnh", "Thị", "Đào", True)
    assert normalize_name("Võ Văn Kiệt").ho_key == "vu"
    # only middle tokens are dropped: a given name "Văn" or surname "Văn" stays
    assert normalize_name("Văn Thị Văn").key_nomid == "van van"
    assert normalize_name("Nguyễn Văn Thị Hoa").key_nomid == "nguyen hoa"


@pytest.mark.parametrize("name", ["Hờ A Páo", "Y Bi Aleo", "H' Nga Niê", "Ksor Hyưn"])
def test_ethnic_minority_names_are_not_split(name):
    n = normalize_name(name)
    assert n.clean == name
    assert not n.structured and n.ho is None
    assert n.ho_key == n.key.split(" ")[0] and n.ten_key == n.key.split(" ")[-1]


def test_honorific_is_kept_when_it_is_a_surname():
    assert normalize_name("Ông Văn Tùng").clean == "Ông Văn Tùng"  # Ông is also a surname


def test_empty_and_null():
    for v in (None, "", "   "):
        n = normalize_name(v)
        assert n.clean is None and n.key is None and n.problems == ()


def test_column_keeps_rows_and_order():
    vals = ["Trần Văn B", None, "Nguyễn Thị Hoà", "Trần Văn B", "NguyÔn V¨n An"]
    out = normalize_name_column(pl.DataFrame({"ho_ten": vals}), "ho_ten")
    assert out["ho_ten"].to_list() == vals
    assert out["ho_ten_clean"].to_list() == ["Trần Văn B", None, "Nguyễn Thị Hòa", "Trần Văn B", "Nguyễn Văn An"]
    assert out["ho_ten_problems"].to_list() == [[], [], ["tone_style"], [], ["legacy_tcvn3"]]
    assert out.schema["ho_ten_problems"] == pl.List(pl.Utf8)


# ---- properties ----------------------------------------------------------------------------
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Vũ", "Võ", "Đặng", "Đỗ", "Bùi", "Dương", "Đinh"]
MIDDLES = ["Văn", "Thị", "Đức", "Ngọc", "Thùy", "Thủy", "Minh", "Hữu", "Quý", "Xuân", "Hoài", "Thị Thanh"]
GIVENS = [
    "Hòa",
    "Thủy",
    "Khỏe",
    "Hòe",
    "Thúy",
    "Quỳnh",
    "Đào",
    "Tuấn",
    "Hùng",
    "Lan",
    "Nguyệt",
    "Khoa",
    "Quý",
    "Toản",
    "Xòa",
    "Thụy",
    "Hoàng",
    "Ước",
    "Giang",
    "Gấm",
    "Yến",
    "Oanh",
    "Ánh",
]

names = st.builds(
    lambda s, m, g: " ".join(x for x in (s, m, g) if x),
    st.sampled_from(SURNAMES),
    st.one_of(st.just(""), st.sampled_from(MIDDLES)),
    st.sampled_from(GIVENS),
)


def _old_tone(text: str) -> str:
    """Canonical -> the other style for open oa/oe/uy: Hòa -> Hoà, Thủy -> Thuỷ."""
    out = []
    for w in text.split(" "):
        d = unicodedata.normalize("NFD", w)
        for a, b in (("o", "a"), ("o", "e"), ("u", "y"), ("O", "A"), ("U", "Y")):
            for mark in "\u0300\u0301\u0309\u0303\u0323":
                if d.endswith(a + mark + b) and not d[:-3].lower().endswith("q"):
                    d = d[:-3] + a + b + mark
        out.append(unicodedata.normalize("NFC", d))
    return " ".join(out)


def _strip(text: str) -> str:
    d = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in d if not unicodedata.combining(ch))


PRESERVING = [
    str.upper,
    str.lower,
    lambda s: unicodedata.normalize("NFD", s),
    _old_tone,
    lambda s: "  " + s.replace(" ", "   ") + " ",
    lambda s: s.replace("Đ", "Ð"),
    lambda s: _old_tone(s).upper(),
]
LOSING = [_strip, lambda s: _strip(s).upper(), lambda s: _strip(s).lower()]


@settings(max_examples=60, deadline=None)
@given(names)
def test_idempotent(name):
    table = name_table(pl.Series([name]))
    clean = table["clean"][0]
    again = name_table(pl.Series([clean]))
    assert again["clean"][0] == clean
    assert again["key"][0] == table["key"][0]


@settings(max_examples=60, deadline=None)
@given(names)
def test_diacritic_preserving_corruptions_give_the_same_clean_name(name):
    variants = [f(name) for f in PRESERVING]
    table = name_table(pl.Series([name, *variants]))
    by_raw = dict(zip(table["raw"], table["clean"]))
    expected = by_raw[name]
    assert expected == name  # the generated names are canonical already
    for v in variants:
        assert by_raw[v] == expected, (v, by_raw[v])


@settings(max_examples=60, deadline=None)
@given(names)
def test_accent_free_keys_agree_for_corruptions_that_lose_diacritics(name):
    variants = [f(name) for f in PRESERVING + LOSING]
    table = name_table(pl.Series([name, *variants]))
    keys = dict(zip(table["raw"], table["key"]))
    for v in variants:
        assert keys[v] == keys[name]
    nomid = dict(zip(table["raw"], table["key_nomid"]))
    assert len({nomid[v] for v in variants} | {nomid[name]}) == 1


# ---- the sample generator's own corruptions, on the sample population's names ---------------
def _population_names() -> list[str]:
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "data" / "sample" / "population.csv"
    if not path.exists():
        return []
    return sorted(set(pl.read_csv(path, infer_schema=False)["ho_ten"].drop_nulls().to_list()))


POP_NAMES = _population_names()


@pytest.mark.skipif(not POP_NAMES, reason="no committed sample")
@settings(max_examples=80, deadline=None)
@given(st.sampled_from(POP_NAMES or ["x"]), st.integers(0, 50), st.booleans())
def test_generator_corruptions_normalize_back(name, word_pick, tone_inside):
    defects = pytest.importorskip("pipelines.sample.defects")
    words = name.split(" ")
    spots = [i for i, w in enumerate(words) if defects.strip_diacritics(w) != w]
    telexed = list(words)
    if spots:
        i = spots[word_pick % len(spots)]
        telexed[i] = defects.telex(words[i], tone_inside=tone_inside)
    preserving = [
        name.upper(),
        unicodedata.normalize("NFD", name),
        defects.old_tone(name),
        name.replace("Đ", "\u00d0"),
        "  " + name.replace(" ", "  ") + " ",
        defects.old_tone(name).upper(),
    ]
    lossy = [defects.strip_diacritics(name), defects.strip_diacritics(name).upper()]
    table = name_table(pl.Series([name, *preserving, *lossy, " ".join(telexed)]))
    clean = dict(zip(table["raw"], table["clean"]))
    key = dict(zip(table["raw"], table["key"]))
    for v in preserving:
        assert clean[v] == clean[name], v
    for v in lossy:
        assert key[v] == key[name], v
    # Telex residue is repaired whenever the typed word becomes a real Vietnamese syllable
    from matching.normalize.syllables import is_valid_syllable

    if spots and is_valid_syllable(words[spots[word_pick % len(spots)]]):
        assert clean[" ".join(telexed)] == clean[name], " ".join(telexed)
