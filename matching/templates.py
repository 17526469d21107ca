"""The comparison library: templates by field kind, each a function returning a `Comparison`.

Why templates: a registry that is not one of the five built in (a health-insurance card list, a
foreign guest list, a dataset with given and family names apart, a 7-digit social-security number,
a postcode) must be linkable by declaring which of its columns is what kind of field, without
Python. Each template is the matching knowledge for one kind of field, written once; a spec
composes them (`matching/library.py` reads the spec's entries) and may set their parameters.

Templates (levels top to bottom; the first level is always `null`, the last the disagreement):

- `vietnamese_name` — the person's name (role ho_ten): exact, accent-free key, Thị/Văn dropped,
  regional surname variants, given name equal with fuzzy rest, Jaro-Winkler bands; term
  frequencies of the name and of the given name. Parameters: `jw_bands`, `given_equal_surname_jw`.
- `person_name` — a plain (non-Vietnamese) name, given and family apart (`given`, `family`) or
  in one column (`column`): exact (tf), parts swapped, one part exact and the other close,
  Jaro-Winkler bands on the whole, one part exact. Parameters: `jw_bands`, `part_jw`.
- `date` — a date (role ngay_sinh, or any date column): exact, year only known, 01/01
  placeholder, day/month swapped, one digit, year ±1, same year. Parameters: `digits`, `years_apart`.
- `vietnamese_id` — CCCD/CMND (roles): equal, one digit or two swapped digits apart, conflict.
- `generic_id` — any identifier of any length and pattern (passport, BHYT card, soc_sec_id):
  exact, adjacent transposition, within `max_edits` edits (Levenshtein), conflict.
- `exact_code` — a code compared as a whole (sex, postcode, nationality, commune code); with
  `term_frequency: true` a common value earns less.
- `vietnamese_address` — the normalized address's units: same commune, same province.
- `text_tokens` — free-text address or any text: exact, Jaro-Winkler close (a typo), token
  overlap bands (Jaccard of the words; words reordered still agree). Parameters: `jw`, `jaccard_bands`.
- `numeric` — a number (street number, area): equal, within each `close` band, different.
- `single_name` — one name column compared as a key (parents' names): exact, Jaro-Winkler band.

Columns: role-based templates read the person schema (`matching/person_schema.py`); templates over
a named field read its prepared columns `f_<column>` (`FIELD_PREFIX`), which
`person_schema.field_columns` derives from the normalized frame the same way on both sides
(`library.field_preparations` says which preparation each needs). Conditions are SQL over `r`
(registry) and `p` (population); the SQL is what a trained model saves (`Level.saved`).

Jaro-Winkler is DuckDB's own `jaro_winkler_similarity`, measured faster than rapidfuzz here:
1,000,000 name pairs scored in 0.07-0.13 s inside the query (2 threads), against 0.37 s for
`rapidfuzz.process.cpdist(..., scorer=JaroWinkler.similarity)` plus 0.11-0.26 s to fetch the
pairs into Python — and the in-query version never moves the pairs out of DuckDB.
"""

from __future__ import annotations

from collections.abc import Sequence

from matching.comparisons import Comparison, Level

FIELD_PREFIX = "f_"


def field(column: str, part: str = "") -> str:
    """The engine column holding a spec column's prepared value (`f_postcode`, `f_dob_year`)."""
    return f"{FIELD_PREFIX}{column}{'_' + part if part else ''}"


# ------------------------------------------------------------------ SQL helpers ----------------


def _jw(a: str, b: str) -> str:
    return f"jaro_winkler_similarity({a}, {b})"


def _jw_level(label: str, a: str, b: str, threshold: float, **kw) -> Level:
    """A Jaro-Winkler band: the SQL and its saved parameters come from the same threshold."""
    return Level(
        label,
        f"{_jw(a, b)} >= {threshold:.2f}",
        params={"function": "jaro_winkler_similarity", "threshold": threshold},
        **kw,
    )


