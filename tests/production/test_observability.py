"""A worker process with AMITY_METRICS_PORT and AMITY_LOG_FORMAT=json: after a short story
its one endpoint (the SDK's Prometheus exporter; the process listens on no other port)
serves Amity's counters and append latency next to Temporal's runtime metrics, and every log
line is one JSON object carrying the workflow id and the request id."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import urllib.request
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from amity import story
from runtime.devserver import DevServer, free_port
from tests.production.workers import worker_processes


def listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its sockets in /proc/net/tcp*, LISTEN)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 if absent)."""
    total = 0.0
    for line in metrics.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


@pytest.mark.slow
async def test_metrics_endpoint_and_json_logs(
    dev_server: DevServer, client: Client, tmp_path: Path
) -> None:
    port, task_queue = free_port(), f"metrics-{uuid.uuid4().hex[:8]}"
    env = {
        "TEMPORAL_ADDRESS": dev_server.address,
        "AMITY_TASK_QUEUE": task_queue,
        "AMITY_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "AMITY_METRICS_PORT": str(port),
        "AMITY_LOG_FORMAT": "json",
        "AMITY_STORE_THREADS": "4",
    }
    with worker_processes(1, env, tmp_path) as workers:
        pid = f"partnership-metrics-{uuid.uuid4().hex[:8]}"
        handle = await client.start_workflow(
            "PartnershipWorkflow", story.proposal(), id=pid, task_queue=task_queue
        )
        sent = [{**p, "request_id": f"step-{n}"} for n, (_, p) in enumerate(story.steps()[:3])]
        for (command, _), payload in zip(story.steps()[:3], sent, strict=True):
            await handle.execute_update(command, payload)
        with pytest.raises(WorkflowUpdateFailedError):
            await handle.execute_update("renew", {"reference": "too early"})
        await handle.signal("terminate", {"by": {"name": "X"}, "reason": "not active yet"})
        for _ in range(100):
            if (await handle.query("status"))["version"] >= 5:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.2)  # the runtime exports its metrics about every second
        text = await asyncio.to_thread(
            lambda: (
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
                .read()
                .decode()
            )
        )
        log = workers[0][1].read_text()
        ports = listening_ports(workers[0][0].pid)

    assert ports == {port}  # one endpoint: no internal exporter port behind it

    assert sample(text, "amity_commands_applied_total", via="start") == 1
    assert sample(text, "amity_commands_applied_total", command="open_talks", via="update") == 1
    assert sample(text, "amity_commands_applied_total", via="update") == 3
    assert sample(text, "amity_commands_rejected_total", command="terminate", via="signal") == 1
    assert sample(text, "amity_append_seconds_count") == 5
    assert sample(text, "amity_append_seconds_bucket", le="+Inf") == 5
    assert sample(text, "amity_updates_refused_total", command="renew") == 1
    # the SDK's own metrics on the same endpoint, with their values
    # (five record_events: the proposal, three updates, the refused signal)
    assert sample(text, "temporal_request_total", operation="RespondActivityTaskCompleted") == 5
    assert sample(text, "temporal_workflow_task_execution_latency_count", task_queue=task_queue) > 0
    assert (
        sample(text, "temporal_activity_execution_latency_count", activity_type="record_events")
        == 5
    )

    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and len(lines) == len(log.splitlines())  # every line is JSON
    recorded = [line for line in lines if line["message"].startswith("recorded ")]
    assert len(recorded) == 5
    assert {line["workflow_id"] for line in recorded} == {pid}
    assert {line["request_id"] for line in recorded} >= {payload["request_id"] for payload in sent}
    assert all(line["run_id"] and line["level"] == "info" for line in recorded)
