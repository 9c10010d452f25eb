"""`amity demo`: the Mianyang–Cupertino story end to end against a running engine.

Starts the partnership, sends every step of `amity.story` as an Update (with a progress
bar), then prints the audit history from the event store and the final status.
"""

from __future__ import annotations

from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from amity import story
from amity.cli_common import UserError, console
from amity.commands import answered, start, translated
from runtime.settings import Settings
from store.application import PartnershipStore

#: How many suffixed ids (`-2`, `-3`, ...) to try before giving up.
MAX_SUFFIX = 1000


async def exists(client: Client, store: PartnershipStore, partnership_id: str) -> bool:
    """True when Temporal knows the id or the event store holds a history for it."""
    try:
        await client.get_workflow_handle(partnership_id).describe()
        return True
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise UserError(
                f"demo: Temporal answered {error.status.name}: {error.message}"
            ) from None
    return bool(store.history(partnership_id))


async def choose_id(client: Client, store: PartnershipStore, requested: str | None) -> str:
    """The requested id (refused if taken), else the story's id or the first free suffix."""
    if requested is not None:
        if await exists(client, store, requested):
            raise UserError(f"demo: partnership {requested} already exists; choose another --id")
        return requested
    base = story.PARTNERSHIP_ID
    if not await exists(client, store, base):
        return base
    for n in range(2, MAX_SUFFIX):
        candidate = f"{base}-{n}"
        if not await exists(client, store, candidate):
            console.print(f"{base} already ran; this demo uses [bold]{candidate}[/bold]")
            return candidate
    raise UserError(f"demo: {base}-2 to -{MAX_SUFFIX - 1} are all taken; pass --id")


async def run_story(
    client: Client, settings: Settings, store: PartnershipStore, requested: str | None
) -> tuple[str, dict[str, Any]]:
    """Start the story and send every step; returns the id and the final status."""
    partnership_id = await choose_id(client, store, requested)
    steps = story.steps()
    status: dict[str, Any] = {}
    columns = (
        TextColumn("[progress.description]{task.description:<24}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("start", total=1 + len(steps))
        await start(client, settings.task_queue, story.proposal(), partnership_id, "story")
        progress.advance(task)
        handle = client.get_workflow_handle(partnership_id)
        for command, payload in steps:
            progress.update(task, description=command)
            async with translated(partnership_id, command):
                status = await answered(handle.execute_update(command, payload))
            progress.advance(task)
        progress.update(task, description="done")
    return partnership_id, status