def _rest(side: str) -> str:
    """The accent-free name without its first syllable (the surname), Thị/Văn dropped.

    strpos/substr, not regexp_replace: measured 0.05 s against 0.17 s per million pairs."""
    k = f"{side}.ho_ten_key_nomid"
    return f"substr({k}, strpos({k}, ' ') + 1)"


def _ham(a: str, b: str) -> str:
    """Hamming distance, NULL when lengths differ (DuckDB's hamming() raises on that)."""
    return f"(CASE WHEN length({a}) = length({b}) THEN hamming({a}, {b}) END)"


def _swapped(a: str, b: str) -> str:
    """Two digits exchanged: two positions differ and the multisets of digits are equal.

    The CASE keeps the (slow: 7.8 s per million pairs) multiset test to the rare pairs at
    Hamming distance 2; an AND did not stop DuckDB from evaluating it for every pair."""
    return (
        f"(CASE WHEN {_ham(a, b)} = 2 THEN list_sort(string_split({a}, '')) = list_sort(string_split({b}, ''))"
        f" ELSE FALSE END)"
    )


def _null(*columns: str) -> Level:
    """The null level: any of the columns missing on either side."""
    return Level("null", " OR ".join(f"r.{c} IS NULL OR p.{c} IS NULL" for c in columns), is_null=True)


# ------------------------------------------------------------------ Vietnamese person fields ---

JW_BANDS = (0.95, 0.90, 0.85)  # full-name Jaro-Winkler levels, high to low; the lowest is the gate
GIVEN_EQUAL_SURNAME_JW = 0.88


def vietnamese_name(
    name: str = "ho_ten", jw_bands: Sequence[float] = JW_BANDS, given_equal_surname_jw: float = GIVEN_EQUAL_SURNAME_JW
) -> Comparison:
    bands = tuple(sorted((float(t) for t in jw_bands), reverse=True))
    gate = f"{_jw('r.ho_ten_key', 'p.ho_ten_key')} >= {bands[-1]:.2f}"
    return Comparison(
        name,
        (
            Level("null", "r.ho_ten_key IS NULL OR p.ho_ten_key IS NULL", is_null=True),
            Level("exact", "r.ho_ten = p.ho_ten", tf="tf_name"),
            Level("key_exact", "r.ho_ten_key = p.ho_ten_key", tf="tf_name"),
            Level("key_nomid", "r.ho_ten_key_nomid = p.ho_ten_key_nomid", tf="tf_name"),
            Level("surname_variant", f"r.ho_key = p.ho_key AND {_rest('r')} = {_rest('p')}", tf="tf_name"),
            Level(
                "given_equal_surname_fuzzy",
                f"r.ten_key = p.ten_key AND {_jw('r.ho_ten_key_nomid', 'p.ho_ten_key_nomid')}"
                f" >= {given_equal_surname_jw:.2f}",
                tf="tf_ten",
                params={"function": "jaro_winkler_similarity", "threshold": given_equal_surname_jw},
            ),
            # Bands are high because full Vietnamese names share long prefixes ("nguyen thi hoa" vs
            # "nguyen van hung" scores 0.86).
            *(_jw_level(f"jw_{t:.2f}", "r.ho_ten_key", "p.ho_ten_key", t, gate=gate) for t in bands),
            Level("different", "TRUE"),
        ),
    )


DOB_DIGITS = 1  # one_digit: yyyymmdd strings this many digits apart
DOB_YEARS = 1  # year_pm1: years apart


