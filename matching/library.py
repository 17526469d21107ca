"""A spec's matching entries, read: comparisons, blocking rules and the fields they need prepared.

Why here and not in the pipeline: what a template reads and how its field must be prepared is
matching knowledge; the pipeline only hands over entries as a spec declares them
(`LinkSettings.comparisons`, `LinkSettings.blocking_rules`):

    comparisons:
      - ho_ten                                              # a built-in comparison by name
      - {template: person_name, name: ten, given: given_name, family: surname}
      - {template: generic_id, column: soc_sec_id, params: {max_edits: 2}}
    blocking_rules:
      - ho_ten_nam_sinh                                     # a built-in rule by name
      - {name: surname_dob, keys: [surname, date_of_birth]}

Columns named in entries are the spec's own column names (the same on the registry and the
reference side); each becomes a prepared engine column `f_<column>` (`templates.field`) — see
`field_preparations` for how each kind is prepared (`person_schema.field_columns` does it). A
blocking key is a prepared field (a date field stands for its year, month and day; `dob.year` for
one part; a person_name comparison's name for its whole name) or one of the person keys
`PERSON_KEYS` (the Vietnamese person schema's).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from matching import templates
from matching.blocking import RULES, BlockingRule
from matching.comparisons import Comparison
from matching.templates import field

Y, M, D = "ngay_sinh_year", "ngay_sinh_month", "ngay_sinh_day"
# Blocking keys that name the Vietnamese person schema's fields (roles, not spec columns).
PERSON_KEYS: dict[str, tuple[str, ...]] = {
    "ho_ten": ("ho_ten_key_nomid",),
    "ho_ten_day_du": ("ho_ten_key",),
    "ten": ("ten_key",),
    "ho": ("ho_key",),
    "ngay_sinh": (Y, M, D),
    "nam_sinh": (Y,),
    "thang_ngay_sinh": (M, D),
    "gioi_tinh": ("gioi_tinh",),
    "ma_xa": ("ma_xa",),
    "ma_tinh": ("ma_tinh",),
    "ho_ten_cha": ("ho_ten_cha_key",),
    "ho_ten_me": ("ho_ten_me_key",),
}
DATE_PARTS = ("year", "month", "day")

# How a spec column is prepared for matching (person_schema.field_columns implements each):
PREPARATIONS = {
    "name": "folded name: accent-free, lower case, letters/digits/spaces only",
    "code": "trimmed, upper case, single spaces",
    "id": "letters and digits only, upper case",
    "text": "folded text: accent-free, lower case, punctuation as spaces",
    "number": "the first number in the value",
    "date": "year, month, day from the date normalizer",
    "concat": "given and family names joined (a person_name's whole name)",
}


@dataclass(frozen=True)
class Template:
    build: Callable[..., Comparison]
    columns: tuple[str, ...]  # entry keys naming spec columns: ("column",), ("given", "family") ...
    column_required: bool  # False: without a column the template reads the person role
    params: tuple[str, ...]  # parameters a spec may set
    preparation: str | None  # how its columns are prepared (None: person-schema roles)
    default_name: str | None = None  # the comparison's name when the entry gives none and no column


def _date(name: str, column: str | None = None, **params) -> Comparison:
    if column is None:
        return templates.date(name, **params)
    y, m, d = (field(column, p) for p in DATE_PARTS)
    return templates.date(name, y, m, d, **params)


def _on_field(build: Callable[..., Comparison]) -> Callable[..., Comparison]:
    return lambda name, column, **params: build(name, field(column), **params)


TEMPLATES: dict[str, Template] = {
    "vietnamese_name": Template(
        templates.vietnamese_name, (), False, ("jw_bands", "given_equal_surname_jw"), None, "ho_ten"
    ),
    "date": Template(_date, ("column",), False, ("digits", "years_apart"), "date", "ngay_sinh"),
    "vietnamese_id": Template(templates.vietnamese_id, (), False, (), None, "id"),
    "vietnamese_address": Template(templates.vietnamese_address, (), False, (), None, "dia_chi"),
    "person_name": Template(
        templates.person_name, ("column", "given", "family"), True, ("jw_bands", "part_jw"), "name"
    ),
    "generic_id": Template(templates.generic_id, ("column",), True, ("max_edits",), "id"),
    "exact_code": Template(_on_field(templates.exact_code), ("column",), True, ("term_frequency",), "code"),
    "text_tokens": Template(templates.text_tokens, ("column",), True, ("jw", "jaccard_bands"), "text"),
    "numeric": Template(templates.numeric, ("column",), True, ("close",), "number"),
}


def template_of(entry: Mapping[str, Any]) -> Template:
    name = entry.get("template")
    if name not in TEMPLATES:
        raise ValueError(f"unknown comparison template {name!r}; known: {sorted(TEMPLATES)}")
    return TEMPLATES[name]


def entry_columns(entry: str | Mapping[str, Any]) -> tuple[str, ...]:
    """The spec columns a comparison entry reads (none for a built-in name or a role template)."""
    if isinstance(entry, str):
        return ()
    t = template_of(entry)
    return tuple(entry[k] for k in t.columns if entry.get(k))


def comparison_name(entry: str | Mapping[str, Any]) -> str:
    if isinstance(entry, str):
        return entry
    t = template_of(entry)
    if entry.get("name"):
        return entry["name"]
    if entry.get("column"):
        return entry["column"]
    if t.default_name:
        return t.default_name
    return "_".join(entry_columns(entry)) or entry["template"]


def comparison(entry: str | Mapping[str, Any]) -> Comparison:
    """One comparison from a spec entry: a built-in name or a template with its columns and parameters."""
    if isinstance(entry, str):
        return templates.get_comparisons([entry])[0]
    t = template_of(entry)
    given = {k: entry[k] for k in t.columns if entry.get(k)}
    if t.column_required and not given:
        raise ValueError(f"template {entry['template']!r} needs {' or '.join(t.columns)}")
    if (
        entry["template"] == "person_name"
        and not given.get("column")
        and not (given.get("given") and given.get("family"))
    ):
        raise ValueError("template 'person_name' needs `column`, or both `given` and `family`")
    params = dict(entry.get("params") or {})
    unknown = sorted(set(params) - set(t.params))
    if unknown:
        raise ValueError(f"template {entry['template']!r} has no parameter(s) {unknown}; it has {list(t.params)}")
    return t.build(comparison_name(entry), **given, **params)


def comparisons(entries: Sequence[str | Mapping[str, Any]]) -> list[Comparison]:
    out = [comparison(e) for e in entries]
    names = [c.name for c in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"comparison name(s) used twice: {repeated} (give each entry its own `name`)")
    return out


def field_preparations(entries: Sequence[str | Mapping[str, Any]]) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Prepared engine column -> (preparation, spec columns it is made from), for every template entry.

    A date field is one entry (`f_dob` -> date) that gives three columns (`f_dob_year`, ...); a
    person_name with given and family also prepares its whole name (`f_<name>` -> concat)."""
    out: dict[str, tuple[str, tuple[str, ...]]] = {}

    def add(column: str, prep: str, sources: tuple[str, ...]) -> None:
        if out.setdefault(column, (prep, sources)) != (prep, sources):
            raise ValueError(
                f"column {sources[0]!r} is compared as {out[column][0]} and as {prep}: one column, one preparation"
            )

    for e in entries:
        if isinstance(e, str):
            continue
        t = template_of(e)
        cols = entry_columns(e)
        if not cols or t.preparation is None:
            continue
        for c in cols:
            add(field(c), t.preparation, (c,))
        if e["template"] == "person_name" and not e.get("column"):
            add(field(comparison_name(e)), "concat", (field(e["given"]), field(e["family"])))
    return out


