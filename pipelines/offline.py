"""Offline by default: no analytics or telemetry calls from the libraries doisoat drives.

doisoat runs in provincial offices, often without internet, on sensitive data; a library that
phones home (with a machine identifier) is both a delay and a disclosure. Imported by
`pipelines/__init__.py`, so the variables are set before Great Expectations or Prefect is
imported by any doisoat code path (CLI, Prefect flows importing `pipelines.flow`, tests). Values
are forced, not defaulted: an inherited `GX_ANALYTICS_ENABLED=True` must not switch it back on.

- Great Expectations: `GX_ANALYTICS_ENABLED=False` (otherwise it posts usage events).
- Prefect server: `PREFECT_SERVER_ANALYTICS_ENABLED=false` (the telemetry heartbeat service).
- Prefect client (SDK) telemetry: `DO_NOT_TRACK=1` (checked by prefect._internal.analytics) and
  `PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY=false`.
A Prefect server or worker started outside doisoat must be given the same variables (README)."""

from __future__ import annotations

import os

OFFLINE_ENV = {
    "GX_ANALYTICS_ENABLED": "False",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}

os.environ.update(OFFLINE_ENV)
