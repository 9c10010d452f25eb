"""Run an Amity worker: PartnershipWorkflow, the CheckpointWitness, the event-store activities.

`python worker.py` (or `amity worker`) uses TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
AMITY_TASK_QUEUE and AMITY_EVENT_STORE_URL from the environment; AMITY_METRICS_PORT turns
on the Prometheus endpoint (on AMITY_METRICS_HOST, 127.0.0.1 by default), AMITY_LOG_FORMAT=json
structured logs, AMITY_PAYLOAD_KEY the payload codec, AMITY_STORE_KEY /
AMITY_PERSONAL_DATA_KEYS the store's protection, AMITY_WEBHOOK_URL with AMITY_WEBHOOK_SECRET
signed reminders. No secret is ever printed or logged (runtime/redact.py).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import warnings
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.reminders import ReminderActivities
from activities.store import StoreActivities
from activities.webhook import Webhook
from audit.checkpointing import CheckpointActivities
from runtime import metrics
from runtime.connect import connect, for_worker
from runtime.errors import UserError
from runtime.failures import run_reporting
from runtime.metrics import RefusalCounter, configure_logging
from runtime.settings import Settings, get_settings, open_store
from runtime.store_timeout import StoreTimeout
from store.application import PartnershipStore
from workflows.partnership import PartnershipWorkflow
from workflows.witness import CheckpointLog, CheckpointWitness

#: Amity's own workflow modules, imported once per worker instead of once per workflow run.
OWN_WORKFLOW_MODULES = ("workflows",)


def workflow_runner(modules: tuple[str, ...] = OWN_WORKFLOW_MODULES) -> WorkflowRunner:
    """Temporal's sandbox, with `modules` passed through it.

    By default the sandbox re-imports (and, without bytecode caches, recompiles) the workflow
    module for every run it starts and reaches it through restricted proxies on every
    activation: a third of the worker's CPU per command. Our workflow modules are pure and
    keep no mutable globals, like `domain/` (already passed through), so they are loaded
    once. The full sandbox still guards them: the replayer (audit/replay.py, the saved
    histories in the tests) and tests/workflows/test_strict_sandbox.py run the unrestricted
    default, where any clock, randomness or I/O in workflow code fails the run."""
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*modules)
    )


def build_worker(
    client: Client,
    store: PartnershipStore,
    task_queue: str,
    threads: int = 24,
    activities: StoreActivities | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    webhook_timeout: float = 10.0,
    settings: Settings | None = None,
    store_timeout: float | None = None,
    runner: WorkflowRunner | None = None,
) -> Worker:
    """A worker for one task queue; store activities run on a thread pool (they block).

    Reminders are async activities with slots of their own beside the store's: they never
    hold a store thread, and never more than REMINDER_SLOTS of them wait on a receiver.
    A webhook URL needs its secret (WebhookConfigError otherwise). The scheduled checkpoint
    signs with the key and origin of `settings` (read afresh at each one without them).
    `store_timeout` replaces the workflow's 30 s per store activity attempt; `runner`
    replaces `workflow_runner()`."""
    bound = activities or StoreActivities(store)
    reminders = ReminderActivities(Webhook.configure(webhook_url, webhook_secret, webhook_timeout))
    checkpoints = CheckpointActivities(store, task_queue, settings)
    with warnings.catch_warnings():
        # The SDK warns when slots outnumber the executor's threads; the extra slots are for
        # the async reminders, which never run on the executor.
        warnings.filterwarnings("ignore", "Worker max_concurrent_activities", UserWarning)
        return Worker(
            for_worker(client),
            task_queue=task_queue,
            workflows=[PartnershipWorkflow, CheckpointWitness, CheckpointLog],
            activities=[
                bound.record_events,
                bound.correction_target,
                reminders.deliver_reminder,
                checkpoints.checkpoint_log,
            ],
            activity_executor=ThreadPoolExecutor(max_workers=threads, thread_name_prefix="store"),
            max_concurrent_activities=threads + reminders.slots,
            workflow_runner=runner or workflow_runner(),
            interceptors=[RefusalCounter()]
            + ([StoreTimeout(store_timeout)] if store_timeout is not None else []),
        )


async def run_worker(settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or SIGINT/SIGTERM when run as a program)."""
    settings = settings or get_settings()
    check_webhook(settings)  # a bad webhook is a one-line error before anything starts
    runtime = metrics_runtime(settings.metrics_port, settings.metrics_host)
    client = await connect(settings, runtime=runtime)
    store = open_store(settings=settings)
    stop = stop or asyncio.Event()
    worker = build_worker(
        client,
        store,
        settings.task_queue,
        settings.store_threads,
        **webhook_settings(settings),
        settings=settings,
        store_timeout=settings.store_timeout,
    )
    logging.getLogger("amity").info(
        "worker on %s, task queue %s, store %s",
        settings.temporal_address,
        settings.task_queue,
        settings.store_url_shown,
    )
    try:
        async with worker:
            await stop.wait()
    finally:
        store.close()


def webhook_settings(settings: Settings) -> dict[str, Any]:
    """build_worker's webhook arguments from the settings (every way of running a worker,
    `amity up` included, passes these)."""
    return {
        "webhook_url": settings.webhook_url.get_secret_value() if settings.webhook_url else None,
        "webhook_secret": (
            settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        ),
        "webhook_timeout": settings.webhook_timeout,
    }


def check_webhook(settings: Settings) -> None:
    """WebhookConfigError if the settings' webhook cannot be used."""
    found = webhook_settings(settings)
    Webhook.configure(found["webhook_url"], found["webhook_secret"], found["webhook_timeout"])


def metrics_runtime(port: int | None, host: str = "127.0.0.1") -> Runtime | None:
    """With a metrics port: a Temporal runtime exporting the SDK's metrics and Amity's on
    one endpoint, `host:port` (loopback unless configured)."""
    if port is None:
        return None
    try:
        runtime = metrics.metrics_runtime(host, port)
    except metrics.MetricsUnavailable as error:  # a taken port, an address not on this machine
        raise UserError(
            f"metrics cannot listen on {host}:{port} (AMITY_METRICS_HOST / AMITY_METRICS_PORT):"
            f" {error}"
        ) from None
    logging.getLogger("amity").info("metrics on %s:%s/metrics", host, port)
    return runtime


def main() -> None:
    # A SQLite event store, its -wal/-shm files and a generated audit key are this user's
    # alone (as under `amity up`): tighten whatever umask the process was given.
    os.umask(os.umask(0o077) | 0o077)
    settings = get_settings()
    configure_logging(settings.log_format, secrets=settings.secret_values())
    stop = asyncio.Event()

    async def _main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_worker(stop=stop)

    try:
        asyncio.run(_main())
    finally:
        # the client's Rust connection (TLS especially) must go while Python is whole, not
        # during interpreter exit, where tearing it down can abort the process
        gc.collect()


if __name__ == "__main__":
    # As under `amity worker`: a bad configuration is one line with exit code 2.
    run_reporting(main)
