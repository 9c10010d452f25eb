"""The story under Temporal's full sandbox, where workflow code may not read a clock, draw a
random number or do I/O.

The worker passes Amity's own workflow modules through the sandbox (worker.workflow_runner,
for speed); these runs keep the full sandbox's guard on them: a `datetime.now()`,
`random.random()` or file read added to workflows/ fails here even though the worker's own
runner would let it through."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.client import Client
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from store.application import PartnershipStore
from tests.conftest import Engine
from tests.workflows import test_story as story
from worker import build_worker


@pytest.fixture
async def strict_engine(client: Client, store: PartnershipStore) -> AsyncIterator[Engine]:
    task_queue = f"strict-{uuid.uuid4().hex}"
    strict = SandboxedWorkflowRunner()  # the default restrictions, nothing of ours passed
    async with build_worker(client, store, task_queue, threads=4, webhook_url=None, runner=strict):
        yield Engine(client=client, task_queue=task_queue, store=store)


async def test_the_story_through_updates_in_the_full_sandbox(strict_engine: Engine) -> None:
    await story.test_story_through_updates(strict_engine)


async def test_the_story_through_signals_in_the_full_sandbox(strict_engine: Engine) -> None:
    await story.test_story_through_signals_ends_in_the_same_state(strict_engine)
