"""`amity up`: the embedded engine, a Temporal dev server plus one worker, in one command.

The dev server runs in its own process group (DevServer starts a new session), so a Ctrl-C
in the terminal reaches only this process; we then stop the worker and the server
ourselves, in that order, and leave no process behind.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import stat
import sys
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

from pydantic import SecretStr

from activities.webhook import Webhook, WebhookConfigError
from amity.cli_common import UserError, console
from runtime.connect import connect
from runtime.devserver import DevServer, DevServerError
from runtime.metrics import configure_logging
from runtime.settings import Settings, get_settings, open_store
from worker import build_worker, check_webhook, webhook_settings
from workflows.search import SEARCH_ATTRIBUTES

#: Exit code when the dev server stops by itself while `amity up` runs.
SERVER_DIED = 1
#: Files and folders made by `amity up` and its dev server: owner only.
PRIVATE_UMASK = 0o077
#: What Amity keeps in the data folder (with SQLite's -wal, -shm and -journal companions).
PRIVATE_FILES = ("events.db", "temporal.db", "temporal.log", "audit-key.pem", "person-digest.key")


class Stopping(Exception):  # noqa: N818 - a control-flow signal, not an error
    """SIGINT or SIGTERM arrived before the event loop was running."""


def _stop_now(signum: int, _frame: FrameType | None) -> None:
    raise Stopping(signal.Signals(signum).name)


def engine_settings(server: DevServer, data_dir: Path) -> Settings:
    """The environment's settings, pointed at this server and (unless set) at D/events.db."""
    settings = get_settings()
    update: dict[str, object] = {}
    if "event_store_url" not in settings.model_fields_set:  # AMITY_EVENT_STORE_URL unset
        update["event_store_url"] = SecretStr(f"sqlite:///{data_dir / 'events.db'}")
    # the dev server it just started: plain gRPC, whatever TEMPORAL_TLS* / API key the shell
    # holds for a cluster elsewhere
    return settings.for_embedded_engine(server.address, **update)


