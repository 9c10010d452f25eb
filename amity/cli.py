"""`amity`: run the engine, start and steer partnerships, read their state and history.

Every user mistake (bad file, bad JSON, unknown command or id, a refused command, an
unreachable Temporal) ends with ONE line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from typer._click.exceptions import NoArgsIsHelpError, UsageError
from typer.core import TyperGroup

from amity.audit_cli import app as audit_app
from amity.cli_common import (
    JsonFlag,
    UserError,
    console,
    fail,
    friendly,
    print_json,
    read_json_object,
    run,
    unreachable,
)
from amity.cli_import import import_command
from amity.render import list_table, send_view, status_view
from domain.values import Stage, Tier
from runtime.settings import Settings, get_settings

# Temporal's client, the store's drivers and the domain's commands are imported by the command
# that uses them, not here: every `amity` process (`--help`, a refused argument) loads this
# module, and they cost about two seconds (tests/cli/test_lazy_imports.py keeps it so).
if TYPE_CHECKING:
    from amity.privacy import Told
    from store.application import PartnershipStore


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
app.command("import")(friendly(import_command))


def _print_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            print(f"amity {version('amity')}")
        except PackageNotFoundError:  # run from a checkout that was never installed
            print("amity (not installed: version unknown)")
        raise typer.Exit(0)


@app.callback()
def _fresh_settings(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print Amity's version and exit",
        ),
    ] = False,
) -> None:
    """Read the environment anew for every command (tests run several in one process)."""
    get_settings.cache_clear()


def settings() -> Settings:
    return get_settings()


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
    as_json: JsonFlag = False,
) -> None:
    """Crypto-shred one person: their key becomes a tombstone, so their name reads as
    \\[forgotten] and is never sealed again; running partnerships holding it are told.

    Needs a store written with AMITY_PERSONAL_DATA_KEYS=on. The history keeps its shape
    and `amity audit verify` still passes (the stored bytes do not change). Safe to run
    again (e.g. after the engine was unreachable).
    """
    from amity.audit_cli.common import open_store

    current = settings()
    store = open_store()  # one that exists: forgetting in an empty new store proves nothing
    try:
        result = _forget_in_store(store, person, as_json)
        if store_only:
            if as_json:
                print_json(result)
            return
        told = _tell_running(current, store, person, as_json)
    finally:
        store.close()
    _show_told(result, told, as_json)


def _forget_in_store(store: PartnershipStore, person: str, as_json: bool) -> dict[str, Any]:
    """Tombstone the person's key and rebuild the read models; the result so far."""
    from amity.privacy import UnknownPerson
    from amity.privacy import forget as forget_person
    from amity.progress import progress

    try:
        # The bar does not repeat the name: it is the one thing being made unreadable.
        with progress("forgetting; rebuilding the read models", quiet=as_json):
            done = forget_person(store, person)
    except UnknownPerson as error:
        raise UserError(str(error)) from None
    if not as_json:
        console.print(
            ("already forgotten" if done.already else "forgotten")
            + ": the key is a tombstone, the name reads as [forgotten]"
            f" (read models rebuilt from {done.read_model_events} events)",
            markup=False,
        )
    return {
        "forgotten": True,
        "already": done.already,
        "read_model_events": done.read_model_events,
        "running": None,
    }


def _tell_running(current: Settings, store: PartnershipStore, person: str, as_json: bool) -> Told:
    """Tell running partnerships holding the person to forget them too; exit 2 with no engine."""
    from amity.privacy import tell_workflows
    from amity.progress import progress

    async def go() -> Told:
        from runtime.connect import EngineUnreachable, connect

        try:
            client = await connect(current)
        except EngineUnreachable as error:
            raise UserError(
                f"{unreachable(error)}; the store has forgotten the person but running"
                " partnerships"
                " were not told: run `amity forget` again when the engine is up"
                " (--store-only if no engine runs)"
            ) from None
        with progress("telling running partnerships", quiet=as_json):
            return await tell_workflows(client, store, person)

    return run(go())


