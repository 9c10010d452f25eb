"""Exactly once across continue-as-new: a command resent (same request_id) after its run
handed over is answered from the carried request ids, never applied again, whether it comes
back as an Update or as a Signal. Also the COMMANDS_PER_RUN cap itself.

The cap is lowered to 3 for these tests, so hand-overs happen at known points within a few
commands. The worker runs the workflow unsandboxed: the sandbox re-imports
`workflows.partnership` for every run, so only an unsandboxed run sees the lowered cap (the
code run is the same; the sandbox only guards determinism, which test_replay.py covers).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.store import StoreActivities
from amity import story
from runtime.sending import send_update
from store.application import PartnershipStore
from tests.workflows.test_exactly_once import status_caught_up
from workflows import partnership
from workflows.partnership import PartnershipWorkflow

CAP = 3


class Small:
    """A partnership whose runs hand over every CAP commands, and its store."""

    def __init__(self, client: Client, store: PartnershipStore, handle: WorkflowHandle[Any, Any]):
        self.client, self.store, self.handle = client, store, handle

    @property
    def id(self) -> str:
        return self.handle.id

    async def update(self, command: str, payload: dict[str, Any]) -> dict[str, Any]:
        return await send_update(self.client, self.id, command, payload)

    def request_ids(self) -> Counter[str]:
        return Counter(s.request_id for s in self.store.history(self.id))

    async def stored(self, *request_ids: str) -> Counter[str]:
        """Wait until every one of `request_ids` is stored; then every request id's count."""
        for _ in range(300):
            counts = self.request_ids()
            if all(counts[r] for r in request_ids):
                return counts
            await asyncio.sleep(0.05)
        missing = [r for r in request_ids if not counts[r]]
        raise AssertionError(f"never stored: {missing}; stored: {counts}")

    def runs(self) -> list[list[str]]:
        """The stored events grouped by the run that recorded them, in order."""
        groups: list[list[str]] = []
        last = None
        for stored in self.store.history(self.id):
            if stored.run_id != last:
                groups.append([])
                last = stored.run_id
            groups[-1].append(stored.request_id)
        return groups


@pytest.fixture
async def small(
    client: Client, store: PartnershipStore, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Small]:
    monkeypatch.setattr(partnership, "COMMANDS_PER_RUN", CAP)
    queue = f"handover-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[PartnershipWorkflow],
            activities=[StoreActivities(store).record_events],
            activity_executor=executor,
            max_concurrent_activities=4,
            workflow_runner=UnsandboxedWorkflowRunner(),
        ):
            handle = await client.start_workflow(
                "PartnershipWorkflow",
                story.proposal(),
                id=f"partnership-handover-{uuid.uuid4().hex[:8]}",
                task_queue=queue,
            )
            yield Small(client, store, handle)


def exchange(n: int) -> dict[str, Any]:
    return {**story.load("record_exchange.json"), "request_id": f"exchange-{n}"}


async def signed_with_exchanges(small: Small, count: int) -> list[tuple[str, dict[str, Any]]]:
    """The story up to signing, then `count` exchanges, each its own command: with a cap
    of 3 that is several hand-overs. Returns every command sent."""
    steps = [(c, {**p, "request_id": f"step-{n}"}) for n, (c, p) in enumerate(story.steps()[:5])]
    sent = [*steps, *(("record_exchange", exchange(n)) for n in range(count))]
    for command, payload in sent:
        await small.update(command, payload)
    return sent


async def test_the_run_hands_over_after_the_cap(small: Small) -> None:
    sent = await signed_with_exchanges(small, 4)  # 9 commands
    runs = small.runs()
    # the first run also records the proposal; every run then applies exactly CAP commands
    assert [len(run) for run in runs] == [1 + CAP, CAP, CAP], runs
    assert [r for run in runs for r in run][1:] == [p["request_id"] for _, p in sent]
    status = await small.handle.query("status")
    assert status["version"] == 10 and status["exchange_count"] == 4


async def test_a_resent_update_after_a_handover_is_answered_once(small: Small) -> None:
    sent = await signed_with_exchanges(small, 4)
    assert len(small.runs()) == 3
    first = {p["request_id"]: v for v, (_, p) in enumerate(sent, start=2)}
    for command, payload in reversed(sent):  # each one now belongs to an earlier run
        again = await small.update(command, payload)
        assert again["outcome"]["duplicate"] is True, payload["request_id"]
        assert again["outcome"]["version"] == first[payload["request_id"]]
    counts = small.request_ids()
    assert all(counts[p["request_id"]] == 1 for _, p in sent), counts
    status = await small.handle.query("status")
    assert status["version"] == 10 and status["exchange_count"] == 4
    assert status["rejected"] == []


async def test_a_resent_signal_after_a_handover_is_applied_once(small: Small) -> None:
    sent = await signed_with_exchanges(small, 4)
    assert len(small.runs()) == 3
    for command, payload in sent:
        await small.handle.signal(command, payload)
    # A later command proves the repeats were processed: signals are applied in order.
    await small.handle.signal("record_exchange", exchange(99))
    counts = await small.stored("exchange-99")
    assert all(counts[p["request_id"]] == 1 for _, p in sent), counts
    status = await status_caught_up(small.handle, small.store)
    assert status["version"] == 11 and status["exchange_count"] == 5
    assert status["rejected"] == []  # a repeat is not a refusal either
    types = [s.event.type for s in small.store.history(small.id)]
    assert "signal_rejected" not in types


async def test_concurrent_commands_across_handovers_are_each_applied_once(small: Small) -> None:
    """Updates from two clients and a burst of signals while runs hand over every 3
    commands: commands past the gate finish before the hand-over, waiting signals are
    carried, waiting updates are resent; none is lost, none applied twice."""
    await signed_with_exchanges(small, 0)
    base = story.load("record_exchange.json")

    async def updates(first: int) -> None:
        for n in range(first, 12, 2):
            await small.update("record_exchange", {**base, "request_id": f"update-{n}"})

    async def signals() -> None:
        for n in range(12):
            await small.handle.signal("record_exchange", {**base, "request_id": f"signal-{n}"})

    await asyncio.gather(updates(0), updates(1), signals())
    counts = await small.stored(*(f"signal-{n}" for n in range(12)))
    sent = [f"update-{n}" for n in range(12)] + [f"signal-{n}" for n in range(12)]
    assert all(counts[r] == 1 for r in sent), counts
    stored = small.store.history(small.id)
    assert [s.originator_version for s in stored] == list(range(1, len(stored) + 1))
    status = await status_caught_up(small.handle, small.store)
    assert status["version"] == len(stored) == 6 + 24
    assert status["exchange_count"] == 24 and status["rejected"] == []
    assert len(small.runs()) >= 2  # hand-overs while commands were in flight
