"""Character tables of the legacy 8-bit Vietnamese fonts: TCVN3 (ABC, ".Vn" fonts) and VNI-Windows.

Source: the character structure of each encoding — TCVN3 as standardised in TCVN 5712:1993 (one
code point per lower-case toned letter, capitals as a base capital), VNI-Windows (a base letter
followed by a mark character) — checked against the known strings of
../shared/reference/vn-facts.md (tests/normalize/test_normalize_encodings.py). Text typed in these
fonts and saved as Unicode reads as odd Latin-1 ("NguyÔn V¨n An", "Nguyeãn Vaên An").

Tables only; the conversion and its validity check are in matching/normalize/encodings.py, and the
sample generator and test fixtures read the same tables to write such text.
"""

from __future__ import annotations

import unicodedata

# Combining tone marks in the order of each TCVN3 row: grave, hook, tilde, acute, dot.
TONE_ORDER = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")

# --- TCVN3 (ABC): one code point per lower-case letter -------------------------------------
# Rows: base letter, then its five toned forms in TONE_ORDER.
_TCVN3_ROWS = {
    "a": ("a", "µ¶·¸¹"),
    "ă": ("¨", "»¼½¾Æ"),
    "â": ("©", "ÇÈÉÊË"),
    "e": ("e", "ÌÎÏÐÑ"),
    "ê": ("ª", "ÒÓÔÕÖ"),
    "i": ("i", "×ØÜÝÞ"),
    "o": ("o", "ßáâãä"),
    "ô": ("«", "åæçèé"),
    "ơ": ("¬", "êëìíî"),
    "u": ("u", "ïñòóô"),
    "ư": ("\u00ad", "õö÷øù"),
    "y": ("y", "úûüýþ"),
}
_TCVN3_UPPER = {"¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ"}


def _with_tone(base: str, mark: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", base) + mark)


def _build_tcvn3() -> dict[str, str]:
    table: dict[str, str] = {"®": "đ", **_TCVN3_UPPER}
    for base, (plain, toned) in _TCVN3_ROWS.items():
        if plain != base:
            table[plain] = base
        for mark, ch in zip(TONE_ORDER, toned):
            table[ch] = _with_tone(base, mark)
    return table


TCVN3 = _build_tcvn3()  # TCVN3 character -> Unicode letter

# --- VNI-Windows: base letter + mark character ---------------------------------------------
# Mark characters after a vowel (lower-case forms; upper-case text uses the upper-case forms).
_VNI_TONE = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_CIRC = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
# Single characters standing for a whole letter.
VNI_SINGLE = {
    "ñ": "đ",
    "Ñ": "Đ",
    "ô": "ơ",
    "Ô": "Ơ",
    "ö": "ư",
    "Ö": "Ư",
    "ì": "ì",
    "í": "í",
    "æ": "ỉ",
    "ó": "ĩ",
    "ò": "ị",
    "Ì": "Ì",
    "Í": "Í",
    "Æ": "Ỉ",
    "Ó": "Ĩ",
    "Ò": "Ị",
    "î": "ỵ",
    "Î": "Ỵ",
}


def _build_vni() -> dict[str, str]:
    """Two-character sequences (letter + mark) to Unicode letters, both cases."""
    table: dict[str, str] = {}
    for base in "aeouy":
        for mark_ch, mark in _VNI_TONE.items():
            table[base + mark_ch] = _with_tone(base, mark)
    for base, shaped in (("a", "â"), ("e", "ê"), ("o", "ô")):
        for mark_ch, mark in _VNI_CIRC.items():
            table[base + mark_ch] = _with_tone(shaped, mark) if mark else shaped
    for mark_ch, mark in _VNI_BREVE.items():
        table["a" + mark_ch] = _with_tone("ă", mark) if mark else "ă"
    for shaped_ch, shaped in (("ô", "ơ"), ("ö", "ư")):
        for mark_ch, mark in _VNI_TONE.items():
            table[shaped_ch + mark_ch] = _with_tone(shaped, mark)
    upper = {k.upper(): v.upper() for k, v in table.items()}
    # Mixed case ("Aø" at the start of a capitalised word) happens too.
    mixed = {k[0].upper() + k[1:]: v.upper() for k, v in table.items()}
    return {**table, **mixed, **upper}


VNI_PAIRS = _build_vni()  # VNI letter + mark pair -> Unicode letter
