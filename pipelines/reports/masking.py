"""Masking of identifiers in reports (Nghị định 13/2023: personal data protected by default).

A masked ID keeps only its last three digits: `*********278`. Keeping more would not mask: in a
12-digit personal ID digits 1–3 are the province of birth registration, digit 4 follows from sex
and birth century and digits 5–6 are the birth year (vn-facts.md), so `074******278` printed
beside a date of birth and sex leaves three unknown digits, not six. Every sheet of the workbook
shows the date of birth, and a masked ID in the HTML report could be joined with the workbook, so
one form is used everywhere. Officers find the row by file and row number, not by the ID.
Account numbers keep only the last four. Masking is on unless the user asked for `--unmasked`
deliberately, or the file is a commune's own password-protected workbook (`--by-commune`)."""

from __future__ import annotations

KEEP_LAST = 3  # digits of an ID left visible


def mask_id(value: str | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    if len(s) > KEEP_LAST + 2:
        return "*" * (len(s) - KEEP_LAST) + s[-KEEP_LAST:]
    return "*" * len(s)


def mask_account(value: str | None) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return "*" * max(len(s) - 4, 0) + s[-4:] if len(s) > 4 else "*" * len(s)
