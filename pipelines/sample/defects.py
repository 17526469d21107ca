"""Registry defects: what clerks, keyboards and spreadsheets do to real records, at set rates.

Every rate is the probability that a registry row gets the defect, drawn independently per row,
so one row can carry several. A defect drawn for a row it cannot apply to is neither applied nor
recorded (no old CMND to give, no "Đ" to mistype, day > 12 for a day/month swap, diacritics
already stripped, not elderly for a 01/01 placeholder, no Thị/Văn to drop, no open oa/oe/uy
syllable for the old tone placement), so measured shares of those codes are below their rates.
Row-level events (`duplicate`, `absent`, `deceased_still_paid`) are exact shares of the rows.
The rates are written to truth/defect_rates.json with every sample.

Codes:
- id_missing, id_old_cmnd (9-digit CMND instead of the 12-digit ID), id_typo (one digit
  changed), id_transposed (two adjacent digits swapped), id_excel_lost_zero (leading zero lost)
- name_no_diacritics, name_upper, name_nfd (decomposed Unicode), name_old_tone (hoà/thuỷ/khoẻ),
  name_telex (one syllable typed as Telex keys: Nguyeenx, Traafn, DDinh), name_drop_middle
  (standalone Thị/Văn dropped), name_extra_spaces, name_eth_d (Đ typed as U+00D0 Ð)
- dob_format (d/m/yyyy, dd-mm-yyyy, yyyy-mm-dd, dd.mm.yyyy, Excel serial), dob_swapped,
  dob_year_only, dob_placeholder_0101 (born before 1960), dob_typo (day ±1 or year ±1)
- sex_wrong, addr_legacy (pre-2025 three-level address), addr_abbrev (P., Q., TP., ...),
  addr_moved (the registry still holds an earlier residence: another commune, in the same
  province seven times in ten; CSDLQG has the current one)
- name_regional_surname (the southern/northern form of the surname: Hoàng ↔ Huỳnh, Vũ ↔ Võ;
  applies only to those surnames, so its measured share is far below its rate)
- account_missing (paid through an account, no account number)
- duplicate, absent (not in CSDLQG), deceased_still_paid
- accommodation guests: foreigner (a foreign guest, not in CSDLQG), namesake (a foreign guest whose
  Vietnamese-born name a CSDLQG person also bears), repeat_stay (a guest's later stay: not a duplicate)
"""

from __future__ import annotations

import random
import re
import unicodedata
from datetime import date

from matching.reference.letters import TONES
from pipelines.sample.places import abbreviate

ID_CODES = ("id_missing", "id_old_cmnd", "id_typo", "id_transposed", "id_excel_lost_zero")
NAME_CODES = (
    "name_no_diacritics",
    "name_upper",
    "name_nfd",
    "name_old_tone",
    "name_telex",
    "name_drop_middle",
    "name_extra_spaces",
    "name_eth_d",
    "name_regional_surname",
)
DOB_CODES = ("dob_format", "dob_swapped", "dob_year_only", "dob_placeholder_0101", "dob_typo")
ADDR_CODES = ("addr_legacy", "addr_abbrev", "addr_moved")

_PERSON = {
    "id_missing": 0.06,
    "id_old_cmnd": 0.08,
    "id_typo": 0.03,
    "id_transposed": 0.02,
    "id_excel_lost_zero": 0.05,
    "name_no_diacritics": 0.06,
    "name_upper": 0.08,
    "name_nfd": 0.04,
    "name_old_tone": 0.30,
    "name_telex": 0.03,
    "name_drop_middle": 0.06,
    "name_extra_spaces": 0.05,
    "name_eth_d": 0.15,
    "dob_format": 0.10,
    "dob_swapped": 0.05,
    "dob_year_only": 0.04,
    "dob_placeholder_0101": 0.15,
    "dob_typo": 0.03,
    "sex_wrong": 0.02,
    "addr_legacy": 0.25,
    "addr_abbrev": 0.10,
    "addr_moved": 0.05,
    "name_regional_surname": 0.10,
}

