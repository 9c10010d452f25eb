"""What the integration examples need: the session dev server's addresses as environment."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from runtime.devserver import DevServer, temporal_binary

ROOT = Path(__file__).resolve().parents[2]
INTEGRATIONS = ROOT / "examples" / "integrations"
EXAMPLES = ROOT / "examples"


@pytest.fixture
def integration_env(dev_server: DevServer, engine: Any) -> dict[str, str]:
    """Environment for the example scripts: this session's Temporal, this test's task queue."""
    assert dev_server.http_port, "the session dev server must serve the HTTP API"
    return {
        **os.environ,
        "TEMPORAL_ADDRESS": dev_server.address,
        "TEMPORAL_NAMESPACE": "default",
        "TEMPORAL_HTTP": f"http://127.0.0.1:{dev_server.http_port}",
        "AMITY_TASK_QUEUE": engine.task_queue,
        "TEMPORAL": temporal_binary(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }


async def run_script(
    env: dict[str, str], *args: str | Path, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run an example as a separate program (off the event loop: the worker keeps running)."""
    return await asyncio.to_thread(
        subprocess.run,
        [str(arg) for arg in args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


async def status_of(client: Client, workflow_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await client.get_workflow_handle(workflow_id).query("status")
    return result


async def wait_for_version(client: Client, workflow_id: str, version: int) -> dict[str, Any]:
    status: dict[str, Any] = {}
    for _ in range(200):
        status = await status_of(client, workflow_id)
        if status["version"] >= version:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"{workflow_id}: version {version} not reached: {status}")
