"""Run an Amity worker: PartnershipWorkflow, the CheckpointWitness, the event-store activities.

`python worker.py` (or `amity worker`) uses TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
AMITY_TASK_QUEUE and AMITY_EVENT_STORE_URL from the environment; AMITY_METRICS_PORT turns
on the Prometheus endpoint, AMITY_LOG_FORMAT=json structured logs, AMITY_PAYLOAD_KEY the
payload codec, AMITY_STORE_KEY / AMITY_PERSONAL_DATA_KEYS the store's protection.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities.checkpoint import CheckpointActivities
from activities.reminders import ReminderActivities
from activities.store import StoreActivities
from amity.connect import connect, for_worker
from amity.metrics import MetricsServer, RefusalCounter, configure_logging
from amity.settings import Settings, get_settings
from domain.store import PartnershipStore
from workflows.partnership import PartnershipWorkflow
from workflows.witness import CheckpointLog, CheckpointWitness


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
    checkpoints = CheckpointActivities(store, task_queue)
    return Worker(
        for_worker(client),
        task_queue=task_queue,
        workflows=[PartnershipWorkflow, CheckpointWitness, CheckpointLog],
        activities=[bound.record_events, reminders.deliver_reminder, checkpoints.checkpoint_log],
        activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store"),
        max_concurrent_activities=threads,
        interceptors=[RefusalCounter()],
    )


async def run_worker(settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when run as a program)."""
    settings = settings or get_settings()
    runtime, metrics_server = metrics_runtime(settings.metrics_port)
    client = await connect(settings, runtime=runtime)
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
    try:
        async with worker:
            await stop.wait()
    finally:
        store.close()
        if metrics_server is not None:
            metrics_server.stop()


def metrics_runtime(port: int | None) -> tuple[Runtime | None, MetricsServer | None]:
    """With a metrics port: Temporal's runtime metrics on an internal loopback port, and
    one endpoint on `port` serving Amity's metrics followed by Temporal's."""
    if port is None:
        return None, None
    from amity.devserver import free_port

    internal = free_port()
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(
                bind_address=f"127.0.0.1:{internal}",
                counters_total_suffix=True,
                durations_as_seconds=True,
            )
        )
    )
    server = MetricsServer(port, temporal_url=f"http://127.0.0.1:{internal}/metrics").start()
    logging.getLogger("amity").info("metrics on :%s/metrics", server.port)
    return runtime, server


def main() -> None:
    configure_logging(get_settings().log_format)
    stop = asyncio.Event()

    async def _main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(stop=stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
