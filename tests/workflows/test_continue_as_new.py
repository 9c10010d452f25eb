"""A long life: 150 exchanges from 4 concurrent clients across dozens of continue-as-new
runs (the server suggests it every 50 history events, so about every half-dozen
exchanges), each applied exactly once. AMITY_CAN_EXCHANGES=1000 runs a longer life."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from amity import story
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.sending import send_update
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from worker import build_worker
from workflows.search import SEARCH_ATTRIBUTES

EXCHANGES = int(os.environ.get("AMITY_CAN_EXCHANGES", "150"))
CLIENTS = 4
#: Runs required: 150 exchanges make about 25 here (fewer when the server batches updates
#: into one workflow task), so every client's commands cross many hand-overs.
MIN_RUNS = max(3, 10 * EXCHANGES // 150)


@pytest.fixture(scope="module")
def small_history_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    folder = tmp_path_factory.mktemp("can")
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "temporal.db",
        extra_args=["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=50"],
    )
    server.start()
    yield server
    server.stop()


async def send(client: Client, partnership_id: str, numbers: list[int]) -> None:
    base = story.load("record_exchange.json")
    for n in numbers:
        payload = {**base, "request_id": f"exchange-{n}", "title": f"exchange {n}"}
        await send_update(client, partnership_id, "record_exchange", payload)


@asynccontextmanager
async def active_partnership(
    server: DevServer, tmp_path: Path, partnership_id: str, threads: int
) -> AsyncIterator[tuple[Client, PartnershipStore, WorkflowHandle[Any, Any]]]:
    """A worker with its own queue and store, and one partnership signed and active."""
    client = await connect(Settings(TEMPORAL_ADDRESS=server.address))
    store = open_store(f"sqlite:///{tmp_path / 'events.db'}")
    queue = f"can-{uuid.uuid4().hex}"
    async with build_worker(client, store, queue, threads=threads):
        handle = await client.start_workflow(
            "PartnershipWorkflow", story.proposal(), id=partnership_id, task_queue=queue
        )
        for command, payload in story.steps()[:5]:
            await handle.execute_update(command, payload)
        yield client, store, handle


@pytest.mark.slow
async def test_many_exchanges_across_continue_as_new(
    small_history_server: DevServer, tmp_path: Path
) -> None:
    partnership_id = "partnership-long-life"
    async with active_partnership(small_history_server, tmp_path, partnership_id, 16) as (
        client,
        store,
        _,
    ):
        numbers = list(range(EXCHANGES))
        await asyncio.gather(
            *(send(client, partnership_id, numbers[i::CLIENTS]) for i in range(CLIENTS))
        )
        status = await client.get_workflow_handle(partnership_id).query("status")
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId="{partnership_id}"')]
    stored = store.history(partnership_id)
    exchange_ids = [s.request_id for s in stored if s.event.type == "exchange_recorded"]
    assert len(exchange_ids) == EXCHANGES
    assert set(exchange_ids) == {f"exchange-{n}" for n in range(EXCHANGES)}
    assert status["exchange_count"] == EXCHANGES
    assert status["version"] == len(stored) == 6 + EXCHANGES
    assert [s.originator_version for s in stored] == list(range(1, len(stored) + 1))
    assert len(runs) >= MIN_RUNS, f"expected many continue-as-new runs, got {len(runs)}"
    assert len({s.run_id for s in stored}) >= MIN_RUNS
    store.close()


def fat_exchange(n: int) -> dict[str, object]:
    """A valid exchange near the largest a person can send: 200 participants, long texts."""
    person = {"name": "N" * 200, "title": "T" * 500, "organisation": "O" * 500}
    return {
        **story.load("record_exchange.json"),
        "participants": [{**person, "name": f"{n}-{i}".ljust(200, "N")} for i in range(200)],
        "request_id": f"fat-{n}",
    }


@pytest.mark.slow
async def test_the_largest_records_never_fill_the_state(
    small_history_server: DevServer, tmp_path: Path
) -> None:
    """Exchanges near the largest a person can send are all applied (update and signal
    alike): the state keeps the recent ones within its bytes, so a long life of them never
    reaches what a run can hand to the next; the partnership goes on across continue-as-new."""
    partnership_id = "partnership-full-state"
    async with active_partnership(small_history_server, tmp_path, partnership_id, 8) as (
        client,
        store,
        handle,
    ):
        for n in range(8):
            await send_update(client, partnership_id, "record_exchange", fat_exchange(n))
        await handle.signal("record_exchange", fat_exchange(99))
        for _ in range(100):
            status = await handle.query("status")
            if status["exchange_count"] == 9:
                break
            await asyncio.sleep(0.1)
        assert status["exchange_count"] == 9 and status["rejected"] == []
        assert len(json.dumps(status)) < 600_000
        # small commands too, across several continue-as-new hand-overs
        await send(client, partnership_id, list(range(80)))
        status = await client.get_workflow_handle(partnership_id).query("status")
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId="{partnership_id}"')]
    assert len(runs) >= 2, "expected a continue-as-new with the large records"
    assert status["exchange_count"] == 9 + 80
    stored = store.history(partnership_id)
    assert sum(1 for s in stored if s.event.type == "exchange_recorded") == 9 + 80
    store.close()
