"""The worker process of the lifecycle benchmark: Amity's worker and the floor's, side by
side in one process (`python -m bench.worker ADDRESS STORE_URL QUEUE FLOOR_QUEUE`).

A separate process so the client's load does not share its interpreter, and so its peak
RSS can be read when it exits. Prints `ready` once both workers poll; stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys

from amity.connect import connect
from amity.settings import Settings
from bench.floor import build_floor_worker
from domain.store import PartnershipStore
from worker import build_worker

THREADS = 24


async def main(address: str, store_url: str, queue: str, floor_queue: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    client = await connect(Settings(TEMPORAL_ADDRESS=address))
    store = PartnershipStore(store_url)
    amity = build_worker(client, store, queue, THREADS, webhook_url=None)
    floor = build_floor_worker(client, floor_queue, THREADS)
    async with amity, floor:
        print("ready", flush=True)
        await stop.wait()
    store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
