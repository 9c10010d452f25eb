"""Scale: many open partnerships waiting on timers at once, and one long history.

`python -m bench.scale --partnerships 10000` starts its own Temporal dev server (SQLite
file) and one Amity worker (its own process), then:

1. **Open partnerships**: starts N partnerships whose talks deadline is a short timer
   (long enough that all N are open and waiting at once), recording the worker's and the
   server's resident memory as the number open grows, the time to start them, and waits
   until every timer has fired (each firing is one `talks_deadline_passed` event in the
   store: counted, so a lost timer shows).
2. **History length**: one partnership taken through thousands of exchanges (several
   continue-as-new runs): memory, the state it carries and the bytes on disk per event.

Prints a table and writes JSON (bench/results/scale-<date>.json unless --out). Memory is
RSS read from /proc (VmRSS now, VmHWM peak), in MiB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from amity import story
from bench.common import say
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.sending import send_update
from runtime.settings import Settings, open_store
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8


def rss(pid: int, key: str = "VmRSS") -> float:
    """A live process's resident memory (MiB): VmRSS now, or VmHWM its peak."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(status.split(f"{key}:")[1].split()[0]) / 1024


def tree_rss(pid: int) -> float:
    """RSS of a process and its children (the dev server may be a wrapper)."""
    total = rss(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            total += tree_rss(int(child))
    return total


@dataclass
class Point:
    """Memory at one moment of the run."""

    label: str
    open_partnerships: int
    seconds: float
    worker_mib: float
    server_mib: float
    extra: dict[str, Any] = field(default_factory=dict)


class Processes:
    def __init__(self, server: DevServer, worker: subprocess.Popen[str]) -> None:
        assert server.process is not None
        self.server_pid = server.process.pid
        self.worker_pid = worker.pid
        self.started = time.perf_counter()

    def point(self, label: str, open_now: int, **extra: Any) -> Point:
        found = Point(
            label,
            open_now,
            round(time.perf_counter() - self.started, 1),
            round(rss(self.worker_pid), 1),
            round(tree_rss(self.server_pid), 1),
            extra,
        )
        say(
            f"scale: {label}: {open_now:,} open, worker {found.worker_mib} MiB,"
            f" server {found.server_mib} MiB"
        )
        return found


def start_worker(address: str, store_url: str, queue: str, log: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.scale", "--worker", address, store_url, queue],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    if process.stdout.readline().strip() != "ready":
        process.kill()
        raise RuntimeError("the scale worker did not start")
    # Keep reading what it says: a full pipe would stop the worker at its next log line.
    threading.Thread(target=_drain, args=(process.stdout, log), daemon=True).start()
    return process


def _drain(stream: Any, log: Path) -> None:
    with log.open("a") as out:
        for line in stream:
            out.write(line)


async def run_worker(address: str, store_url: str, queue: str) -> None:
    from worker import build_worker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(Settings(TEMPORAL_ADDRESS=address))
    store = open_store(store_url)
    async with build_worker(client, store, queue, THREADS, webhook_url=None):
        print("ready", flush=True)
        await stop.wait()
    store.close()


def count_events(store_url: str, kind: str) -> int:
    """How many stored events are of `kind` (read raw: no decoding)."""
    store = open_store(store_url)
    try:
        needle = f'"type":"{kind}"'.encode()
        found, start = 0, 1
        while True:
            batch = store.recorder.select_notifications(start=start, limit=10_000)
            if not batch:
                return found
            found += sum(1 for n in batch if needle in n.state)
            start = batch[-1].id + 1
    finally:
        store.close()


async def open_partnerships(
    address: str, queue: str, store_url: str, count: int, procs: Processes, deadline: float
) -> dict[str, Any]:
    client = await connect(Settings(TEMPORAL_ADDRESS=address))
    proposal = story.proposal()
    proposal["policy"] = {"talks_deadline": f"PT{int(deadline)}S"}
    marks = sorted({count // 10, count // 4, count // 2, count} - {0})
    points = [procs.point("before", 0)]
    gate = asyncio.Semaphore(64)
    started_count = 0
    run = uuid.uuid4().hex[:6]

    async def start(n: int) -> None:
        nonlocal started_count
        async with gate:
            await client.start_workflow(
                "PartnershipWorkflow", proposal, id=f"scale-{run}-{n}", task_queue=queue
            )
            started_count += 1

    began = time.perf_counter()
    done = 0
    for mark in marks:
        await asyncio.gather(*(start(n) for n in range(done, mark)))
        done = mark
        # started is not yet proposed: wait until the store holds every proposal
        while count_events(store_url, "proposed") < mark:
            await asyncio.sleep(0.5)
        points.append(procs.point(f"{mark:,} open", mark))
    start_seconds = time.perf_counter() - began
    fired_at_all_open = count_events(store_url, "talks_deadline_passed")
    say(f"scale: {count:,} started in {start_seconds:.1f} s ({fired_at_all_open} fired by then)")
    waited = time.perf_counter()
    fired = 0
    limit = deadline + start_seconds * 3 + 120
    while time.perf_counter() - waited < limit:
        fired = count_events(store_url, "talks_deadline_passed")
        if fired >= count:
            break
        await asyncio.sleep(2)
    points.append(procs.point("every timer fired" if fired >= count else "gave up", count))
    return {
        "partnerships": count,
        "timer_seconds": deadline,
        "start_seconds": round(start_seconds, 1),
        "starts_per_second": round(count / start_seconds, 1),
        "fired_before_all_open": fired_at_all_open,
        "fired": fired,
        "fire_wait_seconds": round(time.perf_counter() - waited, 1),
        "points": [p.__dict__ for p in points],
    }


async def long_history(
    address: str, queue: str, store_url: str, server_db: Path, sizes: list[int], procs: Processes
) -> list[dict[str, Any]]:
    client = await connect(Settings(TEMPORAL_ADDRESS=address))
    pid = f"scale-long-{uuid.uuid4().hex[:6]}"
    await client.start_workflow("PartnershipWorkflow", story.proposal(), id=pid, task_queue=queue)
    for command, payload in story.steps()[:5]:
        await send_update(client, pid, command, payload)
    base = story.load("record_exchange.json")
    store_file = Path(store_url.removeprefix("sqlite:///"))
    sent = 0
    rows = []
    store_before = store_file.stat().st_size
    server_before = _size(server_db)
    for size in sizes:

        async def send(numbers: range) -> None:
            for n in numbers:
                await send_update(client, pid, "record_exchange", {**base, "request_id": f"x{n}"})

        clients = 4
        await asyncio.gather(*(send(range(sent + i, size, clients)) for i in range(clients)))
        sent = size
        status = await client.get_workflow_handle(pid).query("status")
        runs = [e.run_id async for e in client.list_workflows(f'WorkflowId="{pid}"')]
        point = procs.point(f"history of {size:,} exchanges", 1)
        rows.append(
            {
                "exchanges": size,
                "runs": len(runs),
                "status_bytes": len(json.dumps(status)),
                "worker_mib": point.worker_mib,
                "server_mib": point.server_mib,
                "store_bytes_per_event": round(
                    (store_file.stat().st_size - store_before) / max(size, 1)
                ),
                "server_bytes_per_event": round((_size(server_db) - server_before) / max(size, 1)),
            }
        )
    return rows


def _size(path: Path) -> int:
    """A SQLite database's bytes with its write-ahead log."""
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def main(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(args.workdir or f"/tmp/amity-scale-{uuid.uuid4().hex[:6]}")
    workdir.mkdir(parents=True, exist_ok=True)
    server_db = workdir / "temporal" / "temporal.db"
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=server_db,
        log_file=workdir / "temporal.log",
    ).start()
    store_url = f"sqlite:///{workdir / 'events.db'}"
    queue = f"scale-{uuid.uuid4().hex[:8]}"
    worker = start_worker(server.address, store_url, queue, workdir / "worker.log")
    result: dict[str, Any] = {"when": datetime.now(UTC).isoformat(), "cpus": os.cpu_count()}
    try:
        procs = Processes(server, worker)
        deadline = args.timer or max(60.0, args.partnerships / 25)
        result["open"] = await open_partnerships(
            server.address, queue, store_url, args.partnerships, procs, deadline
        )
        result["open"]["server_db_bytes"] = _size(server_db)
        result["open"]["store_bytes"] = _size(workdir / "events.db")
        if args.history:
            sizes = [int(s) for s in args.history.split(",")]
            result["history"] = await long_history(
                server.address, queue, store_url, server_db, sizes, procs
            )
        result["peak"] = {
            "worker_mib": round(rss(worker.pid, "VmHWM"), 1),
        }
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.stop()
    return result


def table(result: dict[str, Any]) -> str:
    opened = result["open"]
    lines = [
        f"Open partnerships: {opened['partnerships']:,} started in {opened['start_seconds']} s"
        f" ({opened['starts_per_second']}/s); timers of {opened['timer_seconds']:.0f} s:"
        f" {opened['fired']:,} of {opened['partnerships']:,} fired"
        f" ({opened['fired_before_all_open']} before the last had started)",
        "",
        "| moment | open | worker RSS MiB | server RSS MiB |",
        "|---|---:|---:|---:|",
    ]
    for p in opened["points"]:
        lines.append(
            f"| {p['label']} | {p['open_partnerships']:,} | {p['worker_mib']} | {p['server_mib']} |"
        )
    if result.get("history"):
        lines += [
            "",
            "| exchanges in one partnership | runs | status bytes | worker MiB | server MiB"
            " | store bytes/event | server bytes/event |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for h in result["history"]:
            lines.append(
                f"| {h['exchanges']:,} | {h['runs']} | {h['status_bytes']:,} | {h['worker_mib']}"
                f" | {h['server_mib']} | {h['store_bytes_per_event']}"
                f" | {h['server_bytes_per_event']} |"
            )
    return "\n".join(lines)


def cli(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__)
    parser.add_argument("--partnerships", type=int, default=1_000)
    parser.add_argument("--timer", type=float, help="talks deadline seconds (default: N/25, >=60)")
    parser.add_argument("--history", default="500,2000", help="exchanges, cumulative")
    parser.add_argument("--workdir", help="where the server's and the store's files go")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        asyncio.run(run_worker(*args.worker))
        return 0
    result = asyncio.run(main(args))
    text = table(result)
    print(text)
    out = args.out or ROOT / "bench" / "results" / f"scale-{datetime.now(UTC):%Y-%m-%d}.json"
    out.write_text(json.dumps({**result, "table": text}, indent=1) + "\n")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli())
