"""Inline SVG charts written in Python, so the audit report needs no script, CDN or font.

Each function returns one `<svg>` string sized in CSS pixels, with `role="img"` and a
`<title>` so the chart is described for screen readers. Text is escaped; numbers come from
the warehouse aggregates only.
"""

from __future__ import annotations

import math
from html import escape

BLUE, GREEN, ORANGE, RED, GREY, TEAL = "#1f77b4", "#2ca02c", "#ff7f0e", "#d62728", "#7f7f7f", "#17becf"
STATUS_COLORS = {"matched": GREEN, "review": ORANGE, "unmatched": RED, "rejected": GREY, "duplicate": "#9467bd"}


def _svg(width: int, height: int, title: str, body: list[str], cls: str = "chart") -> str:
    return (
        f'<svg class="{cls}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img"><title>{escape(title)}</title>' + "".join(body) + "</svg>"
    )


def _text(
    x: float, y: float, s: str, anchor: str = "start", size: int = 12, color: str = "#222", weight: str = "normal"
) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{color}" '
        f'font-weight="{weight}">{escape(s)}</text>'
    )


def stacked_bar(parts: list[tuple[str, int, str]], title: str, width: int = 860) -> str:
    """One horizontal bar split by outcome (label, count, color); the legend is HTML beside it."""
    total = sum(n for _, n, _ in parts) or 1
    body, x = [], 0.0
    for label, n, color in parts:
        w = width * n / total
        if w > 0:
            body.append(
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="28" fill="{color}">'
                f"<title>{escape(label)}: {n:,}</title></rect>"
            )
            if w > 60:
                body.append(_text(x + w / 2, 19, f"{n / total:.1%}", "middle", 12, "#fff", "bold"))
        x += w
    return _svg(width, 30, title, body)


def hbar_targets(
    rows: list[tuple[str, float | None, float | None]], title: str, width: int = 860, label_w: int = 300
) -> str:
    """Horizontal bars of shares 0..1 with the target drawn as a dark tick (label, value, target)."""
    bar_h, gap = 18, 8
    height = len(rows) * (bar_h + gap) + 30
    plot = width - label_w - 70
    body = [_text(label_w, 12, "0 %", "middle", 10, GREY), _text(label_w + plot, 12, "100 %", "middle", 10, GREY)]
    for i, (label, value, target) in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        body.append(_text(label_w - 8, y + 13, label[:48], "end", 12))
        body.append(f'<rect x="{label_w}" y="{y}" width="{plot}" height="{bar_h}" fill="#eee"/>')
        if value is not None:
            color = (
                GREY if target is None else (GREEN if abs(value - target) < 1e-9 else (RED if target == 0 else BLUE))
            )
            body.append(
                f'<rect class="bar" x="{label_w}" y="{y}" width="{plot * min(max(value, 0), 1):.1f}" '
                f'height="{bar_h}" fill="{color}"><title>{escape(label)}: {value:.2%}</title></rect>'
            )
            body.append(_text(label_w + plot + 6, y + 13, f"{value:.1%}", size=11))
        if target is not None:
            tx = label_w + plot * target
            body.append(
                f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y - 3}" y2="{y + bar_h + 3}" stroke="#000" stroke-width="2"/>'
            )
    return _svg(width, height, title, body)


def stacked_hbars(
    rows: list[tuple[str, list[tuple[float, str, str]]]], title: str, width: int = 860, label_w: int = 300
) -> str:
    """Per unit, shares stacked left to right (label, [(share, color, part label)]), target 100 %."""
    bar_h, gap = 16, 6
    height = len(rows) * (bar_h + gap) + 30
    plot = width - label_w - 70
    body = [
        _text(label_w, 12, "0 %", "middle", 10, GREY),
        _text(label_w + plot, 12, "100 % (mục tiêu)", "end", 10, GREY),
    ]
    for i, (label, parts) in enumerate(rows):
        y = 20 + i * (bar_h + gap)
        body.append(_text(label_w - 8, y + 12, label[:48], "end", 11))
        body.append(f'<rect x="{label_w}" y="{y}" width="{plot}" height="{bar_h}" fill="#eee"/>')
        x = float(label_w)
        for share, color, part in parts:
            w = plot * max(share, 0)
            body.append(
                f'<rect class="bar" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{color}">'
                f"<title>{escape(label)} — {escape(part)}: {share:.1%}</title></rect>"
            )
            x += w
        body.append(_text(label_w + plot + 6, y + 12, f"{sum(s for s, _, _ in parts):.0%}", size=11))
    body.append(
        f'<line x1="{label_w + plot}" x2="{label_w + plot}" y1="14" y2="{height - 8}" stroke="#000" stroke-width="2"/>'
    )
    return _svg(width, height, title, body)


