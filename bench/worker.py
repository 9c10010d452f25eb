"""The worker process of the lifecycle benchmark: Amity's worker and the floor's, side by
side in one process (`python -m bench.worker ADDRESS STORE_URL QUEUE FLOOR_QUEUE`).

A separate process so the client's load does not share its interpreter, and so its peak
RSS can be read when it exits. Prints `ready` once both workers poll; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bench.floor import build_floor_worker
from bench.sampler import Sampler
from runtime.connect import connect
from runtime.settings import Settings, open_store
from worker import build_worker

THREADS = 24


async def main(address: str, store_url: str, queue: str, floor_queue: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(Settings(TEMPORAL_ADDRESS=address))
    store = open_store(store_url)
    amity = build_worker(client, store, queue, THREADS, webhook_url=None)
    floor = build_floor_worker(client, floor_queue, THREADS)
    async with amity, floor:
        print("ready", flush=True)
        await stop.wait()
    store.close()


if __name__ == "__main__":
    # BENCH_PROFILE=path: sample every thread's stack while the worker runs (workflows,
    # activities and the event loop are on different threads) and write the report there.
    profile_path = os.environ.get("BENCH_PROFILE")
    sampler = Sampler().start() if profile_path else None
    try:
        asyncio.run(main(*sys.argv[1:5]))
    finally:
        if sampler is not None and profile_path:
            sampler.stop()
            sampler.write(Path(profile_path))
