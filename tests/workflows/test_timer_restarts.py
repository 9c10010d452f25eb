"""A 20-second policy timer is a Temporal timer, not a worker's sleep: it fires after the
worker was killed (SIGKILL) and restarted, and after the dev server itself was restarted
on its SQLite file in between."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client

from amity import story
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.settings import Settings, open_store
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]


def start_worker(address: str, queue: str, store_url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": address,
        "AMITY_TASK_QUEUE": queue,
        "AMITY_EVENT_STORE_URL": store_url,
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def wait_for_poller(
    client: Client, queue: str, worker: subprocess.Popen[bytes], limit: float = 60.0
) -> None:
    """Until `worker` (by its default identity, pid@host) polls `queue`: the server refuses
    an Update while no worker has lately, and a worker process started on a loaded machine
    may take seconds to import and connect (stopping the server before it has connected
    would test a worker that never started, not one that survives a restart)."""
    request = DescribeTaskQueueRequest(
        namespace=client.namespace,
        task_queue=TaskQueue(name=queue),
        task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    )
    deadline = asyncio.get_running_loop().time() + limit
    prefix = f"{worker.pid}@"
    while True:
        described = await client.workflow_service.describe_task_queue(request)
        if any(poller.identity.startswith(prefix) for poller in described.pollers):
            return
        assert asyncio.get_running_loop().time() < deadline, f"worker {prefix} never polled"
        await asyncio.sleep(0.2)


@pytest.mark.slow
async def test_timer_survives_worker_kill_and_server_restart(tmp_path: Path) -> None:
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=tmp_path / "temporal.db",
    )
    server.start()
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    queue = f"restarts-{uuid.uuid4().hex}"
    log = tmp_path / "worker.log"
    worker = start_worker(server.address, queue, store_url, log)
    try:
        client = await connect(Settings(TEMPORAL_ADDRESS=server.address))
        proposal = {**story.proposal(), "policy": {"dormant_after": "PT20S"}}
        handle = await client.start_workflow(
            "PartnershipWorkflow", proposal, id="partnership-restarts", task_queue=queue
        )
        await wait_for_poller(client, queue, worker)
        for command, payload in story.steps()[:5]:
            # The dormancy clock starts when the signing is decided, which is after it is
            # sent and may be seconds before its Update returns on a loaded machine.
            signed_at = asyncio.get_running_loop().time()
            if command == "sign_memorandum":  # signed today: dormancy runs from now
                payload = {**payload, "date": datetime.now(UTC).date().isoformat()}
            result = await handle.execute_update(command, payload)
        assert command == "sign_memorandum" and result["stage"] == "active"

        # 1. the worker dies hard and comes back
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        await asyncio.sleep(3)
        worker = start_worker(server.address, queue, store_url, log)
        await wait_for_poller(client, queue, worker)

        # 2. the server stops and comes back on the same SQLite file
        await asyncio.sleep(2)
        server.stop()
        await asyncio.sleep(2)
        server.start()

        client = await connect(Settings(TEMPORAL_ADDRESS=server.address))
        handle = client.get_workflow_handle("partnership-restarts")
        await wait_for_poller(client, queue, worker)  # it reconnects to the restarted server
        while True:
            status = await handle.query("status")
            if status["stage"] == "dormant":
                break
            assert asyncio.get_running_loop().time() - signed_at < 60, status
            await asyncio.sleep(0.5)
        elapsed = asyncio.get_running_loop().time() - signed_at
        assert elapsed >= 19, f"the timer fired early: {elapsed:.1f}s"
        store = open_store(store_url)
        stored = store.history("partnership-restarts")
        assert [s.event.type for s in stored][-1] == "became_dormant"
        signed = next(s for s in stored if s.event.type == "memorandum_signed")
        # Both instants are the workflow's own clock when it decided: 20 s apart at least.
        assert stored[-1].event.at - signed.event.at >= timedelta(seconds=20)
        assert len({s.request_id for s in stored}) == len(stored) == 7
        store.close()
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.stop()
