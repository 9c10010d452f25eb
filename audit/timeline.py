"""A partnership's history drawn on a date axis (inline SVG), with a section per year.

Events sit where their date puts them, so a partnership that went quiet for two years shows
two years of empty axis (a hatched "quiet" band over any gap longer than `QUIET`), and the
stage bands under the marks show how long it stayed dormant. Events on the same day are
stacked, never hidden. A long history stays readable: the overview shows every event at
once, then each year opens in a `<details>` of its own with a month axis and its events.

Everything here works from `Mark`s already folded from the history (one pass, by the
caller); it never reads the store. Every string that came from the store is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from audit.html_page import stage_colour

#: A gap between two events longer than this is drawn as a quiet band.
QUIET = timedelta(days=90)
WIDTH = 1000
LEFT, RIGHT = 24, 24
LANE = 13  # vertical distance between stacked marks
MAX_LANES = 6
#: Histories with at most this many events open every year; longer ones the latest only.
OPEN_ALL_UP_TO = 60


@dataclass(frozen=True)
class Mark:
    """One event as the timeline draws it: where (`when`), what, and the stage it led to."""

    version: int
    type: str
    when: datetime
    stage: str
    title: str


Scale = Callable[[datetime], float]


def _scale(start: datetime, end: datetime, x0: float, x1: float) -> Scale:
    span = (end - start).total_seconds() or 1.0

    def x(when: datetime) -> float:
        return x0 + (when - start).total_seconds() / span * (x1 - x0)

    return x


def _lanes(xs: Sequence[float], gap: float) -> list[int]:
    """A lane per mark so marks closer than `gap` stack instead of covering each other."""
    last: list[float] = []
    lanes = []
    for i, x in enumerate(xs):
        for lane, previous in enumerate(last):
            if abs(x - previous) >= gap:
                last[lane] = x
                lanes.append(lane)
                break
        else:
            if len(last) < MAX_LANES:
                last.append(x)
                lanes.append(len(last) - 1)
            else:
                lane = i % MAX_LANES
                last[lane] = x
                lanes.append(lane)
    return lanes


def _add_months(when: datetime, months: int) -> datetime:
    index = when.year * 12 + when.month - 1 + months
    return when.replace(year=index // 12, month=index % 12 + 1, day=1)


#: (unit, step, days it covers about): the first that gives at most 12 ticks is used.
_STEPS = [
    ("day", 1, 1.0),
    ("day", 7, 7.0),
    ("month", 1, 30.44),
    ("month", 3, 91.3),
    ("month", 6, 182.6),
    ("year", 1, 365.25),
    ("year", 2, 730.5),
    ("year", 5, 1826.0),
    ("year", 10, 3652.5),
    ("year", 25, 9131.0),
    ("year", 100, 36525.0),
]


def ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """Calendar-aligned ticks between `start` and `end` (days, months or years), with labels."""
    days = (end - start).total_seconds() / 86400
    unit, step, _ = next((s for s in _STEPS if days / s[2] <= 12), _STEPS[-1])
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    found: list[tuple[datetime, str]] = []
    if unit == "day":
        tick = midnight
        while tick <= end:
            if tick >= start:
                found.append((tick, f"{tick:%Y-%m-%d}"))
            tick += timedelta(days=step)
    elif unit == "month":
        tick = midnight.replace(day=1, month=(start.month - 1) // step * step + 1)
        while tick <= end:
            if tick >= start:
                found.append((tick, f"{tick:%b %Y}"))
            tick = _add_months(tick, step)
    else:
        tick = midnight.replace(year=start.year // step * step, month=1, day=1)
        while tick <= end:
            if tick >= start:
                found.append((tick, f"{tick.year}"))
            tick = tick.replace(year=tick.year + step)
    return found


def _duration(gap: timedelta) -> str:
    days = gap.days
    if days >= 730:
        return f"{days / 365.25:.1f} years"
    if days >= 61:
        return f"{round(days / 30.44)} months"
    return f"{days} days"


def _runs(marks: Sequence[Mark]) -> list[tuple[str, int, int]]:
    """Stage runs as (stage, first mark index, index of the mark that ended it or len)."""
    runs: list[tuple[str, int, int]] = []
    for i, mark in enumerate(marks):
        if not runs or runs[-1][0] != mark.stage:
            if runs:
                runs[-1] = (runs[-1][0], runs[-1][1], i)
            runs.append((mark.stage, i, len(marks)))
    return runs


def _band(x0: float, x1: float, y: float, stage: str, text: str) -> str:
    width = max(x1 - x0, 2.0)
    return (
        f'<rect class="band" data-stage="{escape(stage)}" x="{x0:.1f}" y="{y}"'
        f' width="{width:.1f}" height="12" fill="{stage_colour(stage)}">'
        f"<title>{escape(text)}</title></rect>"
    )


def _mark(mark: Mark, x: float, y: float, radius: int, css: str, label: str) -> str:
    return (
        f'<g class="{css}" data-version="{mark.version}" data-type="{escape(mark.type)}"'
        f' data-date="{mark.when:%Y-%m-%d}" data-stage="{escape(mark.stage)}" data-x="{x:.1f}">'
        f"<title>{escape(mark.title)}</title>"
        f'<circle cx="{x:.1f}" cy="{y}" r="{radius}" fill="#fff"'
        f' stroke="{stage_colour(mark.stage)}" stroke-width="3"/>{label}</g>'
    )


def _axis(scale: Scale, ticks_: list[tuple[datetime, str]], y: float, x0: float, x1: float) -> str:
    parts = [f'<line x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" stroke="#1d2f4a" stroke-width="1.5"/>']
    for when, label in ticks_:
        x = scale(when)
        parts.append(
            f'<g class="tick" data-date="{when:%Y-%m-%d}"><line x1="{x:.1f}" y1="{y - 4}"'
            f' x2="{x:.1f}" y2="{y + 4}" stroke="#1d2f4a"/><text x="{x:.1f}" y="{y + 17}"'
            f' font-size="11" text-anchor="middle" fill="#46536a">{escape(label)}</text></g>'
        )
    return "".join(parts)


HATCH = (
    '<defs><pattern id="quiet-hatch" width="8" height="8" patternUnits="userSpaceOnUse"'
    ' patternTransform="rotate(45)"><rect width="8" height="8" fill="#fbf3dc"/>'
    '<line x1="0" y1="0" x2="0" y2="8" stroke="#e8d6a0" stroke-width="3"/></pattern></defs>'
)


def overview_svg(svg_id: str, marks: Sequence[Mark]) -> str:
    """The whole history on one date axis: stage bands, quiet gaps, one mark per event."""
    if not marks:
        return ""
    first, last = marks[0].when, marks[-1].when
    for mark in marks:
        first, last = min(first, mark.when), max(last, mark.when)
    span = max(last - first, timedelta(days=1))
    start, end = first - span * 0.02, last + span * 0.02
    if last - first < timedelta(days=1):
        start, end = first - timedelta(hours=12), first + timedelta(hours=12)
    scale = _scale(start, end, LEFT, WIDTH - RIGHT)
    xs = [scale(m.when) for m in marks]
    lanes = _lanes(xs, 12)
    depth = max(lanes) + 1
    band_y, mark_y = 30, 60
    axis_y = mark_y + (depth - 1) * LANE + 16
    height = axis_y + 28
    parts = [
        f'<svg class="timeline-svg" id="{escape(svg_id)}" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-label="timeline from {first:%Y-%m-%d} to {last:%Y-%m-%d}"'
        f' data-start="{first:%Y-%m-%d}" data-end="{last:%Y-%m-%d}">',
        HATCH,
    ]
    for i in range(1, len(marks)):
        gap = marks[i].when - marks[i - 1].when
        if gap >= QUIET:
            x0, x1 = xs[i - 1], xs[i]
            text = f"quiet {_duration(gap)}"
            parts.append(
                f'<g class="quiet" data-days="{gap.days}" data-from="{marks[i - 1].when:%Y-%m-%d}"'
                f' data-to="{marks[i].when:%Y-%m-%d}"><title>{escape(text)}: no event from'
                f" {marks[i - 1].when:%Y-%m-%d} to {marks[i].when:%Y-%m-%d}</title>"
                f'<rect x="{x0 + 6:.1f}" y="{band_y + 14}" width="{max(x1 - x0 - 12, 1):.1f}"'
                f' height="{axis_y - band_y - 18}" fill="url(#quiet-hatch)"/>'
                + (
                    f'<text x="{(x0 + x1) / 2:.1f}" y="{band_y + 27}" font-size="11"'
                    f' text-anchor="middle" fill="#6b5a2a">{escape(text)}</text>'
                    if x1 - x0 > 90
                    else ""
                )
                + "</g>"
            )
    for stage, i, j in _runs(marks):
        x0 = xs[i]
        x1 = xs[j] if j < len(marks) else xs[-1]
        until = f"{marks[j].when:%Y-%m-%d}" if j < len(marks) else "the last event"
        text = f"{stage.replace('_', ' ')} from {marks[i].when:%Y-%m-%d} to {until}"
        parts.append(_band(x0, x1, band_y, stage, text))
        if x1 - x0 > 60:
            parts.append(
                f'<text x="{x0 + 3:.1f}" y="{band_y - 4}" font-size="11" font-weight="600"'
                f' fill="{stage_colour(stage)}">{escape(stage.replace("_", " "))}</text>'
            )
    parts.append(_axis(scale, ticks(start, end), axis_y, LEFT, WIDTH - RIGHT))
    for mark, x, lane in zip(marks, xs, lanes, strict=True):
        parts.append(_mark(mark, x, mark_y + lane * LANE, 5, "event", ""))
    parts.append("</svg>")
    return "".join(parts)


def year_svg(year: int, marks: Sequence[Mark], stage_before: str | None) -> str:
    """One year, January to December: the stage all through it, its events numbered."""
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = datetime(year + 1, 1, 1, tzinfo=UTC)
    scale = _scale(start, end, LEFT, WIDTH - RIGHT)
    xs = [scale(m.when) for m in marks]
    lanes = _lanes(xs, 20)
    depth = max(lanes) + 1 if lanes else 1
    band_y, mark_y = 8, 40
    axis_y = mark_y + (depth - 1) * 20 + 16
    height = axis_y + 26
    parts = [
        f'<svg class="year-svg" data-year="{year}" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="img" aria-label="events of {year}">'
    ]
    edges = [LEFT, *xs, WIDTH - RIGHT]
    stages = [stage_before, *[m.stage for m in marks]]
    for k, stage in enumerate(stages):
        if stage is not None and edges[k + 1] > edges[k]:
            parts.append(_band(edges[k], edges[k + 1], band_y, stage, stage.replace("_", " ")))
    month_ticks = [(start.replace(month=m), f"{start.replace(month=m):%b}") for m in range(1, 13)]
    parts.append(_axis(scale, month_ticks, axis_y, LEFT, WIDTH - RIGHT))
    for mark, x, lane in zip(marks, xs, lanes, strict=True):
        number = (
            f'<text x="{x:.1f}" y="{mark_y + lane * 20 + 3}" font-size="9"'
            f' text-anchor="middle">{mark.version}</text>'
        )
        parts.append(_mark(mark, x, mark_y + lane * 20, 8, "year-event", number))
    parts.append("</svg>")
    return "".join(parts)


def year_groups(marks: Sequence[Mark], rows: Sequence[str], table_head: str) -> str:
    """A `<details>` per year with events: its month axis and its rows of the event table
    (`rows[i]` is the caller's escaped `<tr>` for `marks[i]`); empty years are named."""
    by_year: dict[int, list[int]] = {}
    for i, mark in enumerate(marks):
        by_year.setdefault(mark.when.year, []).append(i)
    years = sorted(by_year)
    open_all = len(marks) <= OPEN_ALL_UP_TO
    parts: list[str] = []
    stage_before: str | None = None
    for n, year in enumerate(years):
        if n and year - years[n - 1] > 1:
            a, b = years[n - 1] + 1, year - 1
            span = f"{a}" if a == b else f"{a}–{b}"
            now = stage_before.replace("_", " ") if stage_before else "unknown"
            parts.append(
                f'<p class="quiet-years" data-years="{span}">No events in {span}'
                f" (stage: {escape(now)}).</p>"
            )
        indexes = by_year[year]
        year_marks = [marks[i] for i in indexes]
        stages = sorted({m.stage for m in year_marks}, key=[m.stage for m in year_marks].index)
        summary = f"{year} · {len(indexes)} event{'s' if len(indexes) != 1 else ''} · " + ", ".join(
            s.replace("_", " ") for s in stages
        )
        opened = " open" if open_all or year == years[-1] else ""
        parts.append(
            f'<details class="year" data-year="{year}"{opened}><summary>{escape(summary)}'
            f"</summary>{year_svg(year, year_marks, stage_before)}"
            f'<table class="events">{table_head}<tbody>'
            + "".join(rows[i] for i in indexes)
            + "</tbody></table></details>"
        )
        stage_before = year_marks[-1].stage
    return "".join(parts)


__all__ = ["Mark", "overview_svg", "ticks", "year_groups", "year_svg"]
