"""A locked store: commands arrive while another process holds the event store's SQLite
file with `BEGIN EXCLUSIVE`; they must wait, then apply, once each."""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from pathlib import Path

from amity import story
from bench.faults.checks import audit, check_store, stuck_workflows
from bench.faults.cluster import cluster
from bench.faults.crash import plan_for
from bench.faults.figures import Figures
from bench.faults.sending import (
    WORKFLOW,
    current_status,
    gather_limited,
    resilient,
    update,
    wait_status,
)
from runtime.connect import connect
from runtime.settings import open_store

LOCKER = """
import sqlite3, sys, time
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=60)
connection.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
connection.execute("COMMIT")
"""


async def lock_suite(
    partnerships: int = 10,
    hold: float = 4.0,
    folder: Path | None = None,
    store_timeout: float | None = None,
) -> Figures:
    """Commands arrive while another process holds the store's SQLite file exclusively.

    With a `store_timeout` (AMITY_STORE_TIMEOUT) shorter than `hold`, Temporal gives up on
    appends still waiting for the lock and cancels them in their threads, mid-transaction."""
    figures = Figures("store locked", partnerships=partnerships)
    started = time.monotonic()
    with cluster(folder, store_timeout=store_timeout) as running:
        client = await connect(running.settings)
        tag = uuid.uuid4().hex[:6]
        pids = [f"partnership-lock-{tag}-{i:03d}" for i in range(partnerships)]
        acknowledged: dict[str, list[str]] = {}
        # every partnership exists (so the store file and its tables exist) ...
        await gather_limited(
            [
                resilient(
                    lambda pid=pid: client.start_workflow(
                        WORKFLOW, story.proposal(), id=pid, task_queue=running.task_queue
                    )
                )
                for pid in pids
            ],
            8,
        )
        for pid in pids:
            await wait_status(client, pid, lambda s: s["version"] >= 1, deadline=60)
        # ... then the file is locked and the story's commands arrive meanwhile
        locker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            LOCKER,
            str(running.store_file),
            str(hold),
            stdout=asyncio.subprocess.PIPE,
        )
        assert locker.stdout is not None
        await locker.stdout.readline()
        locked_at = time.monotonic()

        async def one(index: int, pid: str) -> None:
            plan, _ = plan_for(0)
            mine = acknowledged.setdefault(pid, [])
            for number, (command, payload) in enumerate(plan[:5]):
                body = {**payload, "actor": "fault-suite", "request_id": f"{pid}/{number}"}
                await update(client, pid, command, body)
                mine.append(body["request_id"])

        await gather_limited([one(i, pid) for i, pid in enumerate(pids)], 8)
        waited = time.monotonic() - locked_at
        await locker.wait()
        figures.notes.append(f"file held {hold:.0f}s; the commands took {waited:.1f}s")
        figures.commands_applied = sum(len(v) for v in acknowledged.values())
        store = open_store(running.store_url)
        try:
            for pid in pids:
                final = await current_status(client, pid)
                if final["stage"] == "active":
                    figures.completed += 1
                else:
                    figures.problem(f"{pid}: stage {final['stage']}, expected active")
                check_store(store, pid, acknowledged.get(pid, []), figures)
            await stuck_workflows(client, pids, figures)
            await audit(client, store, pids, figures)
        finally:
            store.close()
        figures.worker_exits = running.exits
    figures.seconds = time.monotonic() - started
    return figures
