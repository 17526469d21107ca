"""Text encodings: decoding file bytes, and repairing text typed in legacy 8-bit Vietnamese fonts.

Why: old office files were typed with TCVN3 (ABC, ".Vn" fonts) or VNI-Windows fonts; once such
text is saved as Unicode it shows as odd Latin-1 ("NguyÔn V¨n An", "Nguyeãn Vaên An"). A generic
pipeline compares it as garbage. We convert it back, but only when every word of the result is a
real Vietnamese syllable, and flag the row (`legacy_tcvn3`, `legacy_vni`) so officers can fix the
source. The tables below are written from the character structure of each encoding and checked
against known strings from ../shared/reference/vn-facts.md (see tests).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from matching.normalize.syllables import is_valid_syllable

# --- TCVN3 (ABC): one code point per lower-case letter -------------------------------------
# Rows: base letter, then its five toned forms in the order grave, hook, tilde, acute, dot.
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
_TONE_ORDER = ("\u0300", "\u0309", "\u0303", "\u0301", "\u0323")  # grave hook tilde acute dot
_TCVN3_UPPER = {"¡": "Ă", "¢": "Â", "£": "Ê", "¤": "Ô", "¥": "Ơ", "¦": "Ư", "§": "Đ"}


def _with_tone(base: str, mark: str) -> str:
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", base) + mark)


def _build_tcvn3() -> dict[str, str]:
    table: dict[str, str] = {"®": "đ", **_TCVN3_UPPER}
    for base, (plain, toned) in _TCVN3_ROWS.items():
        if plain != base:
            table[plain] = base
        for mark, ch in zip(_TONE_ORDER, toned):
            table[ch] = _with_tone(base, mark)
    return table


TCVN3 = _build_tcvn3()

# --- VNI-Windows: base letter + mark character ---------------------------------------------
# Mark characters after a vowel (lower-case forms; upper-case text uses the upper-case forms).
_VNI_TONE = {"ø": "\u0300", "ù": "\u0301", "û": "\u0309", "õ": "\u0303", "ï": "\u0323"}
_VNI_CIRC = {"â": "", "à": "\u0300", "á": "\u0301", "å": "\u0309", "ã": "\u0303", "ä": "\u0323"}
_VNI_BREVE = {"ê": "", "è": "\u0300", "é": "\u0301", "ú": "\u0309", "ü": "\u0303", "ë": "\u0323"}
# Single characters standing for a whole letter.
_VNI_SINGLE = {
    "ñ": "đ", "Ñ": "Đ", "ô": "ơ", "Ô": "Ơ", "ö": "ư", "Ö": "Ư",
    "ì": "ì", "í": "í", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "Ì": "Ì", "Í": "Í", "Æ": "Ỉ", "Ó": "Ĩ", "Ò": "Ị",
    "î": "ỵ", "Î": "Ỵ",
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


VNI_PAIRS = _build_vni()
# Pairs first (longest match), single characters otherwise, in ONE pass: a letter a pair produced
# ("oâ" → "ô") must not be read again as a VNI single character ("ô" → "ơ").
_VNI_ALL = {**_VNI_SINGLE, **VNI_PAIRS}
_VNI_RE = re.compile("|".join(sorted(map(re.escape, _VNI_ALL), key=len, reverse=True)))


def tcvn3_to_unicode(s: str) -> str:
    """Convert TCVN3 text to Unicode; capitals are a base capital + the lower-case toned letter."""
    out = "".join(TCVN3.get(ch, ch) for ch in s)
    # "¢Ê" -> "Â" + "ấ" -> "Ấ": a capital followed by the toned form of the same letter.
    return re.sub(
        r"([A-ZĂÂÊÔƠƯ])([^\x00-\x7f])",
        lambda m: m.group(2).upper() if _strip_tone(m.group(2)) == m.group(1).lower() else m.group(0),
        out,
    )


def vni_to_unicode(s: str) -> str:
    """Convert VNI-Windows text to Unicode (pairs first, then single-character letters)."""
    return _VNI_RE.sub(lambda m: _VNI_ALL[m.group(0)], s)


def _strip_tone(ch: str) -> str:
    return unicodedata.normalize(
        "NFC", "".join(c for c in unicodedata.normalize("NFD", ch) if c not in _TONE_ORDER)
    )


_WORD_RE = re.compile(r"[^\W\d_]+")


def all_words_valid(s: str) -> bool:
    """Every word is a Vietnamese syllable or plain ASCII (ethnic-minority names, numbers)."""
    words = _WORD_RE.findall(s)
    return bool(words) and all(w.isascii() or is_valid_syllable(w) for w in words)


# Characters that never occur in Unicode Vietnamese text but do in TCVN3/VNI text read as Latin-1.
_VIET_LETTERS = set(
    "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵđ"
)
_VIET_LETTERS |= {c.upper() for c in _VIET_LETTERS}
# A regex (Rust and Python syntax) that flags values worth a legacy check: a character outside
# ASCII and the Vietnamese alphabet, or a VNI letter+mark pair that Unicode Vietnamese never has.
LEGACY_CANDIDATE_PATTERN = (
    "[^\\x00-\\x7f" + "".join(sorted(_VIET_LETTERS)) + "]"
    "|(?i:[ae][àáâãäåèéêëøùûõïöü]|[aeiouy][äåëøûïöüî]|o[âä]|[ôö][øùûõï])"
)
_LEGACY_CANDIDATE_RE = re.compile(LEGACY_CANDIDATE_PATTERN)


def repair_legacy_text(s: str) -> tuple[str, str | None]:
    """(text, 'tcvn3' | 'vni' | None): convert legacy-encoded text when the result is valid."""
    if not s or s.isascii() or not _LEGACY_CANDIDATE_RE.search(s):
        return s, None
    nfc = unicodedata.normalize("NFC", s)
    if all_words_valid(nfc) and not any(ch not in _VIET_LETTERS and not ch.isascii() for ch in nfc):
        return nfc, None
    for name, convert in (("tcvn3", tcvn3_to_unicode), ("vni", vni_to_unicode)):
        out = convert(nfc)
        if out != nfc and all_words_valid(out):
            letters = [c for c in nfc if c.isascii() and c.isalpha()]
            if letters and all(c.isupper() for c in letters):  # whole-capital ".VnTimeH" text
                out = out.upper()
            return out, name
    return nfc, None


# --- bytes -----------------------------------------------------------------------------------
def decode_bytes(raw: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (with or without BOM), else Windows-1258 (then NFC, as cp1258
    writes tone marks as combining characters), else Latin-1 as a last resort (never fails;
    legacy TCVN3/VNI text then shows up for `repair_legacy_text`)."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return raw.decode("utf-16"), "utf-16"
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return unicodedata.normalize("NFC", raw.decode("cp1258")), "cp1258"
    except UnicodeDecodeError:
        return raw.decode("latin-1"), "latin-1"
