"""Land-owner text: "Ông A", "Bà B", "Ông A và bà B", "Hộ ông A", "Hộ gia đình bà B", organizations.

Why a module of its own: one land-certificate row can name two people (a couple), a household
(whose head is the person to match) or an organization, which must never be matched against the
population. Owner values are parsed per distinct value in Python (land registries are small
next to the population), and every person name goes through `names.name_table`, so owners get
exactly the same keys as any other name.

`c_entity`: `person`, `couple`, `household`, `organization` (null when empty).
`c_owners`: List(Struct{ho_ten_clean, key, key_nomid, ho_key, ten_key, role, sex}); role is
`owner`, `co_owner` (second person of a couple) or `household_head`; sex comes from "Ông"/"Bà".
The name columns (`c_clean`, `c_key`, ...) describe the first person (or the organization's
cleaned name, with null surname/given-name keys).

`language="other"` (a column of foreign co-owners): the owner structure is still read (the
honorifics and "và" are the Vietnamese registry's own words), but no legacy-font or typing
repair touches the text and the names go through `name_table(..., "other")`.
"""

from __future__ import annotations

import re
import unicodedata

import polars as pl

from matching.normalize.encodings import repair_legacy_text
from matching.normalize.fold import fold
from matching.normalize.names import SURNAME_KEYS, check_language, name_table, repair_typing
from matching.normalize.problems import Distinct, finish, list_to_str, prefix_col

_LIST_STR = pl.List(pl.Utf8)

# Accent-free words that only name organizations (matched on the accent-free shadow).
_ORG_ASCII = re.compile(
    r"\b(cong ty|cty|tnhh|co phan|ubnd|uy ban|hop tac xa|htx|chi nhanh|ban quan ly|bql|doanh nghiep|dntn|"
    r"tong cong ty|ngan hang|benh vien|xi nghiep|nha may|trung tam|tap doan|lien doanh|"
    r"giao xu|tu vien|nha tho|cong an|quan doi|bo chi huy|tct|"
    r"tieu hoc|thcs|thpt|mam non|mau giao|trung hoc|dai hoc|cao dang|tram y te)\b"
)
# Words that are also names or surnames without diacritics: only with their diacritics.
_ORG_ACCENTED = re.compile(
    r"(?i)(^|\s)(trường|chùa|hội|sở|phòng|văn phòng|đoàn thể|nhà văn hóa|nhà văn hoá|cp|đình làng)(\s|$)"
)
# Structure is read on an accent-free, lower-case "shadow" of the text with the same length, so
# "Ong A va ba B" (typed without diacritics) splits like "Ông A và bà B"; positions found in the
# shadow cut the original text.
_SEPARATOR = re.compile(r"\s*[,;&+]\s*|\s+va\s+")
_HONOR_AHEAD = re.compile(r"(?:ong|ba|cu|chong|vo|anh|chi)\s")
_HOUSEHOLD_ACCENTED = re.compile(r"(?i)^hộ(\s+gia\s+đình)?\s+")
_HOUSEHOLD = re.compile(r"^ho\s+gia\s+dinh\s+|^ho\s+(?=(?:ong|ba|cu)\s)")
_HONOR = re.compile(r"^(cụ ông|cụ bà|ông|bà|cụ|anh|chị)\s+", re.IGNORECASE)
_HONOR_ASCII = re.compile(r"^(cu ong|cu ba|ong|ba)\s+")
_HONORIFICS = {"ông": "Nam", "bà": "Nữ", "cụ ông": "Nam", "cụ bà": "Nữ", "cụ": None, "anh": "Nam", "chị": "Nữ"}
_HONORIFICS_ASCII = {"ong": "Nam", "ba": "Nữ", "cu ong": "Nam", "cu ba": "Nữ"}
_SPOUSE = re.compile(r"^(chồng|vợ|chong|vo)\s*:\s*|^(chồng|vợ)\s+", re.IGNORECASE)


def _fold_char(ch: str) -> str:
    """One character folded, or kept when folding would change the length (spaces, ligatures)."""
    folded = fold(ch)
    return folded if len(folded) == 1 else ch


def _shadow(s: str) -> str:
    """Accent-free lower-case text of exactly the same length as `s` (NFC input)."""
    return "".join(_fold_char(ch) for ch in s)


def _pieces(s: str, f: str) -> list[str]:
    """Split at "và", "&", ",", ";", "+" (a bare "va" only before an honorific: "Va" may be a name)."""
    out, start = [], 0
    for m in _SEPARATOR.finditer(f):
        if m.group(0).strip() == "va":
            accented = "và" in s[m.start() : m.end()].lower()
            if not accented and not _HONOR_AHEAD.match(f, m.end()):
                continue
        out.append(s[start : m.start()])
        start = m.end()
    out.append(s[start:])
    return [p.strip() for p in out if p.strip()]


def _strip_honorific(piece: str) -> tuple[str, str | None]:
    """("Nguyễn Văn A", "Nam") from "Ông Nguyễn Văn A"; without diacritics ("Ong Nguyen Van A")
    only when a known surname follows, since "Ba" or "Cu" may begin a name."""
    m = _HONOR.match(piece)
    if m and len(piece[m.end() :].split()) >= 2:
        return piece[m.end() :], _HONORIFICS.get(m.group(1).lower())
    m = _HONOR_ASCII.match(_shadow(piece))
    if m and piece[: m.end()].isascii():
        rest = piece[m.end() :]
        words = _shadow(rest).split()
        if len(words) >= 2 and words[0] in SURNAME_KEYS:
            return rest, _HONORIFICS_ASCII.get(m.group(1))
    return piece, None


