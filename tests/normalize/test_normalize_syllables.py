"""Tone placement and syllable validity, checked on real words (canonical = CSDLQG style)."""

import pytest

from matching.normalize.syllables import (
    canonical_syllable,
    is_valid_syllable,
    split_tone,
)

# (written, canonical): open oa/oe/uy put the mark on the first vowel ("Thanh Hóa", "Khánh Hòa");
# with a final consonant or a shaped vowel both styles agree; qu/gi onsets are not clusters.
TONE_TABLE = [
    ("hoà", "hòa"),
    ("hòa", "hòa"),
    ("hoá", "hóa"),
    ("thuỷ", "thủy"),
    ("thủy", "thủy"),
    ("khoẻ", "khỏe"),
    ("khỏe", "khỏe"),
    ("Thuý", "Thúy"),
    ("HOÀ", "HÒA"),
    ("xoà", "xòa"),
    ("hoàng", "hoàng"),
    ("khoảng", "khoảng"),
    ("quyết", "quyết"),
    ("quỳnh", "quỳnh"),
    ("quý", "quý"),
    ("qúy", "quý"),
    ("quà", "quà"),
    ("quạ", "quạ"),
    ("giá", "giá"),
    ("gì", "gì"),
    ("gìn", "gìn"),
    ("giữa", "giữa"),
    ("hoài", "hoài"),
    ("xoáy", "xoáy"),
    ("khuỷu", "khuỷu"),
    ("người", "người"),
    ("rượu", "rượu"),
    ("nguyễn", "nguyễn"),
    ("mía", "mía"),
    ("muá", "múa"),
    ("của", "của"),
    ("tuấn", "tuấn"),
    ("khuấy", "khuấy"),
    ("Aleo", "Aleo"),
    ("Ksor", "Ksor"),
]


@pytest.mark.parametrize("written,canonical", TONE_TABLE)
def test_canonical_tone_placement(written, canonical):
    assert canonical_syllable(written) == canonical


def test_split_tone():
    assert split_tone("hoà") == ("hoa", "f")
    assert split_tone("Nguyễn") == ("Nguyên", "x")
    assert split_tone("An") == ("An", None)


@pytest.mark.parametrize(
    "word", ["ba", "an", "hát", "kem", "đinh", "thị", "văn", "páo", "hờ", "quý", "giường", "nghiêng"]
)
def test_valid_syllables(word):
    assert is_valid_syllable(word)


@pytest.mark.parametrize(
    "word", ["aleo", "ksor", "nguyeen", "traan", "hat", "hàt", "quu", "ka", "ghe" + "x", "ngo" + "w"]
)
def test_invalid_syllables(word):
    assert not is_valid_syllable(word)
