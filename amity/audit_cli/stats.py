"""`audit stats`: the portfolio from the read models, now or as in effect on a date."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from amity.audit_cli.common import (
    open_store,
    say,
)
from amity.cli_common import (
    JsonFlag,
    UserError,
    console,
    friendly,
    print_json,
)
from amity.progress import progress

if TYPE_CHECKING:
    from store.application import PartnershipStore


def pipeline_form_table(form: dict[str, int]) -> Table:
    """The pipeline as a provincial foreign-affairs office reports it (audit/pipeline.py)."""
    table = Table(title="Pipeline (report form)")
    table.add_column("stage")
    table.add_column("partnerships", justify="right")
    for row, count in form.items():
        table.add_row(row, str(count))
    table.add_row("total", str(sum(form.values())), style="bold")
    return table


def _stats_on(store: PartnershipStore, ids: list[str], on: str, as_json: bool) -> None:
    from audit.asof import AsOfError, parse_moment
    from audit.on_date import portfolio_on, states_on

    try:
        moment = parse_moment(on, "--on")
    except AsOfError as error:
        raise UserError(str(error)) from None
    with progress("folding histories", len(ids), quiet=as_json):
        found = portfolio_on(states_on(store, ids, moment))
    if as_json:
        print_json({"on": on, **found})
        return
    cities = Table(title=f"In force on {on} per city and tier")
    for column in ("city", "country", "tier", "partnerships"):
        cities.add_column(column)
    for row in found["in_force_by_city_and_tier"]:
        cities.add_row(Text(row["city"]), row["country"], row["tier"], str(row["count"]))
    console.print(cities)
    console.print(pipeline_form_table(found["pipeline_form"]))


class StatsFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


@friendly
def stats_command(
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            help="As in effect on this date (effective dates): in force per city and tier,"
            " and the report's pipeline",
        ),
    ] = None,
    as_json: JsonFlag = False,
    format: Annotated[
        StatsFormat | None,
        typer.Option("--format", help="table (default), json, or html: a page of charts"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The HTML page to write (with --format html)")
    ] = None,
) -> None:
    """Partnerships in force per city and tier, the pipeline by stage, exchanges by field/year."""
    from audit.projections import ReadModels

    html = format is StatsFormat.html
    if html and out is None:
        raise UserError("--format html writes a page: give --out FILE.html")
    if out is not None and not html:
        raise UserError("--out is for --format html")
    if out is not None and out.parent and not out.parent.exists():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    as_json = as_json or format is StatsFormat.json
    store = open_store()
    models = ReadModels(store)
    with progress("catching up the read models", models.pending(), quiet=as_json) as advance:
        models.catch_up(progress=lambda done, _pos: advance(done))  # resume where they stopped
    if on is not None:
        _stats_on(store, models.partnership_ids(), on, as_json)
        return
    stats = models.stats()
    if html and out is not None:
        from audit.portfolio import render_portfolio

        out.write_text(render_portfolio(stats), encoding="utf-8")
        if as_json:
            print_json({"out": str(out), "format": "html", "position": stats.position})
        else:
            say(f"wrote {out}: the portfolio at log position {stats.position}")
        return
    if as_json:
        print_json(stats.as_json())
        return
    cities = Table(title="In force (active or dormant) per city and tier")
    for column in ("city", "country", "tier", "partnerships"):
        cities.add_column(column)
    for row in stats.in_force:
        cities.add_row(Text(row["city"]), row["country"], row["tier"], str(row["count"]))
    pipeline = Table(title="Pipeline by stage")
    pipeline.add_column("stage")
    pipeline.add_column("partnerships", justify="right")
    for stage, count in stats.pipeline.items():
        pipeline.add_row(stage, str(count))
    form = pipeline_form_table(stats.form)
    exchanges = Table(title="Exchanges by field and year")
    for column in ("year", "field", "exchanges"):
        exchanges.add_column(column)
    for row in stats.exchanges:
        exchanges.add_row(str(row["year"]), row["field"], str(row["count"]))
    for table in (cities, pipeline, form, exchanges):
        console.print(table)
    say(f"read models at position {stats.position}")
