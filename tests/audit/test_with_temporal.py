"""The audit against the real engine: as-of equals what the workflow reported at the time,
and reconcile compares Temporal's histories with the store (clean, then one deletion)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from amity import story
from domain.identity import aggregate_id
from domain.state import to_status
from runtime.devserver import DevServer
from tests.audit.conftest import AuditCli
from tests.conftest import Engine


async def wait_for_version(handle: WorkflowHandle[Any, Any], version: int) -> dict[str, Any]:
    for _ in range(400):
        status: dict[str, Any] = await handle.query("status")
        if status["version"] >= version:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"version {version} not reached")


@pytest.fixture
def cli(audit_cli: AuditCli, dev_server: DevServer, monkeypatch: pytest.MonkeyPatch) -> AuditCli:
    monkeypatch.setenv("TEMPORAL_ADDRESS", dev_server.address)
    return audit_cli


async def test_as_of_equals_the_status_reported_at_that_moment(
    engine: Engine, cli: AuditCli
) -> None:
    pid = f"partnership-mianyang-cupertino-{uuid.uuid4().hex[:8]}"
    handle = await engine.start(story.proposal(), pid)
    proposed = await wait_for_version(handle, 1)
    seen = [(datetime.now(UTC), proposed)]
    for command, payload in story.steps():
        await handle.execute_update(command, payload)
        status = await handle.query("status")
        seen.append((datetime.now(UTC), status))
    assert [s["version"] for _, s in seen] == list(range(1, 12))
    for moment, status in seen:
        by_time = engine.store.state_at(pid, moment)
        by_version = engine.store.state(pid, status["version"])
        assert by_time is not None and by_version is not None
        assert to_status(by_time).model_dump(mode="json") == status
        assert to_status(by_version).model_dump(mode="json") == status
    before = engine.store.state_at(pid, seen[0][0].replace(year=2000))
    assert before is None
    # the command line says the same, for a moment in the middle of the story
    moment, status = seen[5]
    result = await asyncio.to_thread(
        cli, "as-of", pid, "--known-at", moment.isoformat(), "--format", "json"
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == status
    result = await asyncio.to_thread(cli, "as-of", pid, "--version", "3", "--format", "json")
    assert json.loads(result.stdout) == seen[2][1]
    bad = await asyncio.to_thread(cli, "as-of", pid, "--version", "99")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1


async def test_reconcile_is_clean_after_the_story_and_names_a_deleted_event(
    engine: Engine, cli: AuditCli, store_url: str
) -> None:
    by_update = f"partnership-a-{uuid.uuid4().hex[:8]}"
    by_signal = f"partnership-b-{uuid.uuid4().hex[:8]}"
    first = await engine.start(story.proposal(), by_update)
    second = await engine.start(story.proposal(), by_signal)
    await wait_for_version(first, 1)
    for command, payload in story.steps():
        await first.execute_update(command, payload)
        await second.signal(command, payload)
    await wait_for_version(second, 11)
    query = f'TaskQueue = "{engine.task_queue}"'
    for _ in range(100):  # visibility is eventually consistent
        listed = {w.id async for w in engine.client.list_workflows(query)}
        if listed == {by_update, by_signal}:
            break
        await asyncio.sleep(0.1)

    clean = await asyncio.to_thread(cli, "reconcile", "--all", "--query", query)
    assert clean.exit_code == 0, clean.stdout + clean.stderr
    assert f"{by_update}: OK" in clean.stdout and f"{by_signal}: OK" in clean.stdout
    assert "11 recorded command(s), 11 stored event(s); 10 update(s)" in clean.stdout
    assert "10 signal(s)" in clean.stdout

    with sqlite3.connect(Path(store_url.removeprefix("sqlite:///"))) as db:
        db.execute(
            "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = 3",
            (aggregate_id(by_signal).hex,),
        )
    db.close()
    broken = await asyncio.to_thread(cli, "reconcile", "--all", "--query", query)
    assert broken.exit_code == 1
    assert broken.stderr.strip().endswith(f"1 of 2 partnership(s) disagree: {by_signal}")
    assert f"{by_update}: OK" in broken.stdout
    assert "missing: v3 meeting_recorded of record_meeting" in broken.stdout, broken.stdout
    single = await asyncio.to_thread(cli, "reconcile", by_update)
    assert single.exit_code == 0
    usage = await asyncio.to_thread(cli, "reconcile")
    assert usage.exit_code == 2
