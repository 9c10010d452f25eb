"""Run an Amity worker: PartnershipWorkflow plus the event-store activities.

`python worker.py` (or `amity worker`) uses TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
AMITY_TASK_QUEUE and AMITY_EVENT_STORE_URL from the environment.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.worker import Worker

from activities.reminders import ReminderActivities
from activities.store import StoreActivities
from amity.connect import connect
from amity.settings import Settings, get_settings
from domain.store import PartnershipStore
from workflows.partnership import PartnershipWorkflow


def build_worker(
    client: Client,
    store: PartnershipStore,
    task_queue: str,
    threads: int = 24,
    activities: StoreActivities | None = None,
    webhook_url: str | None = None,
) -> Worker:
    """A worker for one task queue; store activities run on a thread pool (they block)."""
    bound = activities or StoreActivities(store)
    reminders = ReminderActivities(webhook_url)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PartnershipWorkflow],
        activities=[bound.record_events, reminders.deliver_reminder],
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store"),
        max_concurrent_activities=threads,
    )


async def run_worker(settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when run as a program)."""
    settings = settings or get_settings()
    client = await connect(settings)
    store = PartnershipStore(settings.event_store_url)
    stop = stop or asyncio.Event()
    worker = build_worker(
        client,
        store,
        settings.task_queue,
        settings.store_threads,
        webhook_url=settings.webhook_url,
    )
    logging.getLogger("amity").info(
        "worker on %s, task queue %s, store %s",
        settings.temporal_address,
        settings.task_queue,
        settings.event_store_url,
    )
    async with worker:
        await stop.wait()
    store.close()


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    stop = asyncio.Event()

    async def _main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(stop=stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
