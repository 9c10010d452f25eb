"""Exactly once across Temporal and the store: repeats, retries after a lost reply,
concurrent commands."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio import activity
from temporalio.client import Client

from activities.messages import RecordRequest, RecordResult
from activities.store import StoreActivities
from amity import story
from store.application import PartnershipStore
from tests.conftest import Engine
from tests.workflows.test_story import EXPECTED_EVENTS
from worker import build_worker


async def active_partnership(engine: Engine) -> Any:
    handle = await engine.start(story.proposal(), f"partnership-once-{uuid.uuid4().hex[:8]}")
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    return handle


async def test_same_request_id_twice_applies_once(engine: Engine) -> None:
    handle = await active_partnership(engine)
    payload = {**story.load("record_exchange.json"), "request_id": "exchange-once"}
    first = await handle.execute_update("record_exchange", payload)
    second = await handle.execute_update("record_exchange", payload)
    assert first["outcome"]["duplicate"] is False
    assert second["outcome"]["duplicate"] is True
    assert second["outcome"]["version"] == first["outcome"]["version"]
    assert second["exchanges"] == {"science_technology": 1}
    # as a Signal too, and across both paths
    await handle.signal("record_exchange", payload)
    await handle.signal("record_exchange", {**payload, "request_id": "exchange-twice"})
    await handle.signal("record_exchange", {**payload, "request_id": "exchange-twice"})
    # A later command proves the repeats were processed (signals are applied in order):
    # no fixed sleep waiting for a wrongly applied repeat to show up.
    await handle.signal("record_exchange", {**payload, "request_id": "exchange-after"})
    ids = await wait_for_request(engine.store, handle.id, "exchange-after")
    status = await status_caught_up(handle, engine.store)
    assert status["exchanges"] == {"science_technology": 3}
    assert status["version"] == first["version"] + 2
    assert ids.count("exchange-once") == 1
    assert ids.count("exchange-twice") == 1
    assert ids.count("exchange-after") == 1


async def wait_for_request(
    store: PartnershipStore, partnership_id: str, request_id: str
) -> list[str]:
    """Wait until `request_id` is stored; then every stored request id, in order."""
    for _ in range(400):
        ids = [s.request_id for s in store.history(partnership_id)]
        if request_id in ids:
            return ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"{request_id} never stored: {ids}")


async def status_caught_up(handle: Any, store: PartnershipStore) -> dict[str, Any]:
    """The `status` once the workflow has applied everything the store holds: an append is
    on disk before the workflow's next task takes its result, so a query can come between."""
    stored = store.history(handle.id)[-1].originator_version
    for _ in range(400):
        status: dict[str, Any] = await handle.query("status")
        if status["version"] >= stored:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"status stays at version {status['version']}, the store at {stored}")


class ReplyLostAfterCommit(StoreActivities):
    """Commits, then fails the first attempt of each command as if the reply were lost."""

    def __init__(self, store: PartnershipStore) -> None:
        super().__init__(store)
        self.failed: list[str] = []

    @activity.defn(name="record_events")
    def record_events(self, request: RecordRequest) -> RecordResult:
        result = super().record_events(request)
        if activity.info().attempt == 1:
            self.failed.append(request.request_id)
            raise RuntimeError("connection reset after commit")
        return result


async def test_retry_after_a_lost_reply_does_not_duplicate(
    client: Client, store: PartnershipStore
) -> None:
    flaky = ReplyLostAfterCommit(store)
    task_queue = f"flaky-{uuid.uuid4().hex}"
    async with build_worker(client, store, task_queue, threads=4, activities=flaky):
        partnership_id = f"partnership-flaky-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            "PartnershipWorkflow", story.proposal(), id=partnership_id, task_queue=task_queue
        )
        for command, payload in story.steps():
            await handle.execute_update(command, payload)
        status = await handle.query("status")
    assert len(flaky.failed) == len(EXPECTED_EVENTS)  # every command's first reply was lost
    stored = store.history(partnership_id)
    assert [s.event.type for s in stored] == [t for _, t, _ in EXPECTED_EVENTS]
    assert status["version"] == len(stored)


async def test_concurrent_commands_are_serialised(engine: Engine) -> None:
    handle = await active_partnership(engine)
    base = story.load("record_exchange.json")
    results = await asyncio.gather(
        *(
            handle.execute_update("record_exchange", {**base, "request_id": f"parallel-{n}"})
            for n in range(12)
        )
    )
    versions = sorted(r["outcome"]["version"] for r in results)
    assert versions == list(range(7, 19))
    stored = engine.store.history(handle.id)
    assert [s.originator_version for s in stored] == list(range(1, 19))
    assert sorted(s.request_id for s in stored[6:]) == sorted(f"parallel-{n}" for n in range(12))
    assert (await handle.query("status"))["exchanges"] == {"science_technology": 12}