DEFAULT_RATES: dict[str, dict[str, float]] = {
    "social_welfare": {
        **_PERSON,
        "account_missing": 0.06,
        "duplicate": 0.01,
        "absent": 0.03,
        "deceased_still_paid": 0.01,
    },
    "pension": {
        **_PERSON,
        "id_missing": 0.04,
        "id_old_cmnd": 0.12,
        "account_missing": 0.04,
        "duplicate": 0.01,
        "absent": 0.03,
        "deceased_still_paid": 0.01,
    },
    "civil_births": {
        **{
            k: v
            for k, v in _PERSON.items()
            if k not in ("id_old_cmnd", "dob_placeholder_0101", "dob_year_only", "addr_moved")
        },
        "id_missing": 0.50,
        "addr_legacy": 0.15,
        "duplicate": 0.01,
    },
    "civil_deaths": {**_PERSON, "id_missing": 0.08, "addr_moved": 0.01, "duplicate": 0.01},
    "land": {
        **{k: v for k, v in _PERSON.items() if k in ID_CODES + NAME_CODES + ADDR_CODES},
        "id_missing": 0.08,
        "id_old_cmnd": 0.85,
        "addr_legacy": 0.45,
        "addr_moved": 0.08,
        "dob_typo": 0.03,
        "duplicate": 0.01,
        "absent": 0.03,
    },
    # registries added as spec files (issue 13); `absent` people are drawn from those already absent
    # for the rolls above, so these rates never change the population
    "health_insurance": {**_PERSON, "id_missing": 0.10, "id_old_cmnd": 0.04, "duplicate": 0.01, "absent": 0.02},
    "school_records": {
        **{k: v for k, v in _PERSON.items() if k not in ("id_old_cmnd", "dob_placeholder_0101", "dob_year_only")},
        "id_missing": 0.45,  # for grade 1, falling to a third of it by grade 12 (registries.school_records)
        "addr_moved": 0.03,
        "duplicate": 0.01,
    },
    # ASM: typed into a web form from the card, so fewer typing slips, more capitals and lost accents;
    # `foreigner` is the share of rows for foreign guests, `namesake` the share of those whose
    # Vietnamese-born name a CSDLQG person also bears, `repeat_stay` a guest's second stay
    "accommodation_guests": {
        **_PERSON,
        "id_missing": 0.02,
        "id_old_cmnd": 0.01,
        "id_excel_lost_zero": 0.03,
        "name_upper": 0.30,
        "name_no_diacritics": 0.15,
        "name_telex": 0.01,
        "name_drop_middle": 0.03,
        "dob_format": 0.30,
        "dob_year_only": 0.0,
        "dob_placeholder_0101": 0.05,
        "duplicate": 0.01,
        "foreigner": 0.25,
        "namesake": 0.20,
        "repeat_stay": 0.08,
    },
}

_SHAPES = {"\u0306": "w", "\u031b": "w"}  # breve (ă), horn (ơ, ư); circumflex doubles the letter
# canonical (CSDLQG) "Hòa/Thủy/Khỏe" -> old-style "Hoà/Thuỷ/Khoẻ": the mark moves to the last vowel
# (only oa, oe, uy: in ua/ia/ưa the mark stays on the first vowel in both styles — Tủa, Mùa)
_OLD_TONE = re.compile(
    r"(?<![qQ])([oO])([\u0300\u0301\u0309\u0303\u0323])([aAeE])(?![\w])|(?<![qQ])([uU])([\u0300\u0301\u0309\u0303\u0323])([yY])(?![\w])"
)
STOPWORDS = frozenset({"Ông", "ông", "Bà", "bà", "và", "Hộ", "hộ"})


def strip_diacritics(text: str) -> str:
    nfd = unicodedata.normalize("NFD", text)
    out = "".join(c for c in nfd if not unicodedata.combining(c))
    return out.replace("đ", "d").replace("Đ", "D")


def old_tone(text: str) -> str:
    """New to old tone placement in open oa/oe/uy syllables: Hòa -> Hoà, Thủy -> Thuỷ."""
    nfd = unicodedata.normalize("NFD", text)

    def move(m: re.Match) -> str:
        first, mark, second = m.group(1, 2, 3) if m.group(1) else m.group(4, 5, 6)
        return first + second + mark

    return unicodedata.normalize("NFC", _OLD_TONE.sub(move, nfd))