async def serve(server: DevServer, settings: Settings) -> int:
    """Run one worker until SIGINT/SIGTERM or until the server dies; returns the exit code."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    code = 0

    async def watch_server() -> None:
        nonlocal code
        while not stop.is_set():
            process = server.process
            if process is None or process.poll() is not None:
                returncode = process.returncode if process else None
                console.print(
                    f"[red]the Temporal dev server stopped (exit code {returncode});"
                    " stopping the worker[/red]"
                )
                code = SERVER_DIED
                stop.set()
                return
            await asyncio.sleep(0.5)

    client = await connect(settings)
    store = open_store(settings=settings)
    watcher = asyncio.create_task(watch_server())
    try:
        worker = build_worker(
            client,
            store,
            settings.task_queue,
            settings.store_threads,
            **webhook_settings(settings),
            settings=settings,
            store_timeout=settings.store_timeout,
        )
        async with worker:
            banner(server, settings)
            await stop.wait()
            console.print("stopping the worker and the Temporal dev server ...")
    finally:
        watcher.cancel()
        store.close()
    return code


def banner(server: DevServer, settings: Settings) -> None:
    console.print("[bold green]Amity is up[/bold green] (Ctrl-C stops the worker and the server)")
    console.print(f"  Web UI       {server.ui_url}", highlight=False)
    console.print(f"  Temporal     {server.address}  namespace {settings.temporal_namespace}")
    if server.http_port:
        console.print(
            f"  HTTP API     http://127.0.0.1:{server.http_port}/api/v1  (any web page you visit"
            " can POST to it: open it only while integrations need it)",
            highlight=False,
        )
    else:
        console.print("  HTTP API     off (--http-port opens it)", highlight=False)
    if server.ui_codec_endpoint:
        console.print(
            f"  UI codec     {redacted_endpoint(server.ui_codec_endpoint)}", highlight=False
        )
    console.print(f"  task queue   {settings.task_queue}", highlight=False)
    console.print(f"  event store  {settings.store_url_shown}", highlight=False)
    console.print(f"  reminders    {reminders_shown(settings)}", highlight=False)
    console.print(
        f"  other shells: export TEMPORAL_ADDRESS={server.address}"
        f" AMITY_EVENT_STORE_URL={settings.store_url_shown}",
        highlight=False,
        soft_wrap=True,
    )
    sys.stdout.flush()


def reminders_shown(settings: Settings) -> str:
    found = webhook_settings(settings)
    hook = Webhook.configure(found["webhook_url"], found["webhook_secret"])
    if hook is None:
        return "recorded only (set AMITY_WEBHOOK_URL and AMITY_WEBHOOK_SECRET to post them)"
    return f"POSTed to {hook.where}, signed"


def redacted_endpoint(endpoint: str) -> str:
    """The codec endpoint without its path (which holds the codec server's token)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.path.strip("/") else endpoint


def check_codec_endpoint(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UserError(
            "--ui-codec-endpoint must be http(s)://host:port[/<token>], e.g."
            " http://127.0.0.1:8081/<AMITY_CODEC_TOKEN> (see amity codec-server)"
        )
    return endpoint.rstrip("/")


def up(
    port: int,
    ui_port: int,
    data_dir: Path,
    http_port: int | None = None,
    ui_codec_endpoint: str | None = None,
) -> int:
    """Start the dev server and a worker; block until stopped; returns the exit code."""
    if port == ui_port:
        raise UserError(f"--port and --ui-port must differ (both are {port})")
    if http_port is not None and http_port in (port, ui_port):
        raise UserError(f"--http-port must differ from --port and --ui-port ({http_port})")
    if ui_codec_endpoint is not None:
        ui_codec_endpoint = check_codec_endpoint(ui_codec_endpoint)
    settings = get_settings()
    try:  # a bad webhook is refused before the server starts
        check_webhook(settings)
    except WebhookConfigError as error:
        raise UserError(str(error)) from None
    data_dir = data_dir.expanduser().resolve()
    # Everything this process and the dev server create is for this user alone: the event
    # store, Temporal's database (payloads, search attributes), keys and logs.
    previous_umask = os.umask(PRIVATE_UMASK)
    try:
        make_private(data_dir)
    except OSError as error:
        os.umask(previous_umask)
        raise UserError(f"--data-dir {data_dir}: {error.strerror}") from None
    try:
        return _run(port, ui_port, data_dir, http_port, ui_codec_endpoint)
    finally:
        os.umask(previous_umask)


def make_private(data_dir: Path) -> None:
    """The data folder 0700 and the files Amity keeps there 0600, however they were made.

    The folder's mode is changed only when it is ours and not a shared sticky folder such
    as /tmp; the files are always Amity's own (named in PRIVATE_FILES)."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = data_dir.stat()
    if folder.st_uid == os.geteuid() and not folder.st_mode & stat.S_ISVTX:
        data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.name.startswith(PRIVATE_FILES) and path.is_file() and not path.is_symlink():
            path.chmod(0o600)


def _run(
    port: int, ui_port: int, data_dir: Path, http_port: int | None, ui_codec_endpoint: str | None
) -> int:
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=port,
        ui_port=ui_port,
        http_port=http_port,
        db_file=data_dir / "temporal.db",
        log_file=data_dir / "temporal.log",
        ui_codec_endpoint=ui_codec_endpoint,
    )
    # Until the event loop takes over, SIGINT and SIGTERM unwind through `finally` below.
    previous = {sig: signal.signal(sig, _stop_now) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        try:
            server.start()
        except DevServerError as error:
            raise UserError(str(error)) from None
        settings = engine_settings(server, data_dir)
        # The worker's warnings (a failed activity, a store error) lose every secret too.
        configure_logging(settings.log_format, logging.WARNING, settings.secret_values())
        return asyncio.run(serve(server, settings))
    except Stopping:
        return 0
    finally:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the cleanup
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