def histogram(
    values_by_status: dict[str, list[float]],
    thresholds: list[tuple[float, str, str]],
    title: str,
    width: int = 860,
    height: int = 260,
) -> str:
    """Histogram of match weights (one-unit bins) stacked by outcome, thresholds as dashed lines."""
    all_values = [v for vs in values_by_status.values() for v in vs]
    marks = [t for t, _, _ in thresholds]
    lo = math.floor(min(all_values + marks, default=-10)) - 1
    hi = math.ceil(max(all_values + marks, default=10)) + 1
    bins = list(range(lo, hi))
    counts = {s: [0] * len(bins) for s in values_by_status}
    for s, vs in values_by_status.items():
        for v in vs:
            counts[s][min(max(int(math.floor(v)) - lo, 0), len(bins) - 1)] += 1
    top = max((sum(counts[s][i] for s in counts) for i in range(len(bins))), default=1) or 1
    left, bottom, plot_h = 50, 40, height - 70
    plot_w = width - left - 20
    bw = plot_w / len(bins)
    sx = lambda w: left + (w - lo) * bw  # noqa: E731
    body = [f'<line x1="{left}" x2="{left + plot_w}" y1="{height - bottom}" y2="{height - bottom}" stroke="#444"/>']
    for i, b in enumerate(bins):
        base = height - bottom
        for s, cs in counts.items():
            n = cs[i]
            if n:
                h = plot_h * n / top
                base -= h
                body.append(
                    f'<rect class="bar" x="{sx(b) + 0.5:.1f}" y="{base:.1f}" width="{max(bw - 1, 1):.1f}" '
                    f'height="{h:.1f}" fill="{STATUS_COLORS.get(s, BLUE)}"><title>[{b}, {b + 1}): {n:,}</title></rect>'
                )
        if (b - lo) % max(1, len(bins) // 15) == 0:
            body.append(_text(sx(b), height - bottom + 14, str(b), "middle", 10, GREY))
    body.append(_text(left + plot_w / 2, height - 8, "Điểm khớp (log₂ tỷ số khả năng)", "middle", 11))
    body.append(_text(left - 6, 24, f"{top:,}", "end", 10, GREY))
    for i, (t, label, color) in enumerate(sorted(thresholds)):
        x = sx(t)
        body.append(
            f'<line class="threshold" x1="{x:.1f}" x2="{x:.1f}" y1="18" y2="{height - bottom}" '
            f'stroke="{color}" stroke-width="2" stroke-dasharray="6 3"/>'
        )
        # the lower threshold is labelled to the left of its line, the higher to the right
        anchor, dx = ("end", -4) if i == 0 and len(thresholds) > 1 else ("start", 4)
        body.append(_text(x + dx, 14, f"{label} ({t:.1f})", anchor, 11, color, "bold"))
    return _svg(width, height, title, body)


def waterfall(steps: list[tuple[str, float, str]], total_label: str, title: str, width: int = 620) -> str:
    """Running sum of partial weights (label, weight, level label), ending in the total score."""
    bar_h, gap, label_w = 18, 6, 230
    running, spans = 0.0, []
    for label, w, level in steps:
        spans.append((label, running, running + w, w, level))
        running += w
    lo = min([0.0, running] + [min(a, b) for _, a, b, _, _ in spans])
    hi = max([0.0, running] + [max(a, b) for _, a, b, _, _ in spans])
    span = (hi - lo) or 1.0
    plot = width - label_w - 60
    sx = lambda v: label_w + plot * (v - lo) / span  # noqa: E731
    height = (len(spans) + 1) * (bar_h + gap) + 16
    body = [f'<line x1="{sx(0):.1f}" x2="{sx(0):.1f}" y1="4" y2="{height - 4}" stroke="#999" stroke-dasharray="2 2"/>']
    for i, (label, a, b, w, level) in enumerate(spans):
        y = 6 + i * (bar_h + gap)
        x0, x1 = sorted((sx(a), sx(b)))
        color = GREEN if w > 0 else (RED if w < 0 else GREY)
        body.append(_text(label_w - 8, y + 13, f"{label}: {level}"[:34], "end", 11))
        body.append(
            f'<rect class="bar" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar_h}" fill="{color}">'
            f"<title>{escape(label)} ({escape(level)}): {w:+.2f}</title></rect>"
        )
        body.append(_text(max(x0, x1) + 4, y + 13, f"{w:+.2f}", size=10, color="#444"))
    y = 6 + len(spans) * (bar_h + gap)
    x0, x1 = sorted((sx(0), sx(running)))
    body.append(_text(label_w - 8, y + 13, total_label, "end", 11, weight="bold"))
    body.append(
        f'<rect class="bar" x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="{bar_h}" fill="{BLUE}"/>'
    )
    body.append(_text(max(x0, x1) + 4, y + 13, f"{running:.2f}", size=11, weight="bold"))
    return _svg(width, height, title, body, cls="chart waterfall")