def drop_middle(text: str) -> str:
    """Drop standalone middle "Thị"/"Văn" (never the first or last word of a name)."""
    words = text.split(" ")
    keep = [
        w
        for i, w in enumerate(words)
        if not (
            w in ("Thị", "Văn")
            and 0 < i < len(words) - 1
            and words[i - 1] not in STOPWORDS
            and words[i + 1] not in STOPWORDS
        )
    ]
    return " ".join(keep)


def has_new_tone_open(text: str) -> bool:
    return bool(_OLD_TONE.search(unicodedata.normalize("NFD", text)))


def telex(syllable: str, tone_inside: bool) -> str:
    """A syllable as typed with Telex keys: Nguyễn -> Nguyeenx, Trần -> Traafn / Traanf, Đinh -> DDinh."""
    out: list[str] = []
    tone = ""
    last_vowel = -1
    for ch in syllable:
        if ch in "đĐ":
            out.append("dd" if ch == "đ" else "DD")
            continue
        parts = unicodedata.normalize("NFD", ch)
        base, marks = parts[0], parts[1:]
        out.append(base)
        for mk in marks:
            if mk in TONES:
                tone = TONES[mk]
            elif mk == "\u0302":
                out.append(base.lower())
            elif mk in _SHAPES:
                out.append("w")
        if base.lower() in "aeiouy":
            last_vowel = len(out)
    if not tone:
        return "".join(out)
    if tone_inside and 0 < last_vowel < len(out):
        out.insert(last_vowel, tone)
    else:
        out.append(tone)
    return "".join(out)


def apply_id(value: str, cmnd: str, flags: dict[str, bool], rnd: random.Random) -> tuple[str, list[str]]:
    """The ID as written in the registry and the ID defect codes applied."""
    if not value and not cmnd:
        return "", []
    if flags.get("id_missing"):
        return "", ["id_missing"]
    codes: list[str] = []
    out = value
    if (flags.get("id_old_cmnd") and cmnd) or not value:
        out = cmnd
        codes.append("id_old_cmnd")
    if flags.get("id_typo"):
        i = rnd.randrange(len(out))
        out = out[:i] + str((int(out[i]) + rnd.randrange(1, 10)) % 10) + out[i + 1 :]
        codes.append("id_typo")
    if flags.get("id_transposed"):
        spots = [i for i in range(len(out) - 1) if out[i] != out[i + 1]]
        if spots:
            i = rnd.choice(spots)
            out = out[:i] + out[i + 1] + out[i] + out[i + 2 :]
            codes.append("id_transposed")
    if flags.get("id_excel_lost_zero") and out.startswith("0"):
        out = out[1:]
        codes.append("id_excel_lost_zero")
    return out, codes


REGIONAL_SURNAME = {"Hoàng": "Huỳnh", "Huỳnh": "Hoàng", "Vũ": "Võ", "Võ": "Vũ"}


def regional_surname(text: str) -> str:
    """The other regional form of the surname (after any Ông/Bà/Hộ), or the text unchanged."""
    words = text.split(" ")
    for i, w in enumerate(words):
        if w in STOPWORDS or not w:
            continue
        if w in REGIONAL_SURNAME:
            words[i] = REGIONAL_SURNAME[w]
        break
    return " ".join(words)


