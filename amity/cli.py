"""`amity`: run the engine, start and steer partnerships, read their state and history.

Every user mistake (bad file, bad JSON, unknown command or id, a refused command, an
unreachable Temporal) ends with ONE line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from amity import commands
from amity.cli_audit import app as audit_app
from amity.cli_audit import history_table
from amity.cli_common import UserError, console, fail, friendly, read_json_object, run
from amity.render import list_table, print_json, send_view, status_view
from domain.values import Stage, Tier
from runtime.connect import connect
from runtime.settings import Settings, get_settings


class OneLineErrors(TyperGroup):
    """Click's standalone mode prints a usage panel for a bad option or argument; ours prints
    one line (`amity: send: No such option: -x (see amity send --help)`) and exits 2, on the
    console script and under CliRunner alike."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            try:
                code = super().main(args, prog_name, complete_var, False, **extra)
            except NoArgsIsHelpError as error:
                print(error.format_message())  # `amity` alone: the help, not an error
                code = 0
            except UsageError as error:
                _usage_error(error)
            except typer.TyperException as error:
                fail(error.format_message(), error.exit_code)
            except typer.Abort:
                fail("aborted", 130)
        except typer.Exit as error:
            code = error.exit_code
        sys.exit(code if isinstance(code, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="amity",
    help=(
        "Amity: city partnerships (friendly relations, friendship cities, sister cities) as"
        " long-lived Temporal workflows with an event-sourced audit trail.\n\n"
        "Start the embedded engine with `amity up`, then `amity demo` in another shell."
        " Commands reach Temporal at TEMPORAL_ADDRESS (default localhost:7233), namespace"
        " TEMPORAL_NAMESPACE, task queue AMITY_TASK_QUEUE (default partnerships); the audit"
        " trail is read from AMITY_EVENT_STORE_URL (default sqlite:///var/events.db)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
app.add_typer(audit_app, name="audit")


@app.callback()
def _fresh_settings() -> None:
    """Read the environment anew for every command (tests run several in one process)."""
    get_settings.cache_clear()


def settings() -> Settings:
    return get_settings()


JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print one JSON object for scripts instead of a summary")
]


# -- the engine ---------------------------------------------------------------------------


@app.command()
@friendly
def up(
    port: Annotated[
        int, typer.Option(min=1, max=65535, help="Temporal's gRPC port (clients and workers)")
    ] = 7233,
    ui_port: Annotated[
        int, typer.Option("--ui-port", min=1, max=65535, help="Port of Temporal's Web UI")
    ] = 8233,
    http_port: Annotated[
        int | None,
        typer.Option(
            "--http-port",
            min=1,
            max=65535,
            help="Open Temporal's HTTP API on this port (integrations). Off by default: any web"
            " page the user visits could POST commands to it",
        ),
    ] = None,
    ui_codec_endpoint: Annotated[
        str | None,
        typer.Option(
            "--ui-codec-endpoint",
            help="The Web UI decodes payloads through this codec server, e.g."
            " http://127.0.0.1:8081/<AMITY_CODEC_TOKEN> (everyone who can open the UI then"
            " reads plaintext)",
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            help="Folder for temporal.db (Temporal's state), events.db (the event store, unless"
            " AMITY_EVENT_STORE_URL is set) and temporal.log",
        ),
    ] = Path("var"),
) -> None:
    """Run the embedded engine: a Temporal dev server (with Web UI) plus one worker.

    Ctrl-C (or SIGTERM) stops the worker and the server and leaves no process behind.
    A port already in use is a one-line error.
    """
    from amity.up import up as run_up

    code = run_up(port, ui_port, data_dir, http_port, ui_codec_endpoint)
    if code:
        raise typer.Exit(code)


@app.command()
@friendly
def worker() -> None:
    """Run a worker only (same as `python worker.py`), for an engine that runs elsewhere.

    Uses TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, AMITY_TASK_QUEUE and AMITY_EVENT_STORE_URL.
    Ctrl-C stops it.
    """
    import worker as worker_module

    worker_module.main()


@app.command()
@friendly
def forget(
    person: Annotated[str, typer.Argument(help="The person's name, as recorded")],
    store_only: Annotated[
        bool,
        typer.Option(
            "--store-only",
            help="Only the store: no engine runs (running workflows are not told)",
        ),
    ] = False,
) -> None:
    """Crypto-shred one person: their key becomes a tombstone, so their name reads as
    [forgotten] and is never sealed again; running partnerships holding it are told.

    Needs a store written with AMITY_PERSONAL_DATA_KEYS=on. The history keeps its shape
    and `amity audit verify` still passes (the stored bytes do not change). Safe to run
    again (e.g. after the engine was unreachable).
    """
    from amity.privacy import Told, UnknownPerson, tell_workflows
    from amity.privacy import forget as forget_person
    from runtime.settings import open_store

    current = settings()
    store = open_store(settings=current)
    try:
        try:
            done = forget_person(store, person)
        except UnknownPerson as error:
            raise UserError(str(error)) from None
        console.print(
            ("already forgotten" if done.already else "forgotten")
            + ": the key is a tombstone, the name reads as [forgotten]"
            f" (read models rebuilt from {done.read_model_events} events)",
            markup=False,
        )
        if store_only:
            return

        async def go() -> Told:
            from runtime.connect import EngineUnreachable

            try:
                client = await connect(current)
            except EngineUnreachable as error:
                raise UserError(
                    f"{error}; the store has forgotten the person but running partnerships"
                    " were not told: run `amity forget` again when the engine is up"
                    " (--store-only if no engine runs)"
                ) from None
            return await tell_workflows(client, store, person)

        told = run(go())
    finally:
        store.close()
    console.print(
        f"running partnerships: {told.checked} checked, {len(told.told)} told to forget"
        + (
            f" ({len(told.unanswered)} did not answer and were told anyway)"
            if told.unanswered
            else ""
        ),
        markup=False,
    )


@app.command("codec-server")
def codec_server(
    port: Annotated[int, typer.Option(help="Port to listen on")] = 8081,
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    origin: Annotated[
        list[str] | None,
        typer.Option(help="Allowed Web UI origin (repeatable; default the one `amity up` prints)"),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Another Host header the browser sends, as host:port (repeatable; 127.0.0.1,"
            " localhost and [::1] on --port are always allowed)",
        ),
    ] = None,
    max_body: Annotated[
        int, typer.Option("--max-body", min=1, help="Largest request body in bytes (else 413)")
    ] = 6 * 1024 * 1024,
    read_timeout: Annotated[
        float,
        typer.Option("--read-timeout", min=0.1, help="Seconds a client has to send its request"),
    ] = 10.0,
) -> None:
    """Temporal's remote codec endpoint (/encode, /decode) for the Web UI, keyed by
    AMITY_PAYLOAD_KEY and guarded by AMITY_CODEC_TOKEN: give the UI the endpoint
    http://127.0.0.1:8081/<AMITY_CODEC_TOKEN> (see docs/encryption.md)."""
    from amity.codec_server import main as serve

    args = ["--port", str(port), "--host", host, "--max-body", str(max_body)]
    args += ["--read-timeout", str(read_timeout)]
    for allowed in origin or []:
        args += ["--origin", allowed]
    for name in allowed_host or []:
        args += ["--allowed-host", name]
    code = serve(args)
    if code:
        raise typer.Exit(code)


# -- partnerships -------------------------------------------------------------------------


@app.command()
@friendly
def start(
    file: Annotated[
        Path,
        typer.Argument(metavar="FILE.json", help="The proposal: one JSON object ('-' reads stdin)"),
    ],
    partnership_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Partnership (workflow) id; default partnership-<initiator>-<partner>",
        ),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Start a partnership from a proposal file (checked here first; see examples/proposal.json)."""
    payload = read_json_object(file)
    current = settings()

    async def go() -> dict[str, str]:
        commands.check_proposal(payload, str(file))  # before connecting: a bad file is local
        client = await connect(current)
        return await commands.start(client, current.task_queue, payload, partnership_id, str(file))

    started = run(go())
    if as_json:
        print_json(started)
        return
    console.print(
        f"started [bold]{started['partnership_id']}[/bold] (run {started['run_id']})"
        f" on task queue {started['task_queue']}",
        highlight=False,
    )


@app.command()
@friendly
def send(
    partnership_id: Annotated[str, typer.Argument(metavar="ID", help="The partnership id")],
    command: Annotated[
        str,
        typer.Argument(
            metavar="COMMAND",
            help="open_talks, record_meeting, draft_memorandum, record_approval,"
            " sign_memorandum, record_exchange, extend_invitation, answer_invitation, upgrade,"
            " renew, correct, withdraw or terminate",
        ),
    ],
    file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[FILE.json]", help="The payload: one JSON object ('-' reads stdin)"
        ),
    ] = None,
    data: Annotated[
        str | None, typer.Option("--data", help='The payload inline, e.g. \'{"reason": "..."}\'')
    ] = None,
    actor: Annotated[
        str | None, typer.Option("--actor", help="Who sends it (recorded); overrides the payload's")
    ] = None,
    signal: Annotated[
        bool,
        typer.Option(
            "--signal",
            help="Send as a Signal (fire and forget; a refused one is listed in status.rejected)"
            " instead of an Update (waits; a refused one exits 2 and records nothing)",
        ),
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Send a command to a partnership, as an Update (default) or a Signal.

    The payload is checked here first; the partnership then checks it against its stage.
    Prints the new status (an Update's answer).
    """
    payload: dict[str, Any] = read_json_object(file, data)
    if actor is not None:
        payload["actor"] = actor
    commands.check_command(command, payload)
    current = settings()

    async def go() -> dict[str, Any] | None:
        client = await connect(current)
        return await commands.send(client, partnership_id, command, payload, signal)

    result = run(go())
    if result is None:
        if as_json:
            print_json({"partnership_id": partnership_id, "signal": command, "sent": True})
        else:
            console.print(
                f"signal {command} sent to {partnership_id}; it is applied asynchronously"
                f" (see `amity status {partnership_id}`)",
                highlight=False,
            )
        return
    if as_json:
        print_json(result)
    else:
        console.print(send_view(result))


@app.command()
@friendly
def status(
    partnership_id: Annotated[str, typer.Argument(metavar="ID", help="The partnership id")],
    as_json: JsonFlag = False,
) -> None:
    """A partnership's current state: stage, tier, parties, approvals, drafts, exchanges, ..."""
    current = settings()

    async def go() -> dict[str, Any]:
        client = await connect(current)
        return await commands.status(client, partnership_id)

    result = run(go())
    if as_json:
        print_json(result)
    else:
        console.print(status_view(result))


@app.command("list")
@friendly
def list_command(
    stage: Annotated[Stage | None, typer.Option(help="Only this stage")] = None,
    tier: Annotated[Tier | None, typer.Option(help="Only this tier")] = None,
    city: Annotated[
        str | None, typer.Option(help="Only partnerships of this party (exact name, e.g. Mianyang)")
    ] = None,
    country: Annotated[
        str | None, typer.Option(help="Only partnerships with a party in this country (e.g. CN)")
    ] = None,
    running: Annotated[
        bool, typer.Option("--running", help="Only running workflows (not ended ones)")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many")] = 200,
    as_json: JsonFlag = False,
) -> None:
    """List partnerships through Temporal's visibility (search attributes), newest first."""
    query = commands.list_query(
        stage.value if stage else None, tier.value if tier else None, city, country, running
    )
    current = settings()

    async def go() -> list[dict[str, Any]]:
        client = await connect(current)
        return await commands.list_partnerships(client, query, limit)

    rows = run(go())
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"no partnerships match ({query})", highlight=False, markup=False)
        return
    console.print(list_table(rows, f"{len(rows)} partnership{'s' if len(rows) != 1 else ''}"))


@app.command()
@friendly
def demo(
    partnership_id: Annotated[
        str | None,
        typer.Option(
            "--id",
            help="Id to use; default partnership-mianyang-cupertino (or -2, -3, ... if taken)",
        ),
    ] = None,
) -> None:
    """Run the Mianyang–Cupertino story against a running engine (`amity up`).

    Starts the partnership, sends every step as an Update, then prints its audit history
    (from AMITY_EVENT_STORE_URL) and its final status.
    """
    from amity.demo import run_story
    from audit.history import history
    from runtime.settings import open_store

    current = settings()
    if partnership_id is not None:
        commands.check_id(partnership_id)

    store = open_store(settings=current)
    try:

        async def go() -> tuple[str, dict[str, Any]]:
            client = await connect(current)
            return await run_story(client, current, store, partnership_id)

        used_id, final = run(go())
        lines = history(store, used_id)
    finally:
        store.close()
    if not lines:
        console.print(status_view(final))
        raise UserError(
            f"the story ran but {current.store_url_shown} holds no history for {used_id}:"
            " set AMITY_EVENT_STORE_URL to the worker's store (amity up prints it)"
        )
    console.print(history_table(used_id, lines))
    console.print(status_view(final))


# -- entry point --------------------------------------------------------------------------


def _usage_error(error: UsageError) -> NoReturn:
    path = error.ctx.command_path.removeprefix("amity").strip() if error.ctx else ""
    where = f"{path}: " if path else ""
    hint = f" (see amity {path} --help)" if path else " (see amity --help)"
    message = error.format_message()
    if message.startswith("No such option: -") and not message.startswith("No such option: --"):
        hint = f"; an argument that starts with '-' goes after --{hint}"
    fail(f"{where}{message}{hint}")


def main(argv: list[str] | None = None) -> None:
    """Console script: usage errors become one line on stderr with exit code 2."""
    typer.main.get_command(app).main(args=sys.argv[1:] if argv is None else argv, prog_name="amity")


if __name__ == "__main__":
    main()