def _show_told(result: dict[str, Any], told: Told, as_json: bool) -> None:
    if as_json:
        result["running"] = {
            "checked": told.checked,
            "told": list(told.told),
            "unanswered": list(told.unanswered),
        }
        print_json(result)
        return
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
    from amity.checks import check_proposal

    payload = read_json_object(file)
    current = settings()
    check_proposal(payload, str(file))  # before connecting: a bad file is local

    async def go() -> dict[str, str]:
        from amity import commands
        from runtime.connect import connect

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
    from amity.checks import check_command

    payload: dict[str, Any] = read_json_object(file, data)
    if actor is not None:
        payload["actor"] = actor
    check_command(command, payload)
    from runtime.sending import with_request_id  # checked: now Temporal's client is needed

    # Generated here when the payload has none, and printed: resending with this id is safe
    # (applied once); reusing it for other data is refused.
    payload = with_request_id(payload)
    request_id = payload["request_id"]
    current = settings()

    async def go() -> dict[str, Any] | None:
        from amity import commands
        from runtime.connect import connect

        client = await connect(current)
        return await commands.send(client, partnership_id, command, payload, signal)

    result = run(go())
    if result is None:
        if as_json:
            print_json(
                {
                    "partnership_id": partnership_id,
                    "signal": command,
                    "sent": True,
                    "request_id": request_id,
                }
            )
        else:
            console.print(
                f"signal {command} sent to {partnership_id} (request_id {request_id}); it is"
                f" applied asynchronously (see `amity status {partnership_id}`)",
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
        from amity import commands
        from runtime.connect import connect

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
    stage: Annotated[
        str | None,
        typer.Option(
            help="Only this stage, as printed or as stored: "
            + ", ".join(s.value.replace("_", " ") for s in Stage)
        ),
    ] = None,
    tier: Annotated[
        str | None,
        typer.Option(
            help="Only this tier: " + ", ".join(t.value.replace("_", " ") for t in Tier),
        ),
    ] = None,
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
    wanted_stage = choice(Stage, stage, "--stage")
    wanted_tier = choice(Tier, tier, "--tier")
    from amity import commands
    from runtime.connect import connect

    query = commands.list_query(
        wanted_stage.value if wanted_stage else None,
        wanted_tier.value if wanted_tier else None,
        city,
        country,
        running,
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


E = TypeVar("E", Stage, Tier)


def choice(kind: type[E], given: str | None, option: str) -> E | None:
    """A stage or tier as the CLI prints it (`in talks`) or as stored (`in_talks`), any case."""
    if given is None:
        return None
    key = "_".join(given.replace("-", " ").replace("_", " ").lower().split())
    try:
        return kind(key)
    except ValueError:
        known = ", ".join(repr(item.value.replace("_", " ")) for item in kind)
        raise UserError(f"{option} {given!r}: not one of {known}") from None


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
    from amity.audit_cli.history import history_table
    from amity.checks import check_id
    from amity.demo import run_story
    from audit.history import history
    from runtime.connect import connect
    from runtime.settings import open_store

    current = settings()
    if partnership_id is not None:
        check_id(partnership_id)

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
    unknown = re.match(r"No such command '(.+?)'\.", message)
    if unknown:
        guess = did_you_mean(path, unknown.group(1))
        if guess:  # an exact name elsewhere beats Click's nearest spelling here
            message = f"No such command '{unknown.group(1)}'; did you mean `{guess}`?"
    if message.startswith("No such option: -") and not message.startswith("No such option: --"):
        hint = f"; an argument that starts with '-' goes after --{hint}"
    fail(f"{where}{message}{hint}")


def command_paths() -> list[str]:
    """Every command as typed after `amity`: `status`, `audit history`, ..."""
    found: list[str] = []
    root: dict[str, Any] = getattr(typer.main.get_command(app), "commands", {})
    for name, command in root.items():
        found += [f"{name} {sub}" for sub in getattr(command, "commands", {})]
        found.append(name)
    return found


def did_you_mean(group: str, typed: str) -> str | None:
    """The command meant by a name unknown where it was typed but known in another group
    (`amity history` -> `amity audit history`). Misspellings Click suggests itself."""
    typed = typed.lower()
    for path in command_paths():
        if path.split()[-1] == typed and path.rpartition(" ")[0] != group:
            return f"amity {path}"
    return None


def main(argv: list[str] | None = None) -> None:
    """`amity ARGS` in this process: usage errors become one line on stderr with exit code 2;
    ends with SystemExit carrying the exit code (tests call this)."""
    typer.main.get_command(app).main(args=sys.argv[1:] if argv is None else argv, prog_name="amity")


def script() -> NoReturn:
    """The console script: `main`, then the process ends with `os._exit` once the output is
    flushed.

    An ordinary interpreter exit tears Python down while the Temporal core's Rust threads
    (the client's runtime) still run, and that now and then ended a finished command with
    "Segmentation fault" (139) or "Aborted" (134) instead of its exit code. Everything a
    command owns (servers, workers, stores) is closed by its own `finally` before this.
    """
    code: int
    try:
        main()
        code = 0
    except SystemExit as done:
        code = exit_code(done.code)
    except KeyboardInterrupt:
        print("amity: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # the reader left (`amity list --json | head -1`): quietly, with
        code = 1  # the code rich's console uses when its reader leaves
    except BaseException:  # noqa: BLE001 - a bug: its traceback, and exit 1 as Python would
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe (`amity list | head`)
            stream.flush()
    os._exit(code)


def exit_code(code: object) -> int:
    """SystemExit's code as the process's: None is 0, a message is 1 (as Python does)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    script()