def field_columns(preparations: Mapping[str, tuple[str, tuple[str, ...]]]) -> list[str]:
    """The engine columns the preparations give (a date field gives its three parts)."""
    out = []
    for column, (prep, _) in preparations.items():
        out += [f"{column}_{p}" for p in DATE_PARTS] if prep == "date" else [column]
    return out


def _key_columns(key: str, preparations: Mapping[str, tuple[str, tuple[str, ...]]]) -> tuple[str, ...]:
    base, _, part = key.partition(".")
    prepared = preparations.get(field(base))
    if prepared is not None:
        if prepared[0] == "date":
            parts = (part,) if part else DATE_PARTS
            if any(p not in DATE_PARTS for p in parts):
                raise ValueError(f"blocking key {key!r}: a date has parts {DATE_PARTS}")
            return tuple(field(base, p) for p in parts)
        if part:
            raise ValueError(f"blocking key {key!r}: only a date field has parts")
        return (field(base),)
    if key in PERSON_KEYS:
        return PERSON_KEYS[key]
    raise ValueError(
        f"blocking key {key!r} is neither a column compared by a template nor a person key {sorted(PERSON_KEYS)}"
    )


def blocking_rules(
    entries: Sequence[str | Mapping[str, Any]], comparison_entries: Sequence[str | Mapping[str, Any]] = ()
) -> list[BlockingRule]:
    """Blocking rules from a spec's entries: built-in names (blocking.RULES) or {name, keys}."""
    preps = field_preparations(comparison_entries)
    out = []
    for e in entries:
        if isinstance(e, str):
            if e not in RULES:
                raise ValueError(f"unknown blocking rule {e!r}; known: {sorted(RULES)}")
            out.append(RULES[e])
            continue
        keys: tuple[str, ...] = ()
        for k in e["keys"]:
            keys += _key_columns(k, preps)
        out.append(BlockingRule(e["name"], keys))
    names = [r.name for r in out]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"blocking rule name(s) used twice: {repeated}")
    return out
