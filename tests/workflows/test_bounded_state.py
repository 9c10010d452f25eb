"""A long life on the real engine: one partnership takes many exchanges through several
continue-as-new runs, the state each run hands the next stays the same size, nothing is
refused, and a correction of an exchange the state no longer holds reads it from the store.

The cap of commands per run is lowered for this test (an unsandboxed worker sees it: see
tests/workflows/test_handover.py), so hand-overs happen every few commands.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.store import StoreActivities
from amity import story
from domain.state import RECENT
from runtime.sending import send_update
from store.application import PartnershipStore
from workflows import partnership
from workflows.partnership import PartnershipWorkflow

CAP = 8
EXCHANGES = 3 * RECENT + 4


@pytest.fixture
async def queue(
    client: Client, store: PartnershipStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    monkeypatch.setattr(partnership, "COMMANDS_PER_RUN", CAP)
    name = f"bounded-{uuid.uuid4().hex}"
    activities = StoreActivities(store)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            client,
            task_queue=name,
            workflows=[PartnershipWorkflow],
            activities=[activities.record_events, activities.correction_target],
            activity_executor=executor,
            max_concurrent_activities=4,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            yield name


async def carried_sizes(client: Client, store: PartnershipStore, pid: str) -> list[int]:
    """For each run after the first: the bytes of the state it was handed."""
    runs = list(dict.fromkeys(s.run_id for s in store.history(pid)))
    sizes = []
    for run_id in runs[1:]:
        history = await client.get_workflow_handle(pid, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        data: dict[str, Any] = json.loads(started.input.payloads[0].data)
        sizes.append(len(json.dumps(data["carried"], separators=(",", ":"))))
    return sizes


async def test_a_long_life_keeps_a_flat_state(
    client: Client, store: PartnershipStore, queue: str
) -> None:
    pid = f"partnership-long-{uuid.uuid4().hex[:8]}"
    await client.start_workflow("PartnershipWorkflow", story.proposal(), id=pid, task_queue=queue)
    for command, payload in story.steps()[:5]:
        await send_update(client, pid, command, payload)
    first = store.state(pid).version + 1  # type: ignore[union-attr]
    base = story.load("record_exchange.json")
    for n in range(EXCHANGES):
        answer = await send_update(
            client, pid, "record_exchange", {**base, "request_id": f"long-{n}"}
        )
        assert answer["exchange_count"] == n + 1  # never refused
    sizes = await carried_sizes(client, store, pid)
    assert len(sizes) >= EXCHANGES // CAP, sizes
    # Once the window of recent exchanges is full, the state handed on stays the same size
    # (a few bytes of longer numbers aside); before, it grew by a record per exchange.
    full = (RECENT + 5) // CAP + 1
    assert max(sizes[full:]) - sizes[full] < 40, sizes
    assert sizes[-1] < sizes[full] + 40, sizes

    # The first exchange is long out of the window: its correction reads it from the store.
    fixed = await send_update(
        client,
        pid,
        "correct",
        {"target_version": first, "reason": "the field", "correction": {"field": "trade"}},
    )
    assert fixed["exchanges"] == {"science_technology": EXCHANGES - 1, "trade": 1}
    assert fixed["correction_count"] == 1
    assert store.history(pid)[-1].event.type == "corrected"
    assert store.state(pid).exchanges_by_field == fixed["exchanges"]  # type: ignore[union-attr]
    assert not any(s.event.type == "signal_rejected" for s in store.history(pid))
