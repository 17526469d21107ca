"""RegistrySpec: a registry is declared, not programmed.

A spec says which columns a registry file has (canonical name, Vietnamese display headers that
mean the same thing, whether the column is required, what kind of value it holds), which of
them feed the person fields the matcher compares, which comparisons and blocking rules the
matcher uses (`matching.settings.LinkSettings`, the one home of the matching defaults), and
which fields are reported as mismatches against CSDLQG. The generic pipeline
(`pipelines/flow.py`) reads nothing else. Registries are declared in YAML spec files
(`pipelines/<registry>/*.yaml`, read by pipelines/spec_files.py into these dataclasses); adding
one means adding a file, no Python.

Specs are plain frozen dataclasses so they can be serialized to JSON with each run (an auditor
sees exactly which settings linked a row): `spec_to_dict(spec)`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal

from matching.settings import LinkSettings

# What kind of value a column holds; selects its normalizer.
ColumnKind = Literal[
    "name",  # a person's full name                       -> matching.normalize.names
    "owner",  # land owner text: "Ông A và bà B", "Hộ ông A", organizations
    "date",  # a date, possibly partial                    -> matching.normalize.dates
    "year",  # a year of birth only
    "id",  # CCCD / CMND / personal ID                     -> matching.normalize.ids
    "sex",  # Nam / Nữ
    "address",  # free-text address                          -> matching.normalize.addresses
    "amount",  # money or area, must be positive
    "text",  # anything else, kept as is (trimmed)
]

# The language of a name/owner/address column's values: "vi" switches on the Vietnamese-only repairs
# (Telex/VNI typing residue, legacy fonts, tone placement); "other" (foreigners' names) is never rewritten.
Language = Literal["vi", "other"]

# The person fields the matcher compares (the "person schema", see ARCHITECTURE.md).
PersonRole = Literal["ho_ten", "ngay_sinh", "gioi_tinh", "id", "dia_chi", "ho_ten_cha", "ho_ten_me"]


# Coverage metrics a spec may set a target for (`RegistrySpec.targets`), with the direction that
# counts as progress and the default target; computed by pipelines/findings/coverage.py.
METRICS: dict[str, tuple[str, float | None]] = {
    "linked": ("up", 1.0),
    "linked_id": ("info", None),
    "linked_probabilistic": ("info", None),
    "linked_household": ("info", None),
    "verified": ("up", 1.0),
    "complete": ("up", 1.0),
    "review": ("info", None),
    "not_found": ("info", None),
    "duplicate": ("down", 0.0),
    "dead_still_paid": ("down", 0.0),
    "paid_by_account": ("up", 1.0),
}


@dataclass(frozen=True)
class ColumnSpec:
    name: str  # canonical snake_case column name, e.g. "ho_ten"
    kind: ColumnKind
    aliases: tuple[str, ...] = ()  # display headers officers use, with diacritics
    required: bool = False  # an empty value is a missing field ("đủ")
    role: PersonRole | None = None  # which person field it feeds, if any
    label_vi: str = ""  # header shown in reports
    language: Language = "vi"  # matching.normalize.names, "Languages"


@dataclass(frozen=True)
class PaymentSpec:
    """Welfare and pension: how the payment mode and account are recorded (100 % via account)."""

    mode_column: str  # e.g. "hinh_thuc_chi_tra"
    account_values: tuple[str, ...]  # mode values that mean "paid through an account"
    account_column: str  # e.g. "so_tai_khoan": required when paid through an account
    bank_column: str | None = None


@dataclass(frozen=True)
class ForeignersSpec:
    """Registries that also list foreigners (ASM guests): rows whose nationality is none of the
    citizen values are not in CSDLQG and never matched (pipelines/foreigners.py)."""

    column: str  # e.g. "quoc_tich"
    citizen_values: tuple[str, ...]  # values meaning a Vietnamese citizen, e.g. ("Việt Nam", "VN")


@dataclass(frozen=True)
class RegistrySpec:
    name: str  # CLI and warehouse name, e.g. "social_welfare"
    title_vi: str  # shown to officers, e.g. "Đối tượng bảo trợ xã hội"
    key_column: str  # the registry's own record number (ma_doi_tuong, so_dang_ky, ...)
    columns: tuple[ColumnSpec, ...]
    match: LinkSettings  # comparisons and blocking rules; thresholds default in matching/settings.py
    mismatch_fields: tuple[PersonRole, ...] = ("ho_ten", "ngay_sinh", "gioi_tinh", "dia_chi")
    payment: PaymentSpec | None = None
    alive_check: bool = False  # alert when linked to a dead person while still paid
    owner_split: bool = False  # land: one row may name several owners or an organization
    repeat_persons: bool = (
        False  # land: one person may hold several rows (certificates); only a repeated key is a duplicate
    )
    death_column: str | None = None  # civil deaths: the registered date of death
    foreigners: ForeignersSpec | None = None  # ASM guests: foreigners' rows are not matched
    targets: dict[str, float] = field(default_factory=dict)  # Đề án 06 targets, share 0..1

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.name}: no column {name!r}")

    def role_column(self, role: PersonRole) -> ColumnSpec | None:
        return next((c for c in self.columns if c.role == role), None)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)


def spec_to_dict(spec: RegistrySpec) -> dict:
    return asdict(spec)
