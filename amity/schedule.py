"""`amity audit schedule`: a Temporal Schedule that checkpoints the log regularly.

The schedule (id `amity-checkpoint-<origin>`) starts the `CheckpointLog` workflow every
interval on a task queue; a worker there signs, stores and publishes a checkpoint
(audit/checkpointing.py). Runs never overlap: one still busy makes the next skip.
"""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import TypeAdapter, ValidationError
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from amity.cli_common import UserError
from tlog.witness import CHECKPOINT_WORKFLOW, schedule_id

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> timedelta:
    """`90s`, `30m`, `1h`, `1d`, an ISO 8601 duration (`PT1H`) or a number of seconds."""
    found = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", text)
    if found:
        every = timedelta(seconds=int(found.group(1)) * UNITS[found.group(2)])
    else:
        try:
            every = TypeAdapter(timedelta).validate_python(text)
        except ValidationError:
            raise UserError(f"--every {text}: not a duration (say 1h, 30m, 90s or PT1H)") from None
    if every < timedelta(seconds=1):
        raise UserError(f"--every {text}: must be at least one second")
    return every


def build(origin: str, every: timedelta, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            CHECKPOINT_WORKFLOW, id=schedule_id(origin), task_queue=task_queue
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def upsert(client: Client, origin: str, every: timedelta, task_queue: str) -> str:
    """Create the schedule, or update the one there; 'created' or 'updated'."""
    wanted = build(origin, every, task_queue)
    try:
        await client.create_schedule(schedule_id(origin), wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    handle: ScheduleHandle = client.get_schedule_handle(schedule_id(origin))

    def replace(_: ScheduleUpdateInput) -> ScheduleUpdate:
        return ScheduleUpdate(schedule=wanted)

    await handle.update(replace)
    return "updated"


async def delete(client: Client, origin: str) -> bool:
    from temporalio.service import RPCError, RPCStatusCode

    try:
        await client.get_schedule_handle(schedule_id(origin)).delete()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True
