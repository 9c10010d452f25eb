"""The portfolio page (`amity audit stats --format html`): the read models as charts.

`figures` turns the read models' numbers into bars and knows nothing of drawing;
`audit.charts` draws bars and knows nothing of partnerships. Where the numbers come from
(today `ReadModels.stats()`, in the order it returns them) can change without touching
either.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from audit.charts import Bar, Segment, colours, legend, stacked_bars
from audit.html_page import STAGE_COLOURS, STAGE_ORDER, page
from audit.projections import Stats
from audit.report import generated
from domain.values import FieldOfCooperation, Tier

TIER_ORDER = tuple(t.value for t in Tier)
FIELD_ORDER = tuple(f.value for f in FieldOfCooperation)
#: The busiest cities drawn; the rest are counted in a note.
MOST_CITIES = 40


@dataclass(frozen=True)
class Figure:
    chart_id: str
    title: str
    note: str
    keys: tuple[str, ...]  # legend entries, in order
    bars: tuple[Bar, ...]
    fixed_colours: dict[str, str] | None = None
    legend: bool = True  # off where the bars' own labels name the keys


def _ordered(found: set[str], order: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(k for k in order if k in found) + tuple(sorted(found - set(order)))


def figures(stats: Stats) -> list[Figure]:
    """The three charts' numbers: in force per city and tier, pipeline, exchanges per year."""
    per_city: dict[str, dict[str, int]] = {}
    for row in stats.in_force:
        city = f"{row['city']} ({row['country']})"
        by_tier = per_city.setdefault(city, {})
        by_tier[row["tier"]] = by_tier.get(row["tier"], 0) + int(row["count"])
    tiers = _ordered({t for c in per_city.values() for t in c}, TIER_ORDER)
    cities = sorted(per_city.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    shown = cities[:MOST_CITIES]
    rest = len(cities) - len(shown)
    in_force = Figure(
        "chart-in-force",
        "Partnerships in force (active or dormant) per city and tier",
        f"Each partnership counts for both its cities. {rest} more cities not drawn."
        if rest
        else "Each partnership counts for both its cities.",
        tiers,
        tuple(
            Bar(city, tuple(Segment(t, counts[t]) for t in tiers if counts.get(t)))
            for city, counts in shown
        ),
    )
    stages = _ordered(set(stats.pipeline), STAGE_ORDER)
    pipeline = Figure(
        "chart-pipeline",
        "Pipeline by stage",
        "Every partnership, by its current stage.",
        stages,
        tuple(
            Bar(s.replace("_", " "), (Segment(s, stats.pipeline[s]),))
            for s in stages
            if stats.pipeline[s]
        ),
        STAGE_COLOURS,
        legend=False,
    )
    per_year: dict[int, dict[str, int]] = {}
    for row in stats.exchanges:
        by_field = per_year.setdefault(int(row["year"]), {})
        by_field[row["field"]] = by_field.get(row["field"], 0) + int(row["count"])
    fields = _ordered({f for y in per_year.values() for f in y}, FIELD_ORDER)
    exchanges = Figure(
        "chart-exchanges",
        "Exchanges by field and year",
        "Exchanges recorded, by the year they took place.",
        fields,
        tuple(
            Bar(str(year), tuple(Segment(f, counts[f]) for f in fields if counts.get(f)))
            for year, counts in sorted(per_year.items())
        ),
    )
    return [in_force, pipeline, exchanges]


def render_portfolio(stats: Stats) -> str:
    sections = []
    for figure in figures(stats):
        colour = colours(figure.keys, figure.fixed_colours)
        sections.append(
            f'<section class="chart" data-chart="{figure.chart_id}"><h2>{escape(figure.title)}'
            f'</h2><p class="muted">{escape(figure.note)}</p>'
            + (f"<div>{legend(figure.keys, colour)}</div>" if figure.legend and figure.keys else "")
            + f"<div>{stacked_bars(figure.chart_id, figure.bars, colour)}</div>"
            + "</section>"
        )
    total = sum(stats.pipeline.values())
    header = (
        f"<div>{total} partnership(s) · read models at log position {stats.position}"
        f" · generated {generated()}</div>"
    )
    return page("Amity portfolio", header, "".join(sections))
