"""Person names: canonical display form and the keys the matcher compares.

Why this shape: 10 million population names must normalize in seconds, yet the defects worth
fixing (legacy TCVN3/VNI text, Telex/VIQR residue, the other tone-mark style) are rare and need
syllable-level logic. So: work on the distinct values only, run cheap vectorized polars steps on
all of them, and send only the values a regex flags as suspicious through per-value Python
(`_repair_rare`). Results are joined back to the rows.

Derived columns for a source column `c` (ARCHITECTURE.md, "Normalized columns"):
`c_clean`, `c_key`, `c_key_nomid`, `c_ho_key`, `c_ten_key`, `c_problems`.
Problem codes: `nfd`, `legacy_tcvn3`, `legacy_vni`, `telex_residue`, `tone_style`, `eth_d`
(U+00D0 typed for Đ), `stray_chars`, `honorific`, `all_caps`, `no_diacritics` (an all-ASCII
name that looks Vietnamese: its key still matches, its display form cannot be restored).

Languages: every function takes `language` ("vi" by default, or "other"), set per column by the
spec (`ColumnSpec.language`). A non-Vietnamese name column (foreigners: accommodation guests,
land co-owners) must never be rewritten: the Telex/VNI/VIQR typing repair turned "harry" into
"Hảy" and "paris" into "Pái". So for "other" none of the Vietnamese-only steps run (legacy-font
and typing repair, tone placement, Ð→Đ, honorifics, surname folding, Thị/Văn dropping,
`no_diacritics`). What stays is the cleanup any name gets: NFC, spaces, stray characters (a
hyphen is kept: "Jean-Luc"), title case of an all-upper or all-lower value (mixed case is kept as
written: "John O'Neil", "Ludwig van Beethoven"), and the accent-free keys the matcher compares
("Müller" → "muller"); other languages keep their diacritics in the display form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from matching.normalize.encodings import LEGACY_CANDIDATE_PATTERN, repair_legacy_text
from matching.normalize.fold import fold, fold_expr
from matching.normalize.problems import Distinct, finish, list_to_str, prefix_col
from matching.normalize.syllables import (
    canonical_syllable,
    is_valid_syllable,
    place_tone,
    split_tone,
)

SURNAMES = (
    "Nguyễn Trần Lê Phạm Hoàng Huỳnh Phan Vũ Võ Đặng Bùi Đỗ Hồ Ngô Dương Lý Đinh Đoàn Trịnh "
    "Trương Lâm Mai Cao Hà Lưu Lương Thái Châu Tạ Tăng Quách Kiều Vương Tống Triệu Diệp Khúc Lại "
    "Thạch Tôn Mạc Âu La Văn Đào Đàm Chu Tô Giang Hứa Lục Nông Lò Hầu Khổng Đồng Ông Phùng Quan "
    "Tiêu Từ Viên Vi Ninh Thân Bạch Bế Cù Doãn Giáp Kim Lã Mã Nghiêm Ôn Phí Quang Sầm Thiều Trình "
    "Triệu Văn Yên Đường Lạc Lò Mông Hoàng Nhữ Kha Âu Dư Khương Khổng Liêu Ma Mẫn Nhan Tạ Thạch "
    "Lường Cầm Quàng Điêu Bạc Hoàng Mạc Giàng Vàng Thào Sùng"
).split()
HONORIFICS = ("ông bà", "ông", "bà", "cụ", "anh", "chị")
_HONORIFIC_RE = r"(?i)^(ông\s+bà|ông|bà|cụ|anh|chị)\s+"
_MIDDLE_DROPPABLE = ("thi", "van")
_SURNAME_FOLD = {"huynh": "hoang", "vo": "vu"}

# Values sent through per-value Python: legacy encodings, Telex/VIQR residue, tone style.
# (no \b: Unicode word boundaries made this regex 20x slower; over-matching only costs a check)
_TELEX_PATTERN = (
    r"(?:[Aa][Aa]|[Ee][Ee]|[Oo][Oo]|[Dd][Dd]|[AaOoUu][Ww])|[aeiouyAEIOUY][a-zA-Z]*[sfrxjSFRXJ](?:[ ,.;]|$)"
    r"|[aeiouyAEIOUY][sfrxjSFRXJ][a-zA-Z]"  # tone key typed inside the word: "Toafn"
)
_VIQR_PATTERN = r"[A-Za-z][\^(+~`]|[A-Za-z][1-9]"  # VIQR marks, or VNI typing digits
_TONE_STYLE_PATTERN = r"(?:[oO][àáảãạèéẻẽẹÀÁẢÃẠÈÉẺẼẸ]|(?:^|[^qQ])[uU][ỳýỷỹỵỲÝỶỸỴ]|[ưuƯU][àáảãạÀÁẢÃẠ])(?:[ ,.;]|$)"
RARE_PATTERN = "|".join(
    f"(?:{p})" for p in (LEGACY_CANDIDATE_PATTERN, _TELEX_PATTERN, _VIQR_PATTERN, _TONE_STYLE_PATTERN)
)


LANGUAGES = ("vi", "other")  # the values of ColumnSpec.language


def check_language(language: str) -> str:
    """The language itself, or ValueError: a typo must not silently switch repairs on or off."""
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    return language


_SURNAME_SET = frozenset(SURNAMES)
SURNAME_KEYS = frozenset(fold(s) for s in SURNAMES) - set(_MIDDLE_DROPPABLE)


def key_expr(expr: pl.Expr) -> pl.Expr:
    """Accent-free key: đ→d, combining marks removed, lower case, letters/digits/spaces only."""
    return fold_expr(expr).str.replace_all(r"[^a-z0-9 ]", "").str.replace_all(r" {2,}", " ").str.strip_chars()


# --- rare path: per-value Python -----------------------------------------------------------
_TELEX_TONE = set("sfrxj")
_TELEX_SHAPE = {"aa": "â", "ee": "ê", "oo": "ô", "aw": "ă", "ow": "ơ", "uw": "ư", "dd": "đ"}
_VIQR_SHAPE = {"a^": "â", "e^": "ê", "o^": "ô", "a(": "ă", "o+": "ơ", "u+": "ư", "dd": "đ"}
_VIQR_TONE = {"'": "s", "`": "f", "?": "r", "~": "x", ".": "j"}


def _telex_token(token: str) -> str | None:
    """'Nguyeenx' -> 'Nguyễn' when unambiguous, else None."""
    low = token.lower()
    if not low.isascii() or not low.isalpha() or is_valid_syllable(low):
        return None
    out: list[str] = []
    tone = None
    i = 0
    while i < len(low):
        pair = low[i : i + 2]
        if pair in _TELEX_SHAPE and not (pair == "dd" and i > 0):
            out.append(_TELEX_SHAPE[pair])
            i += 2
            continue
        ch = low[i]
        if ch == "w" and out and out[-1] in "ou":
            # "uow" -> "ươ", "uw" handled above; lone "ow" after u
            if len(out) >= 2 and out[-2] == "u" and out[-1] == "o":
                out[-2:] = ["ư", "ơ"]
            else:
                out[-1] = {"o": "ơ", "u": "ư"}[out[-1]]
        elif ch == "w" and not out:
            out.append("ư")
        elif ch in _TELEX_TONE and any(c in "aăâeêioôơuưy" for c in out):
            tone = ch
        else:
            out.append(ch)
        i += 1
    # "uow" written as "uow" after "uo": fix "ươ" when the horn was typed once at the end
    toneless = "".join(out)
    toneless = toneless.replace("uơ", "ươ") if re.search(r"uơ[cimnptu]", toneless) else toneless
    result = place_tone(toneless, tone)
    if result == low or not is_valid_syllable(result):
        return None
    return _recase(result, token)


_VNI_TONE = {"1": "s", "2": "f", "3": "r", "4": "x", "5": "j"}


def _vni_typing_token(token: str) -> str | None:
    """'Nguye64n' -> 'Nguyễn', 'Tra62n' -> 'Trần', 'D9inh' -> 'Đinh' (VNI typing keys: 1-5 tones,
    6 circumflex, 7 horn, 8 breve, 9 đ). A tone digit on a one- or two-letter word ("A1") is not
    taken as typing: the digit is dropped later as a stray character."""
    if not re.search(r"[A-Za-z][1-9]", token) or not re.fullmatch(r"[A-Za-z1-9]+", token):
        return None
    low = token.lower()
    letters = re.sub(r"[1-9]", "", low)
    if len(letters) < 3 and not re.search(r"[6-9]", low):  # "A1", "B2": labels, not typing
        return None
    out: list[str] = []
    tone = None
    for ch in low:
        if ch in _VNI_TONE:
            tone = _VNI_TONE[ch]
        elif ch == "6" and out and out[-1] in "aeo":
            out[-1] = {"a": "â", "e": "ê", "o": "ô"}[out[-1]]
        elif ch == "7" and out and out[-1] in "ou":
            out[-1] = {"o": "ơ", "u": "ư"}[out[-1]]
            if out[-1] == "ơ" and len(out) >= 2 and out[-2] == "u":
                out[-2] = "ư"
        elif ch == "8" and out and out[-1] == "a":
            out[-1] = "ă"
        elif ch == "9" and out and out[-1] == "d":
            out[-1] = "đ"
        elif ch.isalpha():
            out.append(ch)
        else:
            return None
    result = place_tone("".join(out), tone)
    if not is_valid_syllable(result):
        return None
    return _recase(result, token)


def _viqr_token(token: str) -> str | None:
    """'Nguye^~n' -> 'Nguyễn' (VIQR typing) when the result is a syllable."""
    if not re.search(r"[\^(+~`]", token):
        return None
    low = token.lower()
    for k, v in _VIQR_SHAPE.items():
        low = low.replace(k, v)
    tone = None
    out = []
    for ch in low:
        if ch in _VIQR_TONE:
            tone = _VIQR_TONE[ch]
        else:
            out.append(ch)
    result = place_tone("".join(out), tone)
    if not result.isalpha() or not is_valid_syllable(result):
        return None
    return _recase(result, token)


def _recase(result: str, like: str) -> str:
    if like[:1].isupper():
        return result[:1].upper() + (result[1:].upper() if like.isupper() and len(like) > 1 else result[1:])
    return result


_TOKEN_RE = re.compile(r"[^\s,;]+")


def _repair_rare(value: str) -> tuple[str, list[str]]:
    """Per-value repairs for the values flagged by RARE_PATTERN."""
    problems: list[str] = []
    text, legacy = repair_legacy_text(value)
    if legacy:
        problems.append(f"legacy_{legacy}")

    def fix_token(m: re.Match) -> str:
        tok = m.group(0)
        repaired = _viqr_token(tok) or _vni_typing_token(tok) or _telex_token(tok)
        if repaired:
            if "telex_residue" not in problems:
                problems.append("telex_residue")
            tok = repaired
        canon = canonical_syllable(tok)
        if canon != tok:
            if "tone_style" not in problems and split_tone(tok)[1] is not None and not legacy:
                problems.append("tone_style")
            tok = canon
        return tok

    text = _TOKEN_RE.sub(fix_token, text)
    return text, problems


def repair_typing(value: str) -> str:
    """Text with legacy encodings and Telex/VNI/VIQR typing residue repaired (no problem codes)."""
    return _repair_rare(value)[0]


def _title_letters(value: str) -> str:
    """Title case that changes only case, letter for letter: polars' titlecase turns "ß" into
    "Ss", a rewrite a foreign name must not get (a first letter whose capital is longer stays)."""

    def cap(m: re.Match) -> str:
        word = m.group(0)
        first = word[0].upper()
        return (first if len(first) == 1 else word[0]) + word[1:]

    return _WORD_RE.sub(cap, value.lower())


_WORD_RE = re.compile(r"[^\W\d_]+")


# --- vectorized path -------------------------------------------------------------------------
_LIST_STR = pl.List(pl.Utf8)


def _flag(cond: pl.Expr, code: str) -> pl.Expr:
    return pl.when(cond).then(pl.lit(code))


def name_table(raw: pl.Series, language: str = "vi") -> pl.DataFrame:
    """Derived columns for each distinct raw name (column `raw` plus clean/key/... columns).

    `language="other"`: no Vietnamese-only step (module docstring, "Languages")."""
    vi = check_language(language) == "vi"
    uniq = raw.drop_nulls().unique()
    df = pl.DataFrame({"raw": uniq})
    df = df.with_columns(s=pl.col("raw").str.strip_chars())
    df = df.with_columns(
        p_nfd=pl.col("s") != pl.col("s").str.normalize("NFC"),
        s=pl.col("s").str.normalize("NFC"),
    )
    rare_mask = df["s"].str.contains(RARE_PATTERN)
    rare_vals = df.filter(rare_mask)["s"].to_list() if vi else []
    fixed = [_repair_rare(v) for v in rare_vals]
    rare_df = pl.DataFrame(
        {"s": rare_vals, "s_fixed": [f[0] for f in fixed], "p_rare": [f[1] for f in fixed]},
        schema={"s": pl.Utf8, "s_fixed": pl.Utf8, "p_rare": _LIST_STR},
    ).unique(subset="s")
    df = df.join(rare_df, on="s", how="left").with_columns(
        s=pl.coalesce("s_fixed", "s"), p_rare=pl.col("p_rare").fill_null(pl.lit([], dtype=_LIST_STR))
    )
    # a hyphen joins the parts of many foreign names ("Jean-Luc"); in a Vietnamese name it is stray
    kept = r"[^\p{L}\p{M}'\s]" if vi else r"[^\p{L}\p{M}'\s-]"
    letters_only = pl.col("s").str.replace_all(kept, " ")
    # Ð/ð (eth) typed for Đ/đ is a Vietnamese slip; in other languages eth is a letter of its own
    eth_fixed = letters_only.str.replace_all("Ð", "Đ").str.replace_all("ð", "đ") if vi else letters_only
    df = df.with_columns(
        p_eth=pl.col("s").str.contains("[Ðð]") & vi,
        p_stray=pl.col("s").str.contains(kept),
        s=eth_fixed.str.replace_all(r"\s+", " ").str.strip_chars(" '" if vi else " '-"),
    )
    hon = df["s"].str.extract_groups(_HONORIFIC_RE + r"(\S+)\s+\S")
    df = df.with_columns(_next=hon.struct.field("2"))
    df = df.with_columns(p_hon=key_expr(pl.col("_next")).is_in(list(SURNAME_KEYS)).fill_null(False) & vi)
    df = df.with_columns(
        s=pl.when(pl.col("p_hon")).then(pl.col("s").str.replace(_HONORIFIC_RE, "")).otherwise(pl.col("s"))
    )
    has_letters = pl.col("s").str.contains(r"\p{L}")
    titled = pl.col("s").str.to_titlecase()
    if not vi:  # "John O'Neil", "Ludwig van Beethoven": mixed case is the writer's, kept
        one_case = (pl.col("s") == pl.col("s").str.to_uppercase()) | (pl.col("s") == pl.col("s").str.to_lowercase())
        titled = pl.when(one_case).then(pl.col("s").map_elements(_title_letters, return_dtype=pl.Utf8))
        titled = titled.otherwise(pl.col("s"))
    df = df.with_columns(
        p_caps=(pl.col("s") == pl.col("s").str.to_uppercase()) & pl.col("s").str.contains(r"\p{L}{2}"),
        clean=pl.when(has_letters).then(titled),
    )
    # the key splits "Jean-Luc" like "Jean Luc" (key_expr would glue it: "jeanluc"), and reads an
    # eth as d, as the Vietnamese key does after its Ð→Đ repair: one raw text, one key in both languages
    key_source = pl.col("clean") if vi else pl.col("clean").str.replace_all("-", " ").str.replace_all("[Ðð]", "d")
    df = df.with_columns(key=key_expr(key_source))
    key_nomid = pl.col("key").str.replace_all(r" (?:thi|van) ", " ").str.replace_all(r" (?:thi|van) ", " ")
    df = df.with_columns(
        p_noacc=pl.col("clean").str.contains(r"^[\x00-\x7f]+$")
        & (pl.col("key").str.count_matches(" ") >= 1)
        & pl.col("key").str.extract(r"^(\S+)").is_in(list(SURNAME_KEYS))
        & vi,
        ho_key=pl.col("key").str.extract(r"^(\S+)"),
        ten_key=pl.col("key").str.extract(r"(\S+)$"),
        # Thị/Văn are Vietnamese middle names; "Ludwig van Beethoven" keeps its "van"
        key_nomid=key_nomid if vi else pl.col("key"),
    )
    if vi:
        df = df.with_columns(ho_key=pl.col("ho_key").replace(_SURNAME_FOLD))
    # An accent-free name is flagged only when some word cannot be a plain syllable ("Nguyen",
    # "Dat"): "Mai Linh" or "Phan Minh Thu" are correct without any diacritic.
    candidates = df.filter(pl.col("p_noacc"))["key"].to_list()
    lost = {k for k in candidates if any(not is_valid_syllable(w) for w in k.split(" "))}
    df = df.with_columns(p_noacc=pl.col("p_noacc") & pl.col("key").is_in(list(lost)))
    problems = pl.concat_str(
        _flag(pl.col("p_nfd"), "nfd"),
        _flag(pl.col("p_eth"), "eth_d"),
        _flag(pl.col("p_stray"), "stray_chars"),
        _flag(pl.col("p_hon"), "honorific"),
        _flag(pl.col("p_caps"), "all_caps"),
        _flag(pl.col("p_noacc"), "no_diacritics"),
        separator=";",
        ignore_nulls=True,
    ).str.extract_all("[^;]+")
    return df.select(
        "raw",
        "clean",
        "key",
        "key_nomid",
        "ho_key",
        "ten_key",
        problems=pl.col("p_rare").list.concat(problems),
    )


def normalize_name_column(
    df: pl.DataFrame, c: str, *, keep_prefixed: bool = False, language: str = "vi"
) -> pl.DataFrame:
    """Add c_clean, c_key, c_key_nomid, c_ho_key, c_ten_key, c_problems (rows kept in order)."""
    distinct = Distinct(df[c])
    table = name_table(distinct.values, language)
    table = table.with_columns(list_to_str(pl.col("problems"), c).alias(prefix_col(c))).drop("problems")
    table = table.rename(
        {
            "raw": c,
            "clean": f"{c}_clean",
            "key": f"{c}_key",
            "key_nomid": f"{c}_key_nomid",
            "ho_key": f"{c}_ho_key",
            "ten_key": f"{c}_ten_key",
        }
    )
    out = distinct.attach(df, table, c)
    return finish(out, c, keep_prefixed)


# --- scalar API ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Name:
    clean: str | None
    key: str | None
    key_nomid: str | None
    ho_key: str | None
    ten_key: str | None
    problems: tuple[str, ...] = ()
    ho: str | None = None  # surname, when the name follows họ + đệm + tên
    dem: str | None = None  # middle name(s), possibly empty
    ten: str | None = None  # given name
    structured: bool = False  # False: no forced split (e.g. ethnic-minority names)
    tokens: tuple[str, ...] = field(default=())


def split_name(clean: str | None, language: str = "vi") -> tuple[str | None, str | None, str | None, bool]:
    """(họ, đệm, tên, structured): split only when the first word is a known Vietnamese surname
    (never for another language: "Ma Long" of a foreign column is not họ Ma)."""
    if not clean or check_language(language) != "vi":
        return None, None, None, False
    tokens = clean.split(" ")
    if len(tokens) >= 2 and tokens[0] in _SURNAME_SET:
        return tokens[0], " ".join(tokens[1:-1]), tokens[-1], True
    return None, None, None, False


def normalize_name(value: str | None, language: str = "vi") -> Name:
    """One name through exactly the same code as a column (so scalar and frame never disagree)."""
    frame = pl.DataFrame({"v": [value]}, schema={"v": pl.Utf8})
    row = normalize_name_column(frame, "v", language=language).row(0, named=True)
    clean = row["v_clean"]
    ho, dem, ten, structured = split_name(clean, language)
    return Name(
        clean=clean,
        key=row["v_key"],
        key_nomid=row["v_key_nomid"],
        ho_key=row["v_ho_key"],
        ten_key=row["v_ten_key"],
        problems=tuple(row["v_problems"]),
        ho=ho,
        dem=dem,
        ten=ten,
        structured=structured,
        tokens=tuple(clean.split(" ")) if clean else (),
    )
