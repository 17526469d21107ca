"""Text encodings: decoding file bytes, and repairing text typed in legacy 8-bit Vietnamese fonts.

Why: old office files were typed with TCVN3 (ABC, ".Vn" fonts) or VNI-Windows fonts; once such
text is saved as Unicode it shows as odd Latin-1 ("NguyÔn V¨n An", "Nguyeãn Vaên An"). A generic
pipeline compares it as garbage. We convert it back, but only when every word of the result is a
real Vietnamese syllable, and flag the row (`legacy_tcvn3`, `legacy_vni`) so officers can fix the
source. The character tables are data in matching/reference/legacy_fonts.py (checked against
known strings from ../shared/reference/vn-facts.md, see tests).
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from matching.normalize.syllables import is_valid_syllable
from matching.reference.legacy_fonts import TCVN3, TONE_ORDER, VNI_PAIRS, VNI_SINGLE
from matching.reference.letters import VIET_LETTERS

# Pairs first (longest match), single characters otherwise, in ONE pass: a letter a pair produced
# ("oâ" → "ô") must not be read again as a VNI single character ("ô" → "ơ").
_VNI_ALL = {**VNI_SINGLE, **VNI_PAIRS}
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
    return unicodedata.normalize("NFC", "".join(c for c in unicodedata.normalize("NFD", ch) if c not in TONE_ORDER))


_WORD_RE = re.compile(r"[^\W\d_]+")


def all_words_valid(s: str) -> bool:
    """Every word is a Vietnamese syllable or plain ASCII (ethnic-minority names, numbers)."""
    words = _WORD_RE.findall(s)
    return bool(words) and all(w.isascii() or is_valid_syllable(w) for w in words)


# A regex (Rust and Python syntax) that flags values worth a legacy check: a character outside
# ASCII and the Vietnamese alphabet, or a VNI letter+mark pair that Unicode Vietnamese never has.
LEGACY_CANDIDATE_PATTERN = (
    "[^\\x00-\\x7f" + "".join(sorted(VIET_LETTERS)) + "]"
    "|(?i:[ae][àáâãäåèéêëøùûõïöü]|[aeiouy][äåëøûïöüî]|o[âä]|[ôö][øùûõï])"
)
_LEGACY_CANDIDATE_RE = re.compile(LEGACY_CANDIDATE_PATTERN)


def repair_legacy_text(s: str) -> tuple[str, str | None]:
    """(text, 'tcvn3' | 'vni' | None): convert legacy-encoded text when the result is valid."""
    if not s or s.isascii() or not _LEGACY_CANDIDATE_RE.search(s):
        return s, None
    nfc = unicodedata.normalize("NFC", s)
    if all_words_valid(nfc) and not any(ch not in VIET_LETTERS and not ch.isascii() for ch in nfc):
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
