"""The bare floor for the lifecycle: the same shape of work with nothing of Amity in it.

`BareWorkflow` records its start with one no-op activity (as a partnership records its
proposal), then answers any Update (same names, same payloads as the story) by running
one no-op activity, exactly one per command as `record_events` is. Like any event log,
it appends in order: an Update waits until the start is recorded, and commands are
recorded one at a time (version N+1 is never written before version N). Same server, same
client, same converter, same worker process, thread pool and sandbox: what is left between the
two is what Amity adds (parsing, the decider, the event store, status, search attributes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RawValue
from temporalio.worker import Worker

from worker import workflow_runner

FLOOR_WORKFLOW = "BareWorkflow"


@activity.defn(name="bare_noop")
def noop(payload: Any) -> dict[str, Any]:
    """Does nothing (a synchronous activity on the thread pool, like `record_events`)."""
    return {"ok": True}


@workflow.defn(name=FLOOR_WORKFLOW)
class BareWorkflow:
    def __init__(self) -> None:
        self.commands = 0
        self.started = False
        self.lock = asyncio.Lock()

    @workflow.run
    async def run(self, proposal: Any) -> int:
        await workflow.execute_activity(
            noop, proposal, start_to_close_timeout=timedelta(seconds=30)
        )
        self.started = True
        await workflow.wait_condition(lambda: False)
        return self.commands  # pragma: no cover - never reached: the bench stops the server

    @workflow.update(dynamic=True)
    async def command(self, name: str, args: Sequence[RawValue]) -> dict[str, Any]:
        payload = workflow.payload_converter().from_payload(args[0].payload) if args else None
        await workflow.wait_condition(lambda: self.started)
        async with self.lock:
            await workflow.execute_activity(
                noop, payload, start_to_close_timeout=timedelta(seconds=30)
            )
            self.commands += 1
            return {"command": name, "version": self.commands + 1}


def build_floor_worker(client: Client, task_queue: str, threads: int = 24) -> Worker:
    """The floor's worker on its own task queue, configured like `worker.build_worker`."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[BareWorkflow],
        activities=[noop],
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="floor"),
        max_concurrent_activities=threads,
        # The same sandbox as Amity's worker: its own workflow module passed through.
        workflow_runner=workflow_runner((__name__,)),
    )
