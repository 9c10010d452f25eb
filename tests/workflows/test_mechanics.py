"""PartnershipWorkflow's mechanics, each driven alone by a probe workflow on a real server:
the policy timer keeps one durable timer while its deadline holds, and the hand-over gate
lets commands past it finish while it carries the ones that arrive during the hand-over."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import Worker

from tests.workflows.probes import HandoverGateProbe, PolicyTimerProbe


@pytest.fixture
async def queue(client: Client) -> AsyncIterator[str]:
    name = f"probes-{uuid.uuid4().hex}"
    async with Worker(client, task_queue=name, workflows=[PolicyTimerProbe, HandoverGateProbe]):
        yield name


async def timer_events(handle: WorkflowHandle) -> list[str]:
    kinds = {
        EventType.EVENT_TYPE_TIMER_STARTED: "started",
        EventType.EVENT_TYPE_TIMER_CANCELED: "canceled",
        EventType.EVENT_TYPE_TIMER_FIRED: "fired",
    }
    history = await handle.fetch_history()
    return [kinds[e.event_type] for e in history.events if e.event_type in kinds]


async def until(check) -> None:  # type: ignore[no-untyped-def]
    for _ in range(200):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never got there")


async def test_an_unchanged_deadline_keeps_its_timer(client: Client, queue: str) -> None:
    handle = await client.start_workflow(
        PolicyTimerProbe.run, 600.0, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
    )
    await until(lambda: _started(handle))
    await handle.signal(PolicyTimerProbe.poke, None)  # woken, the same deadline
    await until(lambda: _is(handle, PolicyTimerProbe.rounds, ["woken"]))
    assert await timer_events(handle) == ["started"]
    await handle.signal(PolicyTimerProbe.stop)
    assert await handle.result() == ["woken", "woken"]
    assert await timer_events(handle) == ["started", "canceled"]


async def test_a_moved_deadline_replaces_its_timer(client: Client, queue: str) -> None:
    handle = await client.start_workflow(
        PolicyTimerProbe.run, 600.0, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
    )
    await until(lambda: _started(handle))
    await handle.signal(PolicyTimerProbe.poke, 1.0)  # the deadline moves earlier
    assert await handle.result() == ["woken", "fired"]
    assert await timer_events(handle) == ["started", "canceled", "started", "fired"]


async def test_the_gate_drains_commands_past_it_and_carries_late_ones(
    client: Client, queue: str
) -> None:
    handle = await client.start_workflow(
        HandoverGateProbe.run, id=f"probe-{uuid.uuid4().hex}", task_queue=queue
    )
    await handle.signal(HandoverGateProbe.command, "early")
    await until(lambda: _is(handle, HandoverGateProbe.active, 1))
    await handle.signal(HandoverGateProbe.hand_over)
    await handle.signal(HandoverGateProbe.command, "late")  # arrives while draining
    await until(lambda: _is(handle, HandoverGateProbe.waiting, ["late"]))
    await handle.signal(HandoverGateProbe.done, "late")  # it never ran: nothing to finish
    await handle.signal(HandoverGateProbe.done, "early")
    assert await handle.result() == {"applied": ["early"], "carried": ["late"]}


async def _is(handle: WorkflowHandle, query, expected) -> bool:  # type: ignore[no-untyped-def]
    return bool(await handle.query(query) == expected)


async def _started(handle: WorkflowHandle) -> bool:
    return await timer_events(handle) == ["started"]
