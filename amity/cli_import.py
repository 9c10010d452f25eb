"""`amity import FILE`: the command line of the portfolio import (amity/importer.py)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from amity.cli_common import (
    BAD_INPUT,
    DISCREPANCY,
    JsonFlag,
    UserError,
    console,
    errors,
    print_json,
    run,
)
from amity.portfolio import CONCURRENCY, PortfolioError, read_lines
from amity.progress import progress
from runtime.settings import get_settings

if TYPE_CHECKING:  # the importer (Temporal's client, the domain) loads when a file is imported
    from amity.importer import Checked, Summary

#: Bad rows listed on the terminal (all of them are in --json).
SHOWN_BAD_ROWS = 50


def import_command(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="A portfolio: .csv or .json (docs/import.md)"),
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every row (all bad rows listed); start nothing"),
    ] = False,
    skip_bad: Annotated[
        bool,
        typer.Option("--skip-bad", help="Import the good rows even if some are bad (listed)"),
    ] = False,
    concurrency: Annotated[
        int, typer.Option(min=1, max=64, help="Rows imported at once")
    ] = CONCURRENCY,
    as_json: JsonFlag = False,
) -> None:
    """Import a city's partnerships, each a live workflow holding its real, dated history.

    Running it again changes nothing ("0 created, N already present"); after a crash it sends
    only what is missing. Bad rows stop the import before anything starts (unless
    --skip-bad), all of them listed with their line numbers.
    """
    from amity.importer import Summary, check, run_import, summarise

    started = time.monotonic()
    try:
        lines = read_lines(file)
    except PortfolioError as error:
        raise UserError(str(error)) from None
    checked = check(lines)
    if dry_run or (checked.bad and not skip_bad):
        summary = Summary(rows=len(lines), bad=checked.bad, dry_run=dry_run)
        summary.seconds = time.monotonic() - started
        _report(summary, checked, as_json, stopped=not dry_run)
        if checked.bad:
            raise typer.Exit(BAD_INPUT)
        return
    current = get_settings()

    async def go() -> Summary:
        from runtime.connect import connect

        client = await connect(current)
        with progress("importing", len(checked.plans), quiet=as_json) as advance:
            results = await run_import(
                client, current.task_queue, checked.plans, advance, concurrency
            )
        return summarise(len(lines), checked, results, started)

    summary = run(go())
    _report(summary, checked, as_json, stopped=False)
    if summary.failed:
        raise typer.Exit(DISCREPANCY)


def _report(summary: Summary, checked: Checked, as_json: bool, stopped: bool) -> None:
    if as_json:
        print_json(summary.as_json())
        return
    for bad in checked.bad[:SHOWN_BAD_ROWS]:
        errors.print(f"line {bad.line}: {bad.error}", markup=False, highlight=False)
    if len(checked.bad) > SHOWN_BAD_ROWS:
        errors.print(f"... and {len(checked.bad) - SHOWN_BAD_ROWS} more bad rows (see --json)")
    if summary.dry_run:
        good = summary.rows - len(checked.bad)
        console.print(
            f"dry run: {summary.rows} rows, {good} valid, {len(checked.bad)} bad; nothing started",
            highlight=False,
        )
        return
    if stopped:
        console.print(
            f"{len(checked.bad)} bad of {summary.rows} rows: nothing imported (fix them, or"
            " --skip-bad to import the others)",
            highlight=False,
        )
        return
    for failed in summary.failed:
        errors.print(
            f"line {failed.line}: {failed.partnership_id}: {failed.error}",
            markup=False,
            highlight=False,
        )
    table = Table(show_header=False, title="import")
    table.add_column("what", style="bold")
    table.add_column("rows", justify="right")
    rate = summary.as_json()["rows_per_second"]
    for what, count in (
        ("created", summary.created),
        ("already present", summary.present),
        ("resumed (completed an earlier import)", summary.resumed),
        ("failed", len(summary.failed)),
        ("bad rows skipped", len(checked.bad)),
    ):
        table.add_row(Text(what), str(count))
    console.print(table)
    console.print(
        f"{summary.created} created, {summary.present} already present, {summary.resumed}"
        f" resumed, {len(summary.failed)} failed in {summary.seconds:.1f}s"
        + (f" ({rate} rows/s)" if rate else ""),
        highlight=False,
    )
