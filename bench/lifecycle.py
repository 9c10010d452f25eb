"""Cases 1 and 2: the whole story through Updates, and each Update's latency, against the
bare floor (bench/floor.py) on the same dev server, in the same run, interleaved.

- throughput: N partnerships at once, each started and then sent the story's ten commands
  one after the other (as an operator would); wall time from the first start to the last
  answer. Repetitions alternate which side goes first.
- latency: each Update from `execute_update` sent to its result, seen by the client;
  idle (one partnership at a time) and under the load of the throughput runs.
- memory: the worker process's peak RSS (it runs both workers), read when it exits.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio.client import Client

from amity import story
from bench.common import Options, Row, check, percentile, say
from bench.floor import FLOOR_WORKFLOW
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.sending import with_request_id
from runtime.settings import Settings
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
SIDES = ("amity", "floor")


@dataclass
class Side:
    name: str
    workflow: str
    task_queue: str
    rates: list[float] = field(default_factory=list)
    command_rates: list[float] = field(default_factory=list)
    idle: list[list[float]] = field(default_factory=list)
    loaded: list[list[float]] = field(default_factory=list)


class Lifecycle:
    def __init__(self, client: Client, amity_queue: str, floor_queue: str) -> None:
        self.client = client
        self.steps = story.steps(without_request_ids=True)
        self.sides = {
            "amity": Side("amity", "PartnershipWorkflow", amity_queue),
            "floor": Side("floor", FLOOR_WORKFLOW, floor_queue),
        }

    async def one(self, side: Side, latencies: list[float]) -> None:
        """Start one partnership (or bare workflow) and send it the whole story."""
        handle = await self.client.start_workflow(
            side.workflow,
            story.proposal(),
            id=f"partnership-{side.name}-{uuid.uuid4().hex[:12]}",
            task_queue=side.task_queue,
        )
        for name, payload in self.steps:
            message = with_request_id(payload)
            started = time.perf_counter()
            await handle.execute_update(name, message)
            latencies.append(time.perf_counter() - started)

    async def throughput(self, side: Side, count: int, keep: bool = True) -> float:
        latencies: list[float] = []
        started = time.perf_counter()
        await asyncio.gather(*(self.one(side, latencies) for _ in range(count)))
        elapsed = time.perf_counter() - started
        if keep:
            side.rates.append(count / elapsed)
            side.command_rates.append(count * len(self.steps) / elapsed)
            side.loaded.append(latencies)
        return elapsed

    async def idle(self, side: Side, count: int) -> None:
        latencies: list[float] = []
        for _ in range(count):
            await self.one(side, latencies)
        side.idle.append(latencies)


def start_worker(
    address: str, store_url: str, queue: str, floor_queue: str
) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.worker", address, store_url, queue, floor_queue],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if line.strip() != "ready":
        process.kill()
        raise RuntimeError(f"the benchmark worker did not start (said {line!r})")
    return process


def stop_worker(process: subprocess.Popen[str]) -> float:
    """Read the worker's peak RSS (VmHWM, MiB), then SIGTERM it and wait."""
    from bench.memory import peak_rss

    peak = peak_rss(process.pid)
    process.terminate()
    process.wait(30)
    return peak


async def measure(opts: Options, workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=workdir / "temporal" / "temporal.db",
        log_file=workdir / "temporal.log",
    ).start()
    worker: subprocess.Popen[str] | None = None
    try:
        store_url = f"sqlite:///{workdir / 'lifecycle-events.db'}"
        queue, floor_queue = f"bench-{uuid.uuid4().hex[:8]}", f"floor-{uuid.uuid4().hex[:8]}"
        worker = start_worker(server.address, store_url, queue, floor_queue)
        client = await connect(Settings(TEMPORAL_ADDRESS=server.address))
        bench = Lifecycle(client, queue, floor_queue)
        amity, floor = bench.sides["amity"], bench.sides["floor"]
        warm = max(2, opts.partnerships // 5)
        say(f"lifecycle: warm-up ({warm} partnerships each side)")
        for side in (amity, floor):
            await bench.throughput(side, warm, keep=False)
        for rep in range(opts.repeat):
            order = (amity, floor) if rep % 2 == 0 else (floor, amity)
            for side in order:
                elapsed = await bench.throughput(side, opts.partnerships)
                say(f"lifecycle: {side.name} {opts.partnerships} partnerships in {elapsed:.1f} s")
            for side in order:
                await bench.idle(side, opts.latency_partnerships)
        worker_rss = stop_worker(worker)
        worker = None
    finally:
        if worker is not None:
            worker.kill()
            worker.wait()
        server.stop()
    return rows(bench, opts), {"worker_peak_rss_mib": worker_rss, "temporal": server.command()}


def rows(bench: Lifecycle, opts: Options) -> list[Row]:
    amity, floor = bench.sides["amity"], bench.sides["floor"]
    label = "bare workflow, no-op activities"
    out = [
        Row(
            "1 lifecycle",
            f"partnerships/s (N={opts.partnerships}, {len(bench.steps)} updates each)",
            "/s",
            amity.rates,
            floor.rates,
            label,
        ),
        Row("1 lifecycle", "commands/s", "/s", amity.command_rates, floor.command_rates, label),
    ]
    check(out[0], out[0].ratio, ">=", 0.85)
    check(out[1], out[1].ratio, ">=", 0.85)
    for kind, attr in (("idle", "idle"), ("under load", "loaded")):
        for q in (50, 95, 99):
            row = Row(
                "2 latency",
                f"update p{q}, {kind}",
                "ms",
                [percentile(run, q) * 1000 for run in getattr(amity, attr)],
                [percentile(run, q) * 1000 for run in getattr(floor, attr)],
                label,
                better="lower",
            )
            if q in (50, 95):
                check(row, row.ratio, "<=", 1.3)
            out.append(row)
    return out
