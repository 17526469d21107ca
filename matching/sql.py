"""Quoting for the few SQL fragments that cannot be bound parameters.

Values always travel as bound parameters. Identifiers (table and column names, some taken from
registry specs) and the literals of DDL statements such as `COMMENT ON` cannot be bound, so they
are quoted here — the only place in the project that builds quoted SQL text.
"""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """One identifier, double-quoted ('a"b' -> '"a""b"')."""
    return '"' + name.replace('"', '""') + '"'


def quote_name(name: str) -> str:
    """A possibly schema-qualified name ("main.links"), each part quoted."""
    return ".".join(quote_identifier(part) for part in name.split("."))


def quote_literal(text: str) -> str:
    """A string literal for DDL, where parameters cannot be bound."""
    return "'" + text.replace("'", "''") + "'"
