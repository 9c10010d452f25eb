"""The checks every scenario ends with: the store exact (no duplicate, no loss, versions
contiguous), no workflow stuck, `amity audit reconcile` and `amity audit verify` clean."""

from __future__ import annotations

from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from bench.faults.figures import Figures
from bench.faults.sending import gather_limited
from store.application import PartnershipStore


def check_store(
    store: PartnershipStore, pid: str, acknowledged: list[str], figures: Figures
) -> list[Any]:
    """Versions contiguous, each request id in one block, every acknowledged one present."""
    history = store.history(pid)
    figures.events_stored += len(history)
    versions = [e.originator_version for e in history]
    if versions != list(range(1, len(history) + 1)):
        figures.problem(f"{pid}: versions not contiguous: {versions}")
    blocks: list[str] = []
    for event in history:
        if not blocks or blocks[-1] != event.request_id:
            blocks.append(event.request_id)
    for request_id, count in Counter(blocks).items():
        if count > 1:
            figures.duplicates += count - 1
            figures.problem(f"{pid}: request {request_id} stored {count} times")
    stored = set(blocks)
    for request_id in acknowledged:
        if request_id not in stored:
            figures.losses += 1
            figures.problem(f"{pid}: acknowledged request {request_id} is not in the store")
    return history


async def stuck_workflows(client: Client, pids: list[str], figures: Figures) -> None:
    """A workflow is stuck if any run failed workflow tasks repeatedly or one is pending."""

    async def one(pid: str) -> None:
        async for execution in client.list_workflows(f'WorkflowId = "{pid}"'):
            handle = client.get_workflow_handle(pid, run_id=execution.run_id)
            history = await handle.fetch_history()
            failed = [
                e.workflow_task_failed_event_attributes.failure.message
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            ]
            figures.activity_retries += sum(
                1
                for e in history.events
                if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
                and e.activity_task_started_event_attributes.attempt > 1
            )
            pending = 0
            if execution.status == WorkflowExecutionStatus.RUNNING:
                described = await handle.describe()
                if described.raw_description.HasField("pending_workflow_task"):
                    pending = described.raw_description.pending_workflow_task.attempt
            if len(failed) > 1 or pending > 2:
                figures.stuck += 1
                figures.problem(
                    f"{pid} run {execution.run_id}: {len(failed)} workflow task failure(s),"
                    f" pending attempt {pending}: {failed[:1]}"
                )

    await gather_limited([one(pid) for pid in pids], 16)


async def audit(client: Client, store: PartnershipStore, pids: list[str], figures: Figures) -> None:
    """`amity audit reconcile` for these partnerships and `amity audit verify` of the store."""
    from audit.reconcile import reconcile
    from audit.verify import verify_store

    for pid in pids:
        report = await reconcile(client, store, pid)
        if not report.ok:
            figures.reconcile_bad += 1
            figures.problem(
                f"reconcile {pid}: missing {report.missing[:2]} extra {report.extra[:2]}"
                f" different {report.different[:2]}"
            )
    verified = verify_store(store)
    if verified.problems:
        figures.verify_bad += len(verified.problems)
        for problem in verified.problems[:5]:
            figures.problem(f"verify: {problem}")
