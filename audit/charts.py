"""Stacked horizontal bar charts as inline SVG, from plain numbers (no data source here).

A chart is a list of `Bar`s, each made of `Segment`s (a tier, a field, a stage...) with
counts; every segment carries its numbers as data attributes and a `<title>` (the tooltip),
so a reader and a test both see exactly what was drawn. Labels are escaped: they come from
the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from html import escape

PALETTE = (
    "#3c7ac0",
    "#e0923c",
    "#3c9a5f",
    "#b0508a",
    "#7a66c0",
    "#c0b03c",
    "#3cb0b0",
    "#c05050",
    "#7a7a7a",
    "#5a8a3c",
    "#a0703c",
    "#3c5aa0",
)
LABEL_WIDTH = 200
BAR_WIDTH = 560
ROW = 24


@dataclass(frozen=True)
class Segment:
    key: str  # what this part of the bar counts (a tier, a field); the legend's entry
    count: int


@dataclass(frozen=True)
class Bar:
    label: str
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return sum(s.count for s in self.segments)


def colours(keys: Sequence[str], fixed: Mapping[str, str] | None = None) -> dict[str, str]:
    """A colour per key: the fixed one if given, else the palette's next."""
    fixed = fixed or {}
    return {k: fixed.get(k, PALETTE[i % len(PALETTE)]) for i, k in enumerate(keys)}


def legend(keys: Sequence[str], colour: Mapping[str, str]) -> str:
    parts = []
    x = 0
    for key in keys:
        text = key.replace("_", " ")
        parts.append(
            f'<g class="legend-item" data-key="{escape(key)}"><rect x="{x}" y="2" width="12"'
            f' height="12" fill="{colour[key]}"/><text x="{x + 16}" y="12" font-size="12">'
            f"{escape(text)}</text></g>"
        )
        x += 28 + 7 * len(text)
    return (
        f'<svg class="legend" width="{max(x, 1)}" height="18" viewBox="0 0 {max(x, 1)} 18">'
        f"{''.join(parts)}</svg>"
    )


def stacked_bars(
    chart_id: str,
    bars: Sequence[Bar],
    colour: Mapping[str, str],
    *,
    empty: str = "Nothing to show yet.",
) -> str:
    """One row per bar, its segments side by side, the total at its end."""
    if not bars:
        return f'<p class="muted" id="{escape(chart_id)}">{escape(empty)}</p>'
    top = max(b.total for b in bars) or 1
    height = 8 + ROW * len(bars)
    width = LABEL_WIDTH + BAR_WIDTH + 60
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" width="{width}" height="{height}"'
        f' viewBox="0 0 {width} {height}" role="img">'
    ]
    for i, bar in enumerate(bars):
        y = 4 + i * ROW
        parts.append(
            f'<g class="bar" data-label="{escape(bar.label)}" data-total="{bar.total}">'
            f'<text x="{LABEL_WIDTH - 8}" y="{y + 13}" font-size="12" text-anchor="end">'
            f"{escape(bar.label)}</text>"
        )
        x = float(LABEL_WIDTH)
        for segment in bar.segments:
            w = BAR_WIDTH * segment.count / top
            title = f"{bar.label} · {segment.key.replace('_', ' ')}: {segment.count}"
            parts.append(
                f'<rect class="segment" data-key="{escape(segment.key)}"'
                f' data-count="{segment.count}" x="{x:.1f}" y="{y}" width="{w:.1f}" height="16"'
                f' fill="{colour.get(segment.key, "#666")}"><title>{escape(title)}</title></rect>'
            )
            x += w
        parts.append(
            f'<text class="total" x="{x + 6:.1f}" y="{y + 13}" font-size="12">{bar.total}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)
