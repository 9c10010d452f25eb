"""`audit reconcile` and `audit replay`: Temporal's histories against the store and the code."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from amity.audit_cli.common import (
    open_store,
    say,
)
from amity.cli_common import (
    DISCREPANCY,
    FormatOption,
    JsonFlag,
    UserError,
    fail,
    friendly,
    print_json,
    wants_json,
)
from amity.progress import progress
from runtime.settings import get_settings


@friendly
def reconcile_command(
    partnership_id: Annotated[
        str | None, typer.Argument(help="The partnership (workflow) id")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every partnership")] = False,
    query: Annotated[
        str | None,
        typer.Option("--query", help="With --all: narrow by a visibility query"),
    ] = None,
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """Check that Temporal's history and the event store agree, per partnership.

    Exit 0: they agree; 1: a discrepancy (listed); 2: it could not be checked."""
    as_json = wants_json(as_json, format)
    if (partnership_id is None) == (not all_):
        raise UserError("give a partnership ID or --all (not both)")
    if query and not all_:
        raise UserError("--query goes with --all")
    from dataclasses import asdict

    from amity.cli_common import run
    from audit.export import partnership_ids as stored_ids
    from audit.reconcile import Reconciliation, partnership_ids, reconcile
    from runtime.connect import connect

    store = open_store()

    async def main() -> list[Reconciliation]:
        client = await connect(get_settings())
        if partnership_id is not None:
            ids = [partnership_id]
        else:
            ids = await partnership_ids(client, query)
            if not query:  # partnerships the store knows but Temporal does not
                ids += [pid for pid in stored_ids(store) if pid not in ids]
        reports = []
        with progress("reconciling", len(ids), quiet=as_json) as advance:
            for pid in ids:
                try:
                    reports.append(await reconcile(client, store, pid))
                except LookupError as error:
                    raise UserError(str(error)) from None
                advance(len(reports))
        return reports

    reports = run(main())
    bad = [r for r in reports if not r.ok]
    if as_json:
        print_json([{**asdict(r), "ok": r.ok} for r in reports])
    else:
        for r in reports:
            head = (
                f"{r.partnership_id}: {'OK' if r.ok else 'DISCREPANCY'} ({r.runs} run(s),"
                f" {r.commands} recorded command(s), {r.events} stored event(s);"
                f" {r.updates} update(s), {r.signals} signal(s), {r.timers} timer(s))"
            )
            say(head)
            for kind, lines in (
                ("missing", r.missing),
                ("extra", r.extra),
                ("different", r.different),
                ("note", r.notes),
            ):
                for line in lines:
                    say(f"  {kind}: {line}")
    if bad:
        fail(
            f"{len(bad)} of {len(reports)} partnership(s) disagree: "
            + ", ".join(r.partnership_id for r in bad),
            code=DISCREPANCY,
        )
    if not reports and not as_json:
        say("no partnerships found")


# -- read models -------------------------------------------------------------------------


@friendly
def replay_command(
    projections: Annotated[
        bool, typer.Option("--projections", help="Rebuild the read models from the log")
    ] = False,
    workflows: Annotated[
        bool,
        typer.Option("--workflows", help="Replay workflow histories against the current code"),
    ] = False,
    query: Annotated[
        str | None, typer.Option("--query", help="With --workflows: a visibility query")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild read models from the event log; replay workflow histories against the code."""
    if not (projections or workflows):
        raise UserError("say what to replay: --projections and/or --workflows")
    failed = False
    result: dict[str, Any] = {}
    if projections:
        from audit.projections import ReadModels

        models = ReadModels(open_store())
        models.reset()
        total = models.pending()
        with progress("rebuilding read models", total, quiet=as_json) as advance:
            applied = models.catch_up(progress=lambda done, _pos: advance(done))
        result["projections"] = {"events": applied, "position": models.position()}
        if not as_json:
            say(f"read models rebuilt from {applied} events (position {models.position()})")
    if workflows:
        from amity.cli_common import run
        from audit.replay import replay_live_workflows
        from runtime.connect import connect

        async def main() -> Any:
            client = await connect(get_settings())
            return await replay_live_workflows(client, query)

        with progress("replaying workflow histories", quiet=as_json):
            report = run(main())
        result["workflows"] = {"replayed": report.replayed, "failures": list(report.failures)}
        if not as_json:
            say(f"replayed {report.replayed} workflow histories: {len(report.failures)} failure(s)")
            for failure in report.failures:
                say(f"  FAIL {failure}")
        failed = bool(report.failures)
    if as_json:
        print_json(result)
    if failed:
        fail("workflow histories do not replay against the current code", code=DISCREPANCY)
