"""Crashes: partnerships driven through the story by concurrent clients while worker
processes are SIGKILLed at random moments and the Temporal dev server is restarted once."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from pathlib import Path
from typing import Any

from temporalio.client import Client

from amity import story
from bench.faults.checks import audit, check_store, stuck_workflows
from bench.faults.cluster import cluster
from bench.faults.figures import Figures
from bench.faults.sending import WORKFLOW, gather_limited, resilient, update, wait_status
from runtime.connect import connect
from runtime.settings import open_store


def plan_for(index: int) -> tuple[list[tuple[str, dict[str, Any]]], str]:
    """The commands of partnership `index` and the stage it must end in."""
    steps = story.steps(without_request_ids=True)
    if index % 10 == 9:  # talks abandoned
        reason = {"reason": "the council changed its priorities"}
        return [*steps[:2], ("withdraw", reason)], "withdrawn"
    if index % 10 == 7:  # the whole story, then the end of it
        reason = {"reason": "fault suite: the partnership ends"}
        return [*steps, ("terminate", reason)], "terminated"
    return steps, "active"


async def drive(
    client: Client, pid: str, index: int, task_queue: str, acknowledged: dict[str, list[str]]
) -> None:
    """Start one partnership and send its plan; every command resent until answered."""
    plan, _ = plan_for(index)
    await resilient(
        lambda: client.start_workflow(WORKFLOW, story.proposal(), id=pid, task_queue=task_queue),
        what=f"start {pid}",
    )
    mine = acknowledged.setdefault(pid, [])
    for number, (command, payload) in enumerate(plan):
        body = {**payload, "actor": "fault-suite", "request_id": f"{pid}/{number}/{command}"}
        via_signal = index % 4 == 1 and command == "record_exchange"
        if via_signal:
            handle = client.get_workflow_handle(pid)
            await resilient(
                lambda h=handle, cmd=command, b=body: h.signal(cmd, b), what=f"{pid} {command}"
            )
            exchanges = sum(1 for n, (cmd, _) in enumerate(plan[: number + 1]) if cmd == command)
            await wait_status(client, pid, lambda s, n=exchanges: sum(s["exchanges"].values()) >= n)
        else:
            await update(client, pid, command, body)
        mine.append(body["request_id"])


async def crash_suite(
    partnerships: int = 100,
    kills: int = 20,
    server_restart: bool = True,
    clients: int = 16,
    folder: Path | None = None,
    seed: int | None = None,
    store_timeout: float | None = None,
) -> Figures:
    """N partnerships through the story while workers are SIGKILLed and the server restarts.
    `store_timeout` (AMITY_STORE_TIMEOUT) bounds how long a killed worker's append holds up
    its partnership (30 s unless given)."""
    figures = Figures("crash", partnerships=partnerships)
    rng = random.Random(seed)
    started = time.monotonic()
    with cluster(folder, store_timeout=store_timeout) as running:
        client = await connect(running.settings)
        run_tag = uuid.uuid4().hex[:6]
        pids = [f"partnership-crash-{run_tag}-{i:04d}" for i in range(partnerships)]
        acknowledged: dict[str, list[str]] = {}
        total = sum(len(plan_for(i)[0]) for i in range(partnerships))
        finished = asyncio.Event()

        def progress() -> int:
            return sum(len(v) for v in acknowledged.values())

        async def chaos() -> None:
            restart_at = max(1, total * 2 // 5)
            restarted = not server_restart
            kill_every = max(total // (kills + 1), 1)
            next_kill = kill_every
            while not finished.is_set():
                await asyncio.sleep(rng.uniform(0.1, 0.4))
                running.keep_workers()
                if not restarted and progress() >= restart_at:
                    await asyncio.to_thread(running.restart_server)
                    restarted = True
                    continue
                if running.kills < kills and progress() >= next_kill:
                    await asyncio.sleep(rng.uniform(0.0, 0.5))  # a random moment
                    running.kill_worker()
                    next_kill += kill_every
            # not reached while running (a fast run): do what is left now
            if not restarted:
                figures.notes.append("server restarted after the clients finished")

        async def clients_run() -> None:
            try:
                await gather_limited(
                    [
                        drive(client, pid, i, running.task_queue, acknowledged)
                        for i, pid in enumerate(pids)
                    ],
                    clients,
                )
            finally:
                finished.set()

        results = await asyncio.gather(clients_run(), chaos(), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                figures.problem(f"driver: {type(result).__name__}: {result}")
        figures.worker_kills = running.kills
        figures.server_restarts = running.server_restarts
        figures.commands_applied = progress()
        # Afterwards: every partnership at its stage, the store exact, audits clean.
        running.keep_workers()
        store = open_store(running.store_url)
        try:
            for i, pid in enumerate(pids):
                expected = plan_for(i)[1]
                try:
                    final = await wait_status(
                        client, pid, lambda s, e=expected: s["stage"] == e, deadline=60
                    )
                except TimeoutError as error:
                    figures.problem(str(error))
                    continue
                figures.completed += 1
                history = check_store(store, pid, acknowledged.get(pid, []), figures)
                if history and history[-1].originator_version != final["version"]:
                    figures.problem(
                        f"{pid}: status version {final['version']}, store"
                        f" {history[-1].originator_version}"
                    )
                plan = plan_for(i)[0]
                commands = [e.command for e in history if e.request_id.startswith(pid)]
                distinct = len({e.request_id for e in history if e.request_id.startswith(pid)})
                if distinct != len(plan):
                    figures.problem(f"{pid}: {distinct} commands stored, {len(plan)} sent")
                del commands
            await stuck_workflows(client, pids, figures)
            await audit(client, store, pids, figures)
        finally:
            store.close()
        figures.worker_exits = running.exits
    figures.seconds = time.monotonic() - started
    return figures