def apply_name(texts: list[str], flags: dict[str, bool], rnd: random.Random) -> tuple[list[str], list[str]]:
    """Apply the drawn name defects to every name of the row (the same clerk typed them all).

    The Telex and extra-space defects touch the first text only, and Telex never a word of
    STOPWORDS (land: "Ông", "Hộ ông", "và bà")."""
    codes: list[str] = []
    out = list(texts)

    def mark(code: str, changed: bool) -> None:
        if changed and code not in codes:
            codes.append(code)

    if flags.get("name_regional_surname"):
        new = [regional_surname(t) for t in out]
        mark("name_regional_surname", new != out)
        out = new
    if flags.get("name_drop_middle"):
        new = [drop_middle(t) for t in out]
        mark("name_drop_middle", new != out)
        out = new
    no_dia = bool(flags.get("name_no_diacritics"))
    if flags.get("name_old_tone") and not no_dia:
        new = [old_tone(t) for t in out]
        mark("name_old_tone", new != out)
        out = new
    if no_dia:
        new = [strip_diacritics(t) for t in out]
        mark("name_no_diacritics", new != out)
        out = new
    else:
        if flags.get("name_telex") and out[0]:
            words = out[0].split(" ")
            spots = [i for i, w in enumerate(words) if w not in STOPWORDS and strip_diacritics(w) != w]
            if spots:
                i = rnd.choice(spots)
                words[i] = telex(words[i], tone_inside=rnd.random() < 0.5)
                out[0] = " ".join(words)
                mark("name_telex", True)
        if flags.get("name_eth_d"):
            new = [t.replace("Đ", "\u00d0") for t in out]
            mark("name_eth_d", new != out)
            out = new
    if flags.get("name_upper"):
        new = [t.upper() for t in out]
        mark("name_upper", new != out)
        out = new
    if flags.get("name_nfd") and not no_dia:
        new = [unicodedata.normalize("NFD", t) for t in out]
        mark("name_nfd", new != out)
        out = new
    if flags.get("name_extra_spaces") and out[0]:
        words = out[0].split(" ")
        where = rnd.randrange(len(words) + 1)
        if where == len(words):
            out[0] = out[0] + " "
        elif where == 0:
            out[0] = "  " + out[0]
        else:
            out[0] = " ".join(words[:where]) + "  " + " ".join(words[where:])
        mark("name_extra_spaces", True)
    return out, codes


_EXCEL_EPOCH = date(1899, 12, 30)


def render_date(d: date, precision: str, flags: dict[str, bool], rnd: random.Random) -> tuple[str, list[str]]:
    """A date of birth as the registry writes it (dd/mm/yyyy by default) and its defect codes."""
    codes: list[str] = []
    y, m, dd = d.year, d.month, d.day
    year_only = precision == "year"
    if not year_only and flags.get("dob_year_only"):
        year_only = True
        codes.append("dob_year_only")
    if year_only and flags.get("dob_placeholder_0101") and y < 1960:
        year_only, m, dd = False, 1, 1
        codes.append("dob_placeholder_0101")
    elif not year_only and flags.get("dob_placeholder_0101") and y < 1960 and (m, dd) != (1, 1):
        m, dd = 1, 1
        codes.append("dob_placeholder_0101")
    if not year_only and flags.get("dob_swapped") and dd <= 12 and dd != m:
        m, dd = dd, m
        codes.append("dob_swapped")
    if flags.get("dob_typo"):
        if year_only or rnd.random() < 0.5:
            y += rnd.choice((-1, 1))
        else:
            dd = dd + 1 if dd < 28 else dd - 1
        codes.append("dob_typo")
    if year_only:
        return f"{y:04d}", codes
    if flags.get("dob_format"):
        codes.append("dob_format")
        style = rnd.randrange(5)
        if style == 0:
            return f"{dd}/{m}/{y:04d}", codes
        if style == 1:
            return f"{dd:02d}-{m:02d}-{y:04d}", codes
        if style == 2:
            return f"{y:04d}-{m:02d}-{dd:02d}", codes
        if style == 3:
            return f"{dd:02d}.{m:02d}.{y:04d}", codes
        return str((date(y, m, dd) - _EXCEL_EPOCH).days), codes
    return f"{dd:02d}/{m:02d}/{y:04d}", codes


def render_address(
    current: str, legacy: str, flags: dict[str, bool], moved_from: str | None = None
) -> tuple[str, list[str]]:
    """The address as the registry holds it; `moved_from` is an earlier residence (addr_moved)."""
    codes: list[str] = []
    out = current
    if flags.get("addr_moved") and moved_from:
        out = moved_from
        codes.append("addr_moved")
    elif flags.get("addr_legacy") and legacy:
        out = legacy
        codes.append("addr_legacy")
    if flags.get("addr_abbrev"):
        short = abbreviate(out)
        if short != out:
            out = short
            codes.append("addr_abbrev")
    return out, codes


def draw_flags(rnd: random.Random, rates: dict[str, float], codes: tuple[str, ...]) -> dict[str, bool]:
    """Independent per-row draws for the given codes (those without a rate are never drawn)."""
    return {c: rnd.random() < rates.get(c, 0.0) for c in codes}