def date(
    name: str = "ngay_sinh",
    year: str = "ngay_sinh_year",
    month: str = "ngay_sinh_month",
    day: str = "ngay_sinh_day",
    digits: int = DOB_DIGITS,
    years_apart: int = DOB_YEARS,
) -> Comparison:
    """Dates as recorded by hand: the usual slips each have their level (see module docstring)."""
    y, m, d = year, month, day

    def datestr(side: str) -> str:
        return f"printf('%04d%02d%02d', {side}.{y}, {side}.{m}, {side}.{d})"

    return Comparison(
        name,
        (
            Level("null", f"r.{y} IS NULL OR p.{y} IS NULL", is_null=True),
            Level("exact", f"r.{y} = p.{y} AND r.{m} = p.{m} AND r.{d} = p.{d}"),
            Level(
                "year_only",
                f"r.{y} = p.{y} AND (r.{d} IS NULL OR p.{d} IS NULL)"
                f" AND (r.{m} IS NULL OR p.{m} IS NULL OR r.{m} = p.{m})",
            ),
            Level("placeholder_01_01", f"r.{y} = p.{y} AND ((r.{m} = 1 AND r.{d} = 1) OR (p.{m} = 1 AND p.{d} = 1))"),
            Level("day_month_swapped", f"r.{y} = p.{y} AND r.{d} = p.{m} AND r.{m} = p.{d}"),
            Level(
                "one_digit",
                # only when two of year/month/day agree (cheap) is the digit-by-digit test run
                f"(CASE WHEN r.{d} IS NOT NULL AND p.{d} IS NOT NULL"
                f" AND (r.{y} = p.{y})::INT + (r.{m} = p.{m})::INT + (r.{d} = p.{d})::INT = 2"
                f" THEN hamming({datestr('r')}, {datestr('p')}) = {int(digits)} ELSE FALSE END)",
                params={"hamming_yyyymmdd": int(digits)},
            ),
            Level(
                "year_pm1",
                f"abs(r.{y} - p.{y}) = {int(years_apart)} AND (r.{d} IS NULL OR p.{d} IS NULL"
                f" OR (r.{m} = p.{m} AND r.{d} = p.{d}))",
                params={"years_apart": int(years_apart)},
            ),
            Level("same_year", f"r.{y} = p.{y}"),
            Level("different", "TRUE"),
        ),
    )


ID_EDITS = 1  # one_edit: substituted digits (or two digits swapped)


def vietnamese_id(name: str = "id") -> Comparison:
    """CCCD (12 digits) or old CMND (9): equal, one digit off or two digits swapped, else a conflict."""
    return Comparison(
        name,
        (
            Level(
                "null",
                "(r.id12 IS NULL OR p.id12 IS NULL) AND (r.cmnd9 IS NULL OR p.cmnd9 IS NULL)",
                is_null=True,
            ),
            Level("agree", "r.id12 = p.id12 OR r.cmnd9 = p.cmnd9"),
            Level(
                "one_edit",
                f"{_ham('r.id12', 'p.id12')} = {ID_EDITS} OR {_swapped('r.id12', 'p.id12')}"
                f" OR {_ham('r.cmnd9', 'p.cmnd9')} = {ID_EDITS} OR {_swapped('r.cmnd9', 'p.cmnd9')}",
                params={"hamming": ID_EDITS, "two_digits_swapped": True},
            ),
            Level("conflict", "TRUE"),
        ),
    )


def vietnamese_address(name: str = "dia_chi") -> Comparison:
    """The address's current units (2025 commune and province codes, matching/normalize/addresses.py)."""
    return Comparison(
        name,
        (
            Level("null", "r.ma_tinh IS NULL OR p.ma_tinh IS NULL", is_null=True),
            Level("same_xa", "r.ma_xa = p.ma_xa"),
            Level("same_tinh", "r.ma_tinh = p.ma_tinh"),
            Level("different", "TRUE"),
        ),
    )


def single_name(name: str, column: str, jw: float = 0.90) -> Comparison:
    """One name key column (a parent's name): exact or close."""
    return Comparison(
        name,
        (
            Level("null", f"r.{column} IS NULL OR p.{column} IS NULL", is_null=True),
            Level("exact", f"r.{column} = p.{column}"),
            _jw_level(f"jw_{jw:.2f}", f"r.{column}", f"p.{column}", jw),
            Level("different", "TRUE"),
        ),
    )


