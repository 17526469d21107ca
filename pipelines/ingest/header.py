"""Finding the header: spec aliases, the header row among title rows, two-row merged headers.

Why: officers' headers vary ("Họ và tên", "HỌ TÊN", "Ho ten", typed with a TCVN3 font, split over
two merged rows under a group title), so a header cell is compared by its folded key
(`matching.normalize.fold.compact_key`) with the spec's names, Vietnamese labels, aliases and the
user's `--column-map`; the row (or pair of rows) matching the most columns is the header. A file
whose header lacks a required column is refused with the columns found and expected.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice
from pathlib import Path

from matching.normalize.encodings import tcvn3_to_unicode, vni_to_unicode
from matching.normalize.fold import compact_key
from pipelines.errors import InputError, header_cells_text
from pipelines.ingest.sources import row_number
from pipelines.spec import ColumnSpec

HEADER_SCAN_ROWS = 30  # title rows above the header are rarely more than a handful


def alias_index(columns: Sequence[ColumnSpec], column_map: dict[str, str] | None = None) -> dict[str, str]:
    """Folded header text → canonical column name (canonical names, spec aliases, user mapping)."""
    index: dict[str, str] = {}
    for col in columns:
        for alias in (col.name, col.label_vi, *col.aliases):
            if alias:
                index.setdefault(compact_key(alias), col.name)
    for header, canonical in (column_map or {}).items():
        index[compact_key(header)] = canonical  # the user's mapping wins over built-in aliases
    return index


def header_keys(label: str) -> list[str]:
    """The header as typed, and as it reads when it was typed with a TCVN3 or VNI font; matching
    against the known aliases makes the legacy readings safe to try."""
    return [compact_key(label), compact_key(tcvn3_to_unicode(label)), compact_key(vni_to_unicode(label))]


def _match_row(labels: Sequence[str | None], index: dict[str, str]) -> dict[int, str]:
    found: dict[int, str] = {}
    used: set[str] = set()
    for j, label in enumerate(labels):
        # headers typed with a TCVN3/VNI font ("Hä vµ tªn") are converted before matching
        canonical = next((index[k] for k in header_keys(label) if k in index), None) if label else None
        if canonical and canonical not in used:
            found[j] = canonical
            used.add(canonical)
    return found


def two_row_labels(top: Sequence[str | None], bottom: Sequence[str | None]) -> list[str | None]:
    """Combine a merged two-row header: a group title over sub-columns, or one cell spanning both rows.

    The bottom cell names the column when present, else the top cell (merged vertically); a
    bottom label that alone matches nothing is tried as "top bottom" by the caller."""
    width = max(len(top), len(bottom))
    return [(bottom[j] if j < len(bottom) and bottom[j] else (top[j] if j < len(top) else None)) for j in range(width)]


def find_header(
    grid: list[list[str | None]], columns: Sequence[ColumnSpec], index: dict[str, str]
) -> tuple[int, int, dict[int, str]]:
    """(header_start, header_height 1 or 2, {column position: canonical name}) with the most matches."""
    best = (0, 1, {})
    for r in range(min(HEADER_SCAN_ROWS, len(grid))):
        candidates = [(1, _match_row(grid[r], index))]
        if r + 1 < len(grid):
            top, bottom = grid[r], grid[r + 1]
            merged = _match_row(two_row_labels(top, bottom), index)
            # group title + sub-column ("Giấy tờ" / "Số CCCD") also tried as one combined label
            group = None
            combined: list[str | None] = []
            for j in range(max(len(top), len(bottom))):
                t = top[j] if j < len(top) else None
                b = bottom[j] if j < len(bottom) else None
                group = t or (group if b else None)
                combined.append(f"{group} {b}" if group and b else None)
            for j, name in _match_row(combined, index).items():
                if j not in merged and name not in merged.values():
                    merged[j] = name
            candidates.append((2, merged))
        for height, found in candidates:
            # a two-row header must beat the one-row reading by itself, or row 2 is just data
            if len(found) > len(best[2]) or (
                height == 1 and len(found) == len(best[2]) and best[1] == 2 and best[0] == r
            ):
                best = (r, height, found)
    return best


def load_column_map(path: Path | None) -> dict[str, str]:
    """Optional YAML: either {header text: canonical} or {canonical: [header texts]}."""
    if path is None:
        return {}
    import yaml  # lazy: 40–78 ms to import (python -X importtime), and only --column-map needs it

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except Exception as exc:
        raise InputError(f"không đọc được tệp ánh xạ cột YAML: {exc}", file=Path(path).name) from None
    if not isinstance(raw, dict):
        raise InputError("tệp ánh xạ cột phải là một bảng 'tiêu đề: tên cột chuẩn'", file=Path(path).name)
    mapping: dict[str, str] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            mapping.update({str(v): str(key) for v in value})
        else:
            mapping[str(key)] = str(value)
    return mapping


def _missing_columns_error(
    where: str,
    columns: Sequence[ColumnSpec],
    need: Sequence[str],
    missing: Sequence[str],
    header_cells: Sequence[str],
    matched: int,
    row: int,
) -> InputError:
    """The refusal names the required columns; the cells of the row taken for the header are
    quoted only when that row looks like a header (`header_cells_text`): a file without a header
    row would otherwise print a whole record of personal data."""
    labels = {c.name: c.label_vi or c.name for c in columns}
    return InputError(
        "không tìm thấy các cột bắt buộc: "
        + ", ".join(f"'{labels[n]}' ({n})" for n in missing)
        + ". Các cột tìm thấy trong tệp: "
        + header_cells_text(list(header_cells), matched=matched, row=row)
        + ". Các cột cần có: "
        + ", ".join(f"'{labels[n]}'" for n in need)
        + ". Có thể khai báo tiêu đề khác bằng tệp ánh xạ cột (--column-map).",
        file=where,
    )


def locate_header(
    path: Path,
    sheet: str | None,
    rows: Iterator[list[str | None]],
    columns: Sequence[ColumnSpec],
    index: dict[str, str],
    need: Sequence[str],
) -> tuple[list, list, int, int, dict[int, str], InputError | None] | None:
    """(leading blank rows, grid of the next rows, header start, height, {position: column},
    error) — the header among the first rows after leading blank ones; None for an empty sheet.
    `error` is the missing-required-columns refusal (shared by `doisoat run` and `clean`)."""
    where = path.name if sheet is None else f"{path.name}, trang '{sheet}'"
    lead: list = []
    first = None
    for cells in rows:
        if any(c for c in cells):
            first = cells
            break
        lead.append(cells)
    if first is None:
        return None
    grid = [first, *islice(rows, HEADER_SCAN_ROWS + 1)]
    start, height, found = find_header(grid, columns, index)
    missing = [n for n in need if n not in found.values()]
    error = None
    if missing:
        header_cells = [c for c in (grid[start] if found else grid[0]) if c]
        error = _missing_columns_error(
            where,
            columns,
            need,
            missing,
            header_cells,
            matched=len(found),
            row=row_number(grid[start] if found else grid[0], len(lead) + (start if found else 0)),
        )
    return lead, grid, start, height, found, error
