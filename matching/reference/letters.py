"""The Vietnamese letters, tone marks and syllable parts, as data.

Source: the Vietnamese alphabet (29 letters, five tone marks) and the syllable structure
onset + vowel cluster + final consonant described in ../shared/reference/vn-facts.md; the rhyme
list is the standard inventory of Vietnamese rhymes. The normalizer's syllable rules
(matching/normalize/syllables.py), its legacy-font detection (encodings.py) and the sample
generator's typing defects (pipelines/sample/defects.py) all read these tables.
"""

from __future__ import annotations

# Combining tone marks, in the order of the Telex keys s f r x j.
TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
SHAPED = frozenset("ăâêôơư")  # vowels with a shape mark (circumflex, breve, horn)

# Every letter of Unicode Vietnamese text, both cases (characters outside ASCII and this set never
# occur in it, but do in TCVN3/VNI text read as Latin-1).
_LOWER_LETTERS = "aàảãáạăằẳẵắặâầẩẫấậeèẻẽéẹêềểễếệiìỉĩíịoòỏõóọôồổỗốộơờởỡớợuùủũúụưừửữứựyỳỷỹýỵđ"
VIET_LETTERS = frozenset(_LOWER_LETTERS) | frozenset(_LOWER_LETTERS.upper())

ONSETS = (
    "ngh",
    "ng",
    "nh",
    "gh",
    "gi",
    "kh",
    "ph",
    "th",
    "tr",
    "ch",
    "qu",
    "b",
    "c",
    "d",
    "đ",
    "g",
    "h",
    "k",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "t",
    "v",
    "x",
    "",
)

# Toneless rhymes: open rhymes, and nuclei that take a final consonant.
OPEN_RHYMES = tuple(
    "a ă â e ê i o ô ơ u ư y ai ao au ay âu ây eo êu ia iu oa oe oi ôi ơi ua uê ui uơ uy ưa ưi ưu "
    "iêu yêu oai oay oeo uây uôi ươi ươu uya uyu".split()
)
CLOSED_NUCLEI = tuple("a ă â e ê i o ô ơ u ư y iê yê oa oă oe uâ uê uô ươ uy uyê".split())
FINALS = tuple("c ch m n ng nh p t".split())
STOP_FINALS = ("c", "ch", "p", "t")  # a syllable closed by one of these takes only the s/j tones