# ------------------------------------------------------------------ fields of any kind ---------


def exact_code(name: str, column: str, term_frequency: bool = False) -> Comparison:
    """A code equal or not; `column` is an engine column (`gioi_tinh`, or `field("postcode")`)."""
    tf = {"tf": f"tf_{column}", "tf_key": column} if term_frequency else {}
    return Comparison(
        name,
        (
            Level("null", f"r.{column} IS NULL OR p.{column} IS NULL", is_null=True),
            Level("agree", f"r.{column} = p.{column}", **tf),
            Level("different", "TRUE"),
        ),
    )


PERSON_NAME_JW = (0.92, 0.85)
PART_JW = 0.88


def person_name(
    name: str,
    given: str | None = None,
    family: str | None = None,
    column: str | None = None,
    jw_bands: Sequence[float] = PERSON_NAME_JW,
    part_jw: float = PART_JW,
) -> Comparison:
    """A plain name: `given`/`family` (spec columns, compared apart and as a whole) or one `column`.

    The whole name is the prepared column `f_<name>` (given and family joined) or `f_<column>`;
    its term frequency scales the exact level (a common name earns less)."""
    bands = tuple(sorted((float(t) for t in jw_bands), reverse=True))
    whole = field(column) if column else field(name)
    gate = f"{_jw(f'r.{whole}', f'p.{whole}')} >= {bands[-1]:.2f}"
    jw = tuple(_jw_level(f"jw_{t:.2f}", f"r.{whole}", f"p.{whole}", t, gate=gate) for t in bands)
    exact = Level("exact", f"r.{whole} = p.{whole}", tf=f"tf_{whole}", tf_key=whole)
    if column:
        reordered = Level(
            "words_reordered",
            f"list_sort(string_split(r.{whole}, ' ')) = list_sort(string_split(p.{whole}, ' '))",
        )
        return Comparison(name, (_null(whole), exact, reordered, *jw, Level("different", "TRUE")))
    g, f = field(given), field(family)
    return Comparison(
        name,
        (
            _null(whole),
            exact,
            Level("swapped", f"r.{g} = p.{f} AND r.{f} = p.{g}"),
            _exact_and_close("given_exact_family_close", g, f, part_jw),
            _exact_and_close("family_exact_given_close", f, g, part_jw),
            *jw,
            Level("one_part_exact", f"r.{g} = p.{g} OR r.{f} = p.{f}"),
            Level("different", "TRUE"),
        ),
    )


def _exact_and_close(label: str, exact: str, close: str, jw: float) -> Level:
    """One name part equal (its term frequency scales the weight), the other Jaro-Winkler close."""
    return Level(
        label,
        f"r.{exact} = p.{exact} AND {_jw(f'r.{close}', f'p.{close}')} >= {jw:.2f}",
        tf=f"tf_{exact}",
        tf_key=exact,
        params={"function": "jaro_winkler_similarity", "threshold": jw},
    )


def generic_id(name: str, column: str, max_edits: int = 1) -> Comparison:
    """An identifier of any length and pattern (letters and digits, upper case, separators dropped).

    Levels: exact, then one band per edit count up to `max_edits` (Levenshtein), two adjacent
    characters transposed, else a conflict. One Levenshtein distance gates the near levels: a
    random pair (nearly all pairs the model samples) costs one distance, not three."""
    c = field(column)
    reach = max(2, int(max_edits))  # a transposition is two Levenshtein edits
    gate = f"levenshtein(r.{c}, p.{c}) <= {reach}"
    words = {1: "one_edit", 2: "two_edits", 3: "three_edits"}
    edits = tuple(
        Level(
            words.get(k, f"edits_{k}"),
            f"levenshtein(r.{c}, p.{c}) <= {k}",
            gate=gate,
            params={"function": "levenshtein", "max": k},
        )
        for k in range(1, int(max_edits) + 1)
    )
    transposed = Level(
        "transposition",
        f"damerau_levenshtein(r.{c}, p.{c}) = 1",
        gate=gate,
        params={"function": "damerau_levenshtein", "max": 1},
    )
    # with max_edits >= 2 a transposition already fell into two_edits: keep it above that band
    near = (edits[0], transposed, *edits[1:]) if edits else (transposed,)
    return Comparison(name, (_null(c), Level("agree", f"r.{c} = p.{c}"), *near, Level("conflict", "TRUE")))


