"""AMITY_STORE_TIMEOUT: the start-to-close a worker gives the store activities it schedules
(how soon a partnership whose worker died holding an append goes on elsewhere).
`tests/cli/test_import.py` kills a worker mid-import and relies on it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from pydantic import ValidationError
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from amity import story
from runtime.settings import Settings
from store.application import PartnershipStore
from worker import build_worker


async def scheduled_timeouts(
    client: Client, store: PartnershipStore, **options: float
) -> dict[str, timedelta]:
    """Each activity type the workflow scheduled, with its start-to-close timeout."""
    task_queue = f"store-timeout-{uuid.uuid4().hex}"
    async with build_worker(client, store, task_queue, threads=2, **options):  # type: ignore[arg-type]
        handle = await client.start_workflow(
            "PartnershipWorkflow",
            story.proposal(),
            id=f"partnership-timeout-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        await handle.execute_update("open_talks", story.load("open_talks.json"))
    found: dict[str, timedelta] = {}
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            attributes = event.activity_task_scheduled_event_attributes
            found[attributes.activity_type.name] = attributes.start_to_close_timeout.ToTimedelta()
    return found


async def test_a_worker_given_a_store_timeout_schedules_the_store_activities_with_it(
    client: Client, store: PartnershipStore
) -> None:
    assert await scheduled_timeouts(client, store, store_timeout=3) == {
        "record_events": timedelta(seconds=3)
    }
    assert await scheduled_timeouts(client, store) == {"record_events": timedelta(seconds=30)}


def test_the_setting_is_read_from_the_environment_and_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert Settings().store_timeout == 30.0
    monkeypatch.setenv("AMITY_STORE_TIMEOUT", "2.5")
    assert Settings().store_timeout == 2.5
    for wrong in ("0", "-1", "7200"):
        monkeypatch.setenv("AMITY_STORE_TIMEOUT", wrong)
        with pytest.raises(ValidationError):
            Settings()
