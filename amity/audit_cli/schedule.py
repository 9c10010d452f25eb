"""`audit schedule`: checkpoint the log regularly with a Temporal Schedule."""

from __future__ import annotations

from typing import Annotated

import typer

from amity.audit_cli.common import (
    say,
)
from amity.cli_common import (
    JsonFlag,
    friendly,
    print_json,
)
from runtime.settings import get_settings


@friendly
def schedule_command(
    every: Annotated[
        str, typer.Option("--every", help="How often: 1h, 30m, 90s, PT1H (default 1h)")
    ] = "1h",
    task_queue: Annotated[
        str | None,
        typer.Option(
            "--task-queue",
            help="Where the signing worker listens (default AMITY_TASK_QUEUE); in production"
            " a worker of its own on the signer host",
        ),
    ] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the schedule")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Checkpoint the log regularly: a Temporal Schedule runs sign, store and publish."""
    from amity import schedule
    from amity.cli_common import run
    from runtime.connect import connect
    from tlog.witness import schedule_id

    settings = get_settings()
    name = settings.audit_origin
    interval = schedule.parse_every(every)
    queue = task_queue or settings.task_queue

    async def main() -> str:
        client = await connect(settings)
        if delete:
            return "deleted" if await schedule.delete(client, name) else "not found"
        return await schedule.upsert(client, name, interval, queue)

    done = run(main())
    if as_json:
        print_json(
            {"schedule": schedule_id(name), "result": done}
            | ({} if delete else {"every": str(interval), "task_queue": queue})
        )
        return
    if delete:
        say(f"schedule {schedule_id(name)}: {done}")
        return
    say(
        f"schedule {schedule_id(name)} {done}: a checkpoint every {interval}"
        f" by a worker on task queue {queue} (it needs the signing key)"
    )
