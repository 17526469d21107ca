"""How dates and times look in every report (workbook, HTML, review sheet).

Why one home: officers read dates as dd/mm/yyyy and times in Vietnam's time; a date shown as
`1942-01-01` in one column and `01/01/1942` in the next of the same row looks like two values.
The warehouse keeps ISO dates at the registry's own precision (yyyy-mm-dd, yyyy-mm, yyyy) and
TIMESTAMPTZ in UTC; only this module turns them into text."""

from __future__ import annotations

import datetime as dt
import re

from pipelines.progress import VN_TZ  # the one home of the officers' time zone

ZONE_NOTE = "giờ Việt Nam, UTC+7"

_ISO = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def dmy(value: object) -> str | None:
    """ISO date at its precision → dd/mm/yyyy, mm/yyyy or yyyy; anything else unchanged."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    text = str(value).strip()
    m = _ISO.match(text)
    if not m:
        return text
    return "/".join(p for p in reversed(m.groups()) if p)


def vn_time(value: object, seconds: bool = False, zone: bool = True) -> str:
    """A timestamp (UTC when naive) in Asia/Ho_Chi_Minh: '30/11/2026 16:45 (giờ Việt Nam, UTC+7)'."""
    if not isinstance(value, dt.datetime):
        return "" if value is None else str(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    text = value.astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")
    return f"{text} ({ZONE_NOTE})" if zone else text


def now_vn(seconds: bool = False) -> str:
    return vn_time(dt.datetime.now(dt.UTC), seconds)
