"""The Vietnamese syllable: tone marks, canonical tone placement, and a validity check.

Why: three repairs depend on knowing what a real Vietnamese syllable looks like — legacy-encoding
detection (accept a TCVN3/VNI conversion only when every word becomes a real syllable), Telex/VIQR
residue ("Nguyeenx", "Nguye^~n"), and the tone-mark style ("hoà" vs "hòa"). All of them run on
rare values only (the common path is vectorized polars), so plain Python is fine here.

Canonical tone placement (the style of CSDLQG and of `vietnamadminunits`: "Thanh Hóa",
"Khánh Hòa", "Thủy Nguyên"; checked: 0 occurrences of "Hoá/Hoà/Thuỷ" in the package's unit names):
1. a vowel with a shape mark (ă â ê ô ơ ư) carries the tone (for ươ: the ơ) — "tuấn", "người";
2. otherwise, if a final consonant follows the vowel cluster, the last vowel carries it — "hoàng",
   "khoảng", "quỳnh";
3. otherwise (open syllable) a two-vowel cluster puts it on the first vowel — "hòa", "khỏe",
   "thủy", "múa", "hài"; a three-vowel cluster on the middle one — "hoài", "xoáy", "khuỷu".
The "u" of the onset "qu" and the "i" of the onset "gi" are not part of the cluster: "quý", "quà",
"giá", but "gì" (no other vowel: the i is the vowel).
"""

from __future__ import annotations

import re
import unicodedata

from matching.reference.letters import (
    CLOSED_NUCLEI,
    FINALS,
    ONSETS,
    OPEN_RHYMES,
    SHAPED,
    STOP_FINALS,
    TONES,
)

_ONSET_RE = "|".join(o for o in ONSETS if o)

_RHYMES = set(OPEN_RHYMES) | {n + f for n in CLOSED_NUCLEI for f in FINALS}
_SYLLABLE_RE = re.compile(rf"^({_ONSET_RE})?([aăâeêioôơuưy]+)(ch|ng|nh|c|m|n|p|t)?$")


def split_tone(syllable: str) -> tuple[str, str | None]:
    """('hoà' -> ('hoa', 'f')): the syllable without its tone mark, and the tone's Telex key."""
    decomposed = unicodedata.normalize("NFD", syllable)
    tone = None
    kept = []
    for ch in decomposed:
        if ch in TONES:
            tone = TONES[ch]
        else:
            kept.append(ch)
    return unicodedata.normalize("NFC", "".join(kept)), tone


_MARK_OF = {v: k for k, v in TONES.items()}


def _parts(lower: str) -> tuple[str, str, str] | None:
    """Split a toneless lower-case syllable into onset, vowel cluster, final consonant."""
    m = _SYLLABLE_RE.match(lower)
    if not m:
        return None
    onset, vowels, final = m.group(1) or "", m.group(2), m.group(3) or ""
    # The regex tries "gi" before "g" and backtracks when no vowel would remain ("gì", "gìn");
    # "qu" always keeps its u as part of the onset ("quý", "quà").
    return onset, vowels, final


def tone_index(lower: str) -> int | None:
    """Index (in the toneless lower-case syllable) of the vowel that carries the tone."""
    parts = _parts(lower)
    if parts is None:
        return None
    onset, vowels, final = parts
    start = len(onset)
    shaped = [i for i, ch in enumerate(vowels) if ch in SHAPED]
    if shaped:
        return start + shaped[-1]
    if final or len(vowels) == 1:
        return start + len(vowels) - 1
    if len(vowels) == 2:
        return start
    return start + 1


def place_tone(toneless: str, tone: str | None) -> str:
    """Put `tone` (Telex key) on the canonical vowel of `toneless`; keeps the letters' case."""
    if not tone:
        return toneless
    idx = tone_index(toneless.lower())
    if idx is None:
        return toneless
    ch = toneless[idx]
    marked = unicodedata.normalize("NFC", unicodedata.normalize("NFD", ch) + _MARK_OF[tone])
    return toneless[:idx] + marked + toneless[idx + 1 :]


def canonical_syllable(word: str) -> str:
    """Re-place the tone mark of one word in the canonical style; non-syllables are returned as is."""
    base, tone = split_tone(word)
    if tone is None or _parts(base.lower()) is None:
        return unicodedata.normalize("NFC", word)
    return place_tone(base, tone)


def is_valid_syllable(word: str) -> bool:
    """A real Vietnamese syllable (any case, any tone placement)? Stop finals only take s/j tones."""
    base, tone = split_tone(word)
    parts = _parts(base.lower())
    if parts is None:
        return False
    onset, vowels, final = parts
    if vowels + final not in _RHYMES:
        return False
    if final in STOP_FINALS and tone not in ("s", "j"):
        return False
    # c/k/g/gh/ng/ngh spelling rules
    first = vowels[0]
    if onset in ("k", "gh", "ngh") and first not in "eêiy":
        return False
    if onset in ("c", "g", "ng") and first in "eê":
        return False
    if onset == "qu" and first in "uư":
        return False
    return True