def parse_owner(value: str | None, language: str = "vi") -> tuple[str | None, list[tuple[str, str, str | None]]]:
    """(entity, [(name text, role, sex)]) for one owner value; names are not yet normalized."""
    if value is None:
        return None, []
    s = re.sub(r"\s+", " ", unicodedata.normalize("NFC", value)).strip(" ,;.-")
    if not s:
        return None, []
    f = _shadow(s)
    if _ORG_ASCII.search(f) or _ORG_ACCENTED.search(s):
        return "organization", []
    # typing residue: "Hợp tacs xã" is still a cooperative (Vietnamese text only)
    typed = repair_typing(s) if check_language(language) == "vi" else s
    if typed != s and (_ORG_ASCII.search(_shadow(typed)) or _ORG_ACCENTED.search(typed)):
        return "organization", []
    m = _HOUSEHOLD_ACCENTED.match(s) or _HOUSEHOLD.match(f)
    household = bool(m)
    if m:
        s, f = s[m.end() :], f[m.end() :]
    persons: list[tuple[str, str, str | None]] = []
    for piece in _pieces(s, f):
        name, sex = _strip_honorific(_SPOUSE.sub("", piece))
        if not re.search(r"\w", name):
            continue
        i = len(persons)
        role = "household_head" if household and i == 0 else ("owner" if i == 0 else "co_owner")
        persons.append((name, role, sex))
    if not persons:
        return None, []
    if household:
        entity = "household"
    elif len(persons) > 1:
        entity = "couple"
    else:
        entity = "person"
    return entity, persons


_OWNER_STRUCT = pl.Struct(
    {
        "ho_ten_clean": pl.Utf8,
        "key": pl.Utf8,
        "key_nomid": pl.Utf8,
        "ho_key": pl.Utf8,
        "ten_key": pl.Utf8,
        "role": pl.Utf8,
        "sex": pl.Utf8,
    }
)


def owner_table(raw: pl.Series, language: str = "vi") -> pl.DataFrame:
    uniq = raw.drop_nulls().unique().to_list()
    vi = check_language(language) == "vi"
    repaired = [repair_legacy_text(v) if vi else (v, None) for v in uniq]
    parsed = [parse_owner(text, language) for text, _ in repaired]
    person_texts = sorted({p[0] for _, persons in parsed for p in persons})
    names = name_table(pl.Series(person_texts, dtype=pl.Utf8), language)
    by_raw = {r["raw"]: r for r in names.iter_rows(named=True)}
    org_texts = [r[0] for r, (e, _) in zip(repaired, parsed) if e == "organization"]
    orgs = name_table(pl.Series(org_texts, dtype=pl.Utf8), language)
    org_by_raw = {r["raw"]: r for r in orgs.iter_rows(named=True)}
    rows = []
    for value, (entity, persons), (repaired_text, legacy) in zip(uniq, parsed, repaired):
        owners = []
        problems: list[str] = [f"legacy_{legacy}"] if legacy else []
        for text, role, sex in persons:
            n = by_raw.get(text.strip()) or by_raw.get(text)
            if n is None:
                continue
            owners.append(
                {
                    "ho_ten_clean": n["clean"],
                    "key": n["key"],
                    "key_nomid": n["key_nomid"],
                    "ho_key": n["ho_key"],
                    "ten_key": n["ten_key"],
                    "role": role,
                    "sex": sex,
                }
            )
            problems += [p for p in n["problems"] if p not in problems]
        first = owners[0] if owners else None
        if entity == "organization":
            o = org_by_raw.get(repaired_text)
            key = o["key"] if o else None
            # organizations keep their own capitalisation ("UBND", "TNHH")
            clean = re.sub(r"\s+", " ", unicodedata.normalize("NFC", repaired_text)).strip()
            rows.append((value, clean, key, None, None, None, [], entity, problems))
        else:
            rows.append(
                (
                    value,
                    first and first["ho_ten_clean"],
                    first and first["key"],
                    first and first["key_nomid"],
                    first and first["ho_key"],
                    first and first["ten_key"],
                    owners,
                    entity,
                    problems,
                )
            )
    return pl.DataFrame(
        rows,
        schema={
            "raw": pl.Utf8,
            "clean": pl.Utf8,
            "key": pl.Utf8,
            "key_nomid": pl.Utf8,
            "ho_key": pl.Utf8,
            "ten_key": pl.Utf8,
            "owners": pl.List(_OWNER_STRUCT),
            "entity": pl.Utf8,
            "problems": _LIST_STR,
        },
        orient="row",
    )


def normalize_owner_column(
    df: pl.DataFrame, c: str, *, keep_prefixed: bool = False, language: str = "vi"
) -> pl.DataFrame:
    distinct = Distinct(df[c])
    table = owner_table(distinct.values, language)
    table = table.with_columns(list_to_str(pl.col("problems"), c).alias(prefix_col(c))).drop("problems")
    table = table.rename(
        {k: f"{c}_{k}" for k in ("clean", "key", "key_nomid", "ho_key", "ten_key", "owners", "entity")} | {"raw": c}
    )
    out = distinct.attach(df, table, c)
    out = out.with_columns(pl.col(f"{c}_owners").fill_null(pl.lit([], dtype=pl.List(_OWNER_STRUCT))))
    return finish(out, c, keep_prefixed)
