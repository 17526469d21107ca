"""Registry and reference specs read from YAML files: a registry is data, not Python.

Why YAML files: adding a registry (health-insurance cards, school records, accommodation guests,
a province's own list) must need no Python, no edit to the package — an officer or an engineer
writes one file and runs it. The file is validated by a pydantic model (strict types, unknown
keys refused) and every problem is reported with the file, line and column taken from the YAML
node marks, in Vietnamese with the English detail, as an `InputError` (code `spec_invalid`):
never a traceback. The runtime model stays `pipelines.spec.RegistrySpec` (frozen dataclasses,
saved with each run); this module only builds it. Defaults (thresholds, mismatch fields, ...)
are not repeated here: a key left out takes the dataclass default.

The format (`pipelines/social_welfare/registry.yaml` is a complete example):

    spec: registry                 # optional marker; the catalogue lists files that carry it
    name: social_welfare           # snake_case: CLI name and warehouse table <name>_rows
    title_vi: Đối tượng bảo trợ xã hội
    key_column: ma_doi_tuong
    alias_lists:                   # optional: this file's own named header lists
      MA_SO: [Mã số, Mã ĐT]
    columns:
      - name: ho_ten               # snake_case column name
        kind: name                 # name owner date year id sex address amount text
        aliases: [$HO_TEN, Họ tên trẻ]   # "$NAME" = a named list, spliced in place
        required: true
        role: ho_ten               # person field fed: ho_ten ngay_sinh gioi_tinh id dia_chi ho_ten_cha ho_ten_me
        label_vi: Họ và tên
        language: vi               # name/owner/address only; vi (default) or other
    match:
      comparisons:                 # built-in names (matching/templates.py) or library templates
        - ho_ten
        - {template: generic_id, column: so_ho_chieu, params: {max_edits: 1}}
        - {template: exact_code, column: quoc_tich}
      blocking_rules:              # built-in names (matching/blocking.py) or {name, keys}
        - ho_ten_nam_sinh
        - {name: ho_chieu, keys: [so_ho_chieu]}
      match_threshold: 0.95        # optional, as review_threshold and max_pairs_per_rule
    mismatch_fields: [ho_ten, ngay_sinh]   # optional
    payment: {mode_column: ..., account_values: [...], account_column: ..., bank_column: ...}
    alive_check: true              # optional, as owner_split, repeat_persons
    death_column: ngay_mat         # optional
    targets: {linked: 1.0}         # optional; metrics of pipelines/findings/coverage.py

Comparison library (matching/library.py, matching/templates.py): a template entry names its
kind (`vietnamese_name`, `person_name`, `date`, `vietnamese_id`, `generic_id`, `exact_code`,
`vietnamese_address`, `text_tokens`, `numeric`), the spec columns it reads (`column`, or
`given`/`family` for a person_name) and optionally its `name` and `params`. A template over a
column needs that column, with the same name, in the reference spec too (the CSDLQG extract's
own spec has only its columns: a registry comparing a passport number needs a reference list
that has one). A blocking rule's keys are such columns (a date column stands for its year, month
and day; `cot.year` for one part) or person keys (ho_ten, ten, ho, ngay_sinh, nam_sinh, ma_xa, ...).
Column names the pipeline itself uses (rec_id, source_row, ...: `RESERVED_COLUMNS`) are refused:
a file whose header is "rec_id" maps it to another name by alias.

Named header lists: `$NAME` in an alias list is replaced by the list NAME, looked up first in
the file's own `alias_lists`, then in the shared `pipelines/header_aliases.yaml`. A header that
really starts with "$" is written "$$...".

Languages: `language: other` marks a name or owner column that is not Vietnamese (foreigners'
names): the normalizer then runs none of the Vietnamese-only repairs (Telex/VNI typing residue,
legacy fonts, tone placement), so "Harry Max" stays "Harry Max" (matching/normalize/names.py,
"Languages"). It becomes `ColumnSpec.language`; `column_languages()` gives the declared languages.
On an address column it is accepted and changes nothing yet: the address normalizer has no
typing repair and reads addresses against the Vietnamese units. A run's saved spec carries
`language: vi` on every column (the dataclass default), which `spec_from_dict` accepts.

The CSDLQG extract (or another reference list) has a spec file of the same column format:
`spec: reference`, `name`, `title_vi`, `columns` (`load_reference_file`).

A RegistrySpec saved with a run (`spec_to_dict`, i.e. this format with the lists spliced in) is
read back by `spec_from_dict`, checked by the same model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from matching.settings import LinkSettings
from pipelines.errors import DoisoatError, InputError, safe_excerpt, strip_control
from pipelines.spec import (
    METRICS,
    ColumnKind,
    ColumnSpec,
    PaymentSpec,
    PersonRole,
    RegistrySpec,
)

SHARED_ALIASES = "header_aliases.yaml"
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")  # names become SQL identifiers and file names
# Columns every registry frame already has (row accounting, the engine's record id): a spec column
# of that name would be overwritten or shadow them — a file's "rec_id" header is taken by an alias.
RESERVED_COLUMNS = frozenset(
    {"rec_id", "source_file", "source_row", "excel_row", "run_id", "registry", "owner_index", "entity"}
    | {"row_status", "reject_reason", "problems", "line_problem"}
)
LANGUAGE_KINDS = ("name", "owner", "address")  # kinds whose values a language repair could touch
# which column kinds may feed each person field (the normalizer's outputs the matcher reads)
ROLE_KINDS: dict[str, tuple[str, ...]] = {
    "ho_ten": ("name", "owner"),
    "ngay_sinh": ("date", "year"),
    "gioi_tinh": ("sex",),
    "id": ("id",),
    "dia_chi": ("address",),
    "ho_ten_cha": ("name",),
    "ho_ten_me": ("name",),
}
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built: same nodes and marks
Path_ = tuple[str | int, ...]  # a place in the YAML document: keys and list indexes


# ------------------------------------------------------------------------- the file model ----


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class ColumnFile(_Model):
    name: str
    kind: ColumnKind
    aliases: list[str] = Field(default_factory=list)
    required: bool | None = None
    role: PersonRole | None = None
    label_vi: str | None = None
    language: Literal["vi", "other"] | None = None

    @field_validator("aliases", mode="before")
    @classmethod
    def _one_alias_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v  # `aliases: $HO_TEN` as short for `[$HO_TEN]`


class TemplateFile(_Model):
    """A comparison from the library (matching/library.py TEMPLATES), over spec columns."""

    template: str
    name: str | None = None
    column: str | None = None
    given: str | None = None
    family: str | None = None
    params: dict[str, bool | int | float | list[int | float]] = Field(default_factory=dict)


class BlockingRuleFile(_Model):
    """A blocking rule over spec columns or person keys (matching/library.py PERSON_KEYS)."""

    name: str
    keys: list[str]


class MatchFile(_Model):
    comparisons: list[str | TemplateFile]
    blocking_rules: list[str | BlockingRuleFile]
    match_threshold: float | None = None
    review_threshold: float | None = None
    max_pairs_per_rule: int | None = None
    # the engine's own knobs (matching/settings.py); a run's saved spec lists them all
    top_k: int | None = None
    min_margin: float | None = None
    u_sample_pairs: int | None = None
    em_iterations: int | None = None
    seed: int | None = None


class PaymentFile(_Model):
    mode_column: str
    account_values: list[str]
    account_column: str
    bank_column: str | None = None


class RegistryFile(_Model):
    spec: Literal["registry"] = "registry"
    name: str
    title_vi: str
    key_column: str
    alias_lists: dict[str, list[str]] = Field(default_factory=dict)
    columns: list[ColumnFile]
    match: MatchFile
    mismatch_fields: list[PersonRole] | None = None
    payment: PaymentFile | None = None
    alive_check: bool | None = None
    owner_split: bool | None = None
    repeat_persons: bool | None = None
    death_column: str | None = None
    targets: dict[str, float] | None = None


class ReferenceFile(_Model):
    spec: Literal["reference"]
    name: str
    title_vi: str
    alias_lists: dict[str, list[str]] = Field(default_factory=dict)
    columns: list[ColumnFile]


class AliasFile(_Model):
    spec: Literal["header_aliases"]
    alias_lists: dict[str, list[str]]


def match_entries(items: list) -> list[str | dict[str, Any]]:
    """A match section's entries as the engine reads them: names, or plain mappings (None keys and
    empty parameters left out, so a saved spec shows what the file said)."""
    return [
        item if isinstance(item, str) else {k: v for k, v in item.model_dump().items() if v not in (None, {})}
        for item in items
    ]


# ------------------------------------------------------------------------------ errors ------


@dataclass(frozen=True)
class Problem:
    line: int | None  # 1-based, None when the whole file is concerned
    column: int | None
    vi: str  # for the officer
    en: str  # for the engineer


class SpecFileError(InputError):
    """A spec file that cannot be used; every problem found, each with its line and column."""

    code = "spec_invalid"

    def __init__(self, file: str | Path, problems: list[Problem], *, code: str | None = None):
        self.problems = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        self.file, self.row, self.column, self.sheet = str(file), self.problems[0].line, None, None
        name = strip_control(Path(file).name, keep_newlines=False)
        lines = [self._one(name, p) for p in self.problems[:10]]
        if len(self.problems) > 10:
            lines.append(f"(và {len(self.problems) - 10} lỗi khác)")
        DoisoatError.__init__(self, strip_control("\n".join(lines)), code=code)

    @staticmethod
    def _one(name: str, p: Problem) -> str:
        where = f"tệp {name}" + (f", dòng {p.line}, cột {p.column}" if p.line is not None else "")
        return f"{where}: {p.vi} — English: {p.en}"


def _quote(value: Any) -> str:
    """A value from a spec file, fit for a message (a data file given by mistake as a spec
    must not print its IDs: digit runs are hidden, length capped)."""
    return safe_excerpt(value, limit=40)


# -------------------------------------------------------------------- YAML with marks -------


class _Doc:
    """A YAML document as plain data plus the line/column of every node and mapping key."""

    def __init__(self, path: Path, data: Any = None, *, parsed: bool = False):
        self.path = path
        self.marks: dict[Path_, tuple[int, int]] = {}
        self.key_marks: dict[Path_, tuple[int, int]] = {}
        self.problems: list[Problem] = []
        if parsed:  # data already in memory (a run's saved spec): no marks, problems name the path
            self.data = data
            return
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(f"không tìm thấy tệp khai báo {path}", code="spec_not_found") from None
        except UnicodeDecodeError:
            raise SpecFileError(
                path, [Problem(None, None, "tệp không phải văn bản UTF-8 (YAML)", "not UTF-8 text")]
            ) from None
        except OSError as exc:
            raise InputError(
                f"không đọc được tệp khai báo {path} ({exc.strerror or type(exc).__name__})", code="spec_unreadable"
            ) from None
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            self.data = None if node is None else self._build(loader, node, ())
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            # only PyYAML's description of the problem: its snippet would quote the file's text
            en = " ".join(p for p in (exc.context, exc.problem) if p)
            raise SpecFileError(
                path,
                [Problem(mark.line + 1 if mark else None, mark.column + 1 if mark else None, "lỗi cú pháp YAML", en)],
            ) from None
        except yaml.YAMLError as exc:
            raise SpecFileError(path, [Problem(None, None, "lỗi cú pháp YAML", type(exc).__name__)]) from None
        finally:
            loader.dispose()
        if self.problems:
            raise SpecFileError(path, self.problems)
        if self.data is None:
            raise SpecFileError(path, [Problem(None, None, "tệp rỗng", "empty file")])

    def _build(self, loader: Any, node: yaml.Node, at: Path_) -> Any:
        self.marks[at] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            loader.flatten_mapping(node)  # YAML merge keys (<<: *base)
            out: dict = {}
            for key_node, value_node in node.value:
                key = loader.construct_object(key_node, deep=True)
                mark = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
                if not isinstance(key, str):
                    self.problems.append(
                        Problem(*mark, f"khóa '{_quote(key)}' phải là chữ", "mapping key must be a string")
                    )
                    continue
                if key in out:
                    self.problems.append(Problem(*mark, f"khóa '{_quote(key)}' lặp lại", f"duplicate key {key!r}"))
                    continue
                self.key_marks[at + (key,)] = mark
                out[key] = self._build(loader, value_node, at + (key,))
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(loader, item, at + (i,)) for i, item in enumerate(node.value)]
        return loader.construct_object(node, deep=True)

    def mark(self, at: Path_, key: bool = False) -> tuple[int | None, int | None]:
        """Line and column of `at`, else of its nearest enclosing node."""
        if key and at in self.key_marks:
            return self.key_marks[at]
        while at not in self.marks and at:
            at = at[:-1]
        return self.marks.get(at, (None, None))

    def get(self, at: Path_) -> Any:
        value = self.data
        for step in at:
            value = value[step]
        return value

    def context(self, at: Path_) -> str:
        """ "cột 'ho_ten': " when `at` lies inside a named column."""
        if len(at) >= 3 and at[0] == "columns" and isinstance(at[1], int):
            try:
                name = self.get(at[:2]).get("name")
            except (AttributeError, IndexError, KeyError, TypeError):
                name = None
            if isinstance(name, str):
                return f"cột '{_quote(name)}': "
            return f"cột thứ {at[1] + 1}: "
        return ""


def _dotted(at: Path_) -> str:
    out = ""
    for step in at:
        out += f"[{step}]" if isinstance(step, int) else (f".{step}" if out else str(step))
    return out or "(document)"


_TYPE_VI = {
    "string_type": "cần một chuỗi chữ",
    "bool_type": "cần true hoặc false",
    "float_type": "cần một số (dấu chấm thập phân, ví dụ 0.95)",
    "int_type": "cần một số nguyên",
    "list_type": "cần một danh sách [..]",
    "dict_type": "cần một bảng khóa: giá trị",
    "model_type": "cần một bảng khóa: giá trị",
    "float_parsing": "cần một số",
    "int_parsing": "cần một số nguyên",
    "int_from_float": "cần một số nguyên",
    "finite_number": "cần một số hữu hạn",
}


def _problem(doc: _Doc, err: dict) -> Problem:
    at = tuple(err["loc"])
    kind, key = err["type"], at[-1] if at else ""
    if not isinstance(key, str):  # an item of a list: name it by its place, columns[2]
        key = _dotted(at)
    en = f"{_dotted(at)}: {err['msg']}"
    if kind == "missing":
        line, col = doc.mark(at[:-1])
        vi = f"thiếu khóa bắt buộc '{key}'"
    elif kind == "extra_forbidden":
        line, col = doc.mark(at, key=True)
        vi = f"khóa '{_quote(key)}' không được biết (xem pipelines/spec_files.py)"
    elif kind == "literal_error":
        line, col = doc.mark(at)
        allowed = err.get("ctx", {}).get("expected", "").replace("'", "")
        vi = f"{key} '{_quote(err['input'])}' không hợp lệ ({allowed})"
    else:
        line, col = doc.mark(at)
        vi = f"{key}: {_TYPE_VI.get(kind, 'giá trị không hợp lệ')}, gặp '{_quote(err['input'])}'"
    return Problem(line, col, doc.context(at) + vi, en)


def _validate(doc: _Doc, model: type[_Model]) -> Any:
    if not isinstance(doc.data, dict):
        raise SpecFileError(
            doc.path,
            [Problem(*doc.mark(()), "tệp khai báo phải là một bảng khóa: giá trị", "top level must be a mapping")],
        )
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        raise SpecFileError(doc.path, [_problem(doc, e) for e in exc.errors()]) from None


# ------------------------------------------------------------------------ build the spec ----


@cache
def _shared_aliases() -> dict[str, list[str]]:
    doc = _Doc(Path(str(files("pipelines") / SHARED_ALIASES)))
    return _validate(doc, AliasFile).alias_lists


class _Builder:
    """Checks what the model cannot (names that must exist, roles used once, ...) and builds the
    runtime dataclasses; collects every problem before raising."""

    def __init__(self, doc: _Doc, own_lists: dict[str, list[str]], expand: bool = True):
        self.doc, self.problems, self.expand = doc, [], expand
        self.lists = {**_shared_aliases(), **own_lists}

    def fail(self, at: Path_, vi: str, en: str, key: bool = False) -> None:
        self.problems.append(Problem(*self.doc.mark(at, key=key), self.doc.context(at) + vi, f"{_dotted(at)}: {en}"))

    def identifier(self, at: Path_, value: str) -> None:
        if not IDENTIFIER.match(value):
            self.fail(
                at,
                f"tên '{_quote(value)}' phải viết thường không dấu, chữ số và '_' (ví dụ ho_ten)",
                "must match [a-z][a-z0-9_]*",
            )

    def aliases(self, at: Path_, items: list[str]) -> tuple[str, ...]:
        out: list[str] = []
        if not self.expand:  # a saved spec: aliases already spliced, a "$" is the header's own
            return tuple(items)
        for i, item in enumerate(items):
            if item.startswith("$$"):
                out.append(item[1:])
            elif item.startswith("$"):
                if item[1:] in self.lists:
                    out.extend(self.lists[item[1:]])
                else:
                    self.fail(
                        at + (i,),
                        f"không có danh sách tiêu đề '{_quote(item)}' (có: {', '.join(sorted(self.lists))})",
                        f"unknown alias list {item!r}",
                    )
            else:
                out.append(item)
        return tuple(out)

    def columns(self, cols: list[ColumnFile]) -> tuple[ColumnSpec, ...]:
        out, seen, roles = [], set(), {}
        for i, c in enumerate(cols):
            at = ("columns", i)
            self.identifier(at + ("name",), c.name)
            if c.name in RESERVED_COLUMNS:
                self.fail(
                    at + ("name",),
                    f"tên cột '{c.name}' dành cho hệ thống; đặt tên khác và ghi '{c.name}' trong aliases",
                    "reserved column name: use another name with the header as an alias",
                )
            if c.name in seen:
                self.fail(at + ("name",), f"tên cột '{c.name}' lặp lại", "duplicate column name")
            seen.add(c.name)
            if c.role is not None:
                if c.role in roles:
                    self.fail(at + ("role",), f"vai trò '{c.role}' đã gán cho cột '{roles[c.role]}'", "role used twice")
                roles[c.role] = c.name
                if c.kind not in ROLE_KINDS[c.role]:
                    self.fail(
                        at + ("kind",),
                        f"vai trò '{c.role}' cần kind {' hoặc '.join(ROLE_KINDS[c.role])}, gặp '{c.kind}'",
                        f"role {c.role} needs kind {ROLE_KINDS[c.role]}",
                    )
            # a saved spec (not expanded) lists every column's language, "vi" by default
            saved_default = not self.expand and c.language == "vi"
            if c.language is not None and c.kind not in LANGUAGE_KINDS and not saved_default:
                self.fail(
                    at + ("language",),
                    f"language chỉ dùng cho kind {', '.join(LANGUAGE_KINDS)}",
                    "language applies to name, owner and address columns only",
                )
            given = {
                k: v
                for k, v in (
                    ("required", c.required),
                    ("role", c.role),
                    ("label_vi", c.label_vi),
                    ("language", c.language),
                )
                if v is not None
            }
            out.append(ColumnSpec(c.name, c.kind, self.aliases(at + ("aliases",), c.aliases), **given))
        return tuple(out)

    def column_ref(self, at: Path_, name: str | None, names: set[str]) -> None:
        if name is None:
            return
        if name not in names:
            self.fail(at, f"không có cột '{_quote(name)}' trong columns", "no such column")

    def vocabulary(self, f: RegistryFile, names: set[str]) -> None:
        """Names that must exist in the engine and the findings: comparisons, templates and their
        columns and parameters, blocking rules and their keys, target metrics. Imported here, not at
        the top: matching.library pulls in duckdb and findings.coverage polars, 0.85 s of the CLI's
        start-up (measured with -X importtime), which `doisoat --help` and `registry_titles()` do not need."""
        from matching import library  # lazy: duckdb at start-up (docstring)
        from matching.blocking import RULES  # lazy: as above
        from matching.templates import COMPARISONS  # lazy: as above

        entries = match_entries(f.match.comparisons)
        usable = []  # the entries without a problem: blocking keys are checked against these
        for i, item in enumerate(entries):
            at = ("match", "comparisons", i)
            before = len(self.problems)
            if isinstance(item, str):
                if item not in COMPARISONS:
                    self.fail(
                        at,
                        f"không có phép so sánh '{_quote(item)}' (có: {', '.join(COMPARISONS)})",
                        "unknown comparison",
                    )
            elif item["template"] not in library.TEMPLATES:
                self.fail(
                    at + ("template",),
                    f"không có mẫu so sánh '{_quote(item['template'])}' (có: {', '.join(library.TEMPLATES)})",
                    "unknown comparison template",
                )
            else:
                for key in ("column", "given", "family"):
                    self.column_ref(at + (key,), item.get(key), names)
                try:
                    library.comparison(item)
                except ValueError as exc:
                    self.fail(at, "mẫu so sánh thiếu cột hoặc có tham số không hợp lệ", str(exc))
            if len(self.problems) == before:
                usable.append(item)
        try:  # the entries together (names used twice, one column prepared two ways)
            library.comparisons(usable)
            library.field_preparations(usable)
        except ValueError as exc:
            self.fail(("match", "comparisons"), "các phép so sánh trùng tên hoặc dùng một cột theo hai cách", str(exc))
            usable = [e for e in usable if isinstance(e, str)]
        for i, item in enumerate(match_entries(f.match.blocking_rules)):
            at = ("match", "blocking_rules", i)
            if isinstance(item, str):
                if item not in RULES:
                    self.fail(
                        at,
                        f"không có quy tắc ghép khối '{_quote(item)}' (có: {', '.join(RULES)})",
                        "unknown blocking rule",
                    )
                continue
            self.identifier(at + ("name",), item["name"])
            try:
                library.blocking_rules([item], usable)
            except ValueError as exc:
                self.fail(
                    at + ("keys",),
                    "mỗi khóa ghép khối phải là một cột được so sánh bằng mẫu (ngày: cot.year…) hoặc khóa người"
                    f" ({', '.join(library.PERSON_KEYS)})",
                    str(exc),
                )
        for metric in f.targets or {}:
            if METRICS.get(metric, ("info",))[0] == "info":
                targetable = ", ".join(m for m, (d, _) in METRICS.items() if d != "info")
                self.fail(
                    ("targets", metric),
                    f"không có chỉ tiêu '{_quote(metric)}' (có: {targetable})",
                    "unknown target metric",
                    key=True,
                )

    def registry(self, f: RegistryFile, vocabulary: bool = True) -> RegistrySpec:
        self.identifier(("name",), f.name)
        columns = self.columns(f.columns)
        names = {c.name for c in columns}
        if vocabulary:
            self.vocabulary(f, names)
        self.column_ref(("key_column",), f.key_column, names)
        self.column_ref(("death_column",), f.death_column, names)
        if f.death_column in names and next(c for c in columns if c.name == f.death_column).kind != "date":
            self.fail(
                ("death_column",), f"cột ngày mất '{f.death_column}' cần kind date", "death column must be a date"
            )
        if f.payment is not None:
            for field in ("mode_column", "account_column", "bank_column"):
                self.column_ref(("payment", field), getattr(f.payment, field), names)
        # a mismatch field whose role no column has is skipped (findings/mismatches.py), as with
        # the defaults: not an error
        for metric, share in (f.targets or {}).items():
            if not 0.0 <= share <= 1.0:
                self.fail(("targets", metric), "mục tiêu là tỉ lệ từ 0 đến 1", "target must be a share 0..1")
        thresholds = {
            k: v
            for k, v in (("match_threshold", f.match.match_threshold), ("review_threshold", f.match.review_threshold))
            if v is not None
        }
        for k, v in thresholds.items():
            if not 0.0 < v <= 1.0:
                self.fail(("match", k), "ngưỡng là xác suất trong khoảng (0, 1]", "threshold must be in (0, 1]")
        knobs = ("max_pairs_per_rule", "top_k", "min_margin", "u_sample_pairs", "em_iterations", "seed")
        given = {k: getattr(f.match, k) for k in knobs if getattr(f.match, k) is not None}
        match = LinkSettings(
            tuple(match_entries(f.match.comparisons)),
            tuple(match_entries(f.match.blocking_rules)),
            **thresholds,
            **given,
        )
        if match.review_threshold > match.match_threshold:
            self.fail(
                ("match",),
                "review_threshold phải nhỏ hơn hoặc bằng match_threshold",
                "review_threshold > match_threshold",
            )
        if f.match.max_pairs_per_rule is not None and f.match.max_pairs_per_rule <= 0:
            self.fail(("match", "max_pairs_per_rule"), "cần một số nguyên dương", "must be positive")
        payment = (
            None
            if f.payment is None
            else PaymentSpec(
                f.payment.mode_column, tuple(f.payment.account_values), f.payment.account_column, f.payment.bank_column
            )
        )
        optional = {
            k: v
            for k, v in (
                ("mismatch_fields", None if f.mismatch_fields is None else tuple(f.mismatch_fields)),
                ("alive_check", f.alive_check),
                ("owner_split", f.owner_split),
                ("repeat_persons", f.repeat_persons),
                ("death_column", f.death_column),
                ("targets", f.targets),
            )
            if v is not None
        }
        spec = RegistrySpec(f.name, f.title_vi, f.key_column, columns, match, payment=payment, **optional)
        self.raise_if_any()
        return spec

    def raise_if_any(self) -> None:
        if self.problems:
            raise SpecFileError(self.doc.path, self.problems)


def load_spec_file(path: str | Path, *, vocabulary: bool = True) -> RegistrySpec:
    """The RegistrySpec a registry spec file declares; `SpecFileError` (an InputError) naming the
    file, line and column of every problem otherwise.

    `vocabulary=False` skips checking comparison, blocking-rule and target names against the
    engine (see `_Builder.vocabulary`): only for listing the shipped files' names and titles,
    which tests/test_spec_files.py loads fully."""
    doc = _Doc(Path(path))
    f = _validate(doc, RegistryFile)
    return _Builder(doc, f.alias_lists).registry(f, vocabulary=vocabulary)


def spec_from_dict(data: dict, source: str) -> RegistrySpec:
    """The RegistrySpec saved with a run (`spec_to_dict`, JSON in runs.parameters), rebuilt and
    checked by the same model as a file: `doisoat report` and `review` of a run made with a
    user's own spec file need that spec, and must not take a later edit of the file.
    `source` names where the data came from in errors (e.g. "lần chạy <run_id>")."""
    doc = _Doc(Path(source), data, parsed=True)
    f = _validate(doc, RegistryFile)
    return _Builder(doc, f.alias_lists, expand=False).registry(f)


def load_reference_file(path: str | Path) -> tuple[ColumnSpec, ...]:
    """The columns of a reference-side spec file (`spec: reference`, e.g. the CSDLQG extract)."""
    doc = _Doc(Path(path))
    f = _validate(doc, ReferenceFile)
    b = _Builder(doc, f.alias_lists)
    b.identifier(("name",), f.name)
    columns = b.columns(f.columns)
    b.raise_if_any()
    return columns


def column_languages(path: str | Path) -> dict[str, str]:
    """Declared language of each name/owner/address column ("vi" when not given)."""
    doc = _Doc(Path(path))
    model = ReferenceFile if isinstance(doc.data, dict) and doc.data.get("spec") == "reference" else RegistryFile
    return {c.name: c.language or "vi" for c in _validate(doc, model).columns if c.kind in LANGUAGE_KINDS}


def spec_kind(path: str | Path) -> str | None:
    """The `spec:` marker of a YAML file (registry, reference, header_aliases), None if absent."""
    doc = _Doc(Path(path))
    value = doc.data.get("spec") if isinstance(doc.data, dict) else None
    return value if isinstance(value, str) else None


__all__ = [
    "SpecFileError",
    "load_spec_file",
    "spec_from_dict",
    "load_reference_file",
    "column_languages",
    "spec_kind",
    "RegistryFile",
    "ReferenceFile",
]
