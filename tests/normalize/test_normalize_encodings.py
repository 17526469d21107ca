"""Legacy TCVN3 / VNI-Windows text and byte decoding, on the known strings of vn-facts.md."""

import unicodedata

import pytest

from matching.normalize.encodings import (
    decode_bytes,
    repair_legacy_text,
    tcvn3_to_unicode,
    vni_to_unicode,
)

TCVN3_KNOWN = [
    ("NguyÔn V¨n An", "Nguyễn Văn An"),
    ("Hµ Néi", "Hà Nội"),
    ("Hoµng ThÞ Lan", "Hoàng Thị Lan"),
    ("§ç V¨n B×nh", "Đỗ Văn Bình"),
    ("Tr\u00adêng", "Trường"),
    ("Ph¹m ThÞ Thu H»ng", "Phạm Thị Thu Hằng"),
]
VNI_KNOWN = [
    ("Nguyeãn Vaên An", "Nguyễn Văn An"),
    ("Haø Noäi", "Hà Nội"),
    ("Ñoã Vaên Bình", "Đỗ Văn Bình"),
    ("Traàn Thò Hoa", "Trần Thị Hoa"),
    ("Phaïm Thò Thu Haèng", "Phạm Thị Thu Hằng"),
]


@pytest.mark.parametrize("legacy,unicode_text", TCVN3_KNOWN)
def test_tcvn3_known_strings(legacy, unicode_text):
    assert tcvn3_to_unicode(legacy) == unicode_text
    assert repair_legacy_text(legacy) == (unicode_text, "tcvn3")


@pytest.mark.parametrize("legacy,unicode_text", VNI_KNOWN)
def test_vni_known_strings(legacy, unicode_text):
    assert vni_to_unicode(legacy) == unicode_text
    assert repair_legacy_text(legacy) == (unicode_text, "vni")


def test_whole_capital_tcvn3_is_recased_upper():
    assert repair_legacy_text("NGUYÔN V¡N AN") == ("NGUYỄN VĂN AN", "tcvn3")


@pytest.mark.parametrize(
    "text",
    ["Nguyễn Văn An", "Hờ A Páo", "Y Bi Aleo", "H' Nga Niê", "Nguyen Van An", "Ðinh Văn Lâm", "Hoà", "Ksor Hyưn"],
)
def test_valid_text_is_left_alone(text):
    out, enc = repair_legacy_text(text)
    assert enc is None
    assert out == unicodedata.normalize("NFC", text)


def _cp1258(text: str) -> bytes:
    """Encode like Windows-1258 does: precomposed base letter (ê, ơ, ă...) + combining tone mark."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            d = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in d if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in d if c not in tones))
            out += base.encode("cp1258") + tones.encode("cp1258")
    return out


def test_decode_bytes_utf8_bom_and_cp1258():
    text = "Nguyễn Thị Hòa"
    assert decode_bytes(text.encode("utf-8")) == (text, "utf-8")
    assert decode_bytes(b"\xef\xbb\xbf" + text.encode("utf-8")) == (text, "utf-8-sig")
    # cp1258 stores tone marks as combining characters: decoded text must come back NFC
    raw = _cp1258(text)
    assert b"\xde" in raw or b"\xec" in raw or b"\xf2" in raw  # combining tone bytes are used
    assert decode_bytes(raw) == (text, "cp1258")
