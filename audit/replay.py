"""Replaying workflow histories against the current workflow code (safe evolution check).

A change to PartnershipWorkflow that alters the commands it issues breaks every running
partnership unless it is behind `workflow.patched(...)`. Replaying real histories with the
real data converter is how we find out before deploying, not after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.worker import Replayer

from workflows.partnership import PartnershipWorkflow

DEFAULT_QUERY = 'WorkflowType="PartnershipWorkflow"'


@dataclass
class ReplayReport:
    """How many histories replayed and which failed (workflow id / run id: reason)."""

    replayed: int = 0
    failures: list[str] = field(default_factory=list)


def replayer(
    workflow_class: type = PartnershipWorkflow, data_converter: DataConverter | None = None
) -> Replayer:
    """A replayer that decodes histories as the worker wrote them: with the client's data
    converter (and so its payload codec) when replaying a live server's histories."""
    return Replayer(
        workflows=[workflow_class], data_converter=data_converter or pydantic_data_converter
    )


async def replay_histories(
    histories: list[WorkflowHistory], workflow_class: type = PartnershipWorkflow
) -> ReplayReport:
    """Replay saved histories; a nondeterminism is a failure, never an exception."""
    report = ReplayReport()
    engine = replayer(workflow_class)
    for history in histories:
        result = await engine.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed += 1
        if result.replay_failure is not None:
            reason = str(result.replay_failure).splitlines()[0]
            report.failures.append(f"{history.workflow_id}: {reason}")
    return report


async def replay_live_workflows(
    client: Client,
    query: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> ReplayReport:
    """Replay the histories of partnerships on the server against this code."""
    report = ReplayReport()
    engine = replayer(data_converter=client.data_converter)
    async for history in client.list_workflows(query or DEFAULT_QUERY).map_histories():
        result = await engine.replay_workflow(history, raise_on_replay_failure=False)
        report.replayed += 1
        if progress is not None:
            progress(history.workflow_id)
        if result.replay_failure is not None:
            reason = str(result.replay_failure).splitlines()[0]
            report.failures.append(f"{history.workflow_id}: {reason}")
    return report