TOKEN_JW = 0.90
JACCARD_BANDS = (0.8, 0.5)


def text_tokens(
    name: str, column: str, jw: float = TOKEN_JW, jaccard_bands: Sequence[float] = JACCARD_BANDS
) -> Comparison:
    """Free text (an address not in Vietnamese units): exact, a typo away, then shared words.

    Words are compared as sets (Jaccard: shared words / all words), so "12 main st" and
    "main st 12" agree fully; the text is folded (accents, case, punctuation) and each word kept
    once when prepared (person_schema.field_columns)."""
    c = field(column)
    words_r, words_p = f"string_split(r.{c}, ' ')", f"string_split(p.{c}, ' ')"
    # shared / (all words): the prepared text holds each word once, so |A| + |B| - shared counts
    # all words without list_distinct (measured 7.2 s against 0.8 s per million pairs)
    shared = f"len(list_intersect({words_r}, {words_p}))"
    jaccard = f"{shared}::DOUBLE / greatest(len({words_r}) + len({words_p}) - {shared}, 1)"
    bands = tuple(sorted((float(t) for t in jaccard_bands), reverse=True))
    gate = f"{jaccard} >= {bands[-1]:.2f}"  # one word overlap per pair, the bands only under it
    return Comparison(
        name,
        (
            _null(c),
            Level("exact", f"r.{c} = p.{c}"),
            _jw_level(f"jw_{jw:.2f}", f"r.{c}", f"p.{c}", jw),
            *(
                Level(
                    f"words_{t:.2f}",
                    f"{jaccard} >= {t:.2f}",
                    gate=gate,
                    params={"function": "jaccard_words", "threshold": t},
                )
                for t in bands
            ),
            Level("different", "TRUE"),
        ),
    )


def numeric(name: str, column: str, close: float | Sequence[float] = 1) -> Comparison:
    """A number: equal, then within each `close` band (absolute difference), else different."""
    c = field(column)
    bands = sorted(float(t) for t in (close if isinstance(close, Sequence) else [close]))
    return Comparison(
        name,
        (
            _null(c),
            Level("exact", f"r.{c} = p.{c}"),
            *(Level(f"within_{t:g}", f"abs(r.{c} - p.{c}) <= {t!r}", params={"max_difference": t}) for t in bands),
            Level("different", "TRUE"),
        ),
    )


# ------------------------------------------------------------------ the built-in comparisons ---

HO_TEN = vietnamese_name()
NGAY_SINH = date()
GIOI_TINH = exact_code("gioi_tinh", "gioi_tinh")
ID = vietnamese_id()
DIA_CHI = vietnamese_address()
HO_TEN_CHA = single_name("ho_ten_cha", "ho_ten_cha_key")
HO_TEN_ME = single_name("ho_ten_me", "ho_ten_me_key")
JW_GATE = HO_TEN.levels[-2].gate  # the name's Jaro-Winkler gate (the lowest band)

COMPARISONS: dict[str, Comparison] = {
    c.name: c for c in (HO_TEN, NGAY_SINH, GIOI_TINH, ID, DIA_CHI, HO_TEN_CHA, HO_TEN_ME)
}


def get_comparisons(names) -> list[Comparison]:
    """The built-in comparisons by name (a spec's plain entries; `library.comparisons` reads templates)."""
    unknown = [n for n in names if n not in COMPARISONS]
    if unknown:
        raise ValueError(f"unknown comparison(s) {unknown}; known: {sorted(COMPARISONS)}")
    return [COMPARISONS[n] for n in names]
