"""Masking of identifiers in reports (Nghị định 13/2023: personal data protected by default).

IDs keep their first three digits (the province code an officer recognises) and last three, so
a masked ID still lets an officer find the right file row: 001******123. Account numbers keep
only the last four. Masking is on unless the user asked for `--unmasked` deliberately."""

from __future__ import annotations


def mask_id(value: str | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    if len(s) >= 9:
        return s[:3] + "*" * (len(s) - 6) + s[-3:]
    if len(s) >= 5:
        return s[:1] + "*" * (len(s) - 3) + s[-2:]
    return "*" * len(s)


def mask_account(value: str | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return "*" * max(len(s) - 4, 0) + s[-4:] if len(s) > 4 else "*" * len(s)
