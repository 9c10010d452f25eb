"""Sending commands the way every client should: with a request_id, retried across a
hand-over to a new run (and after a workflow task another client's Update broke).

When a partnership continues as new, an Update that arrived during the hand-over is
answered with "workflow execution already completed" although the partnership lives on
in its next run. Resending with the same request_id is always safe: the workflow applies
a request_id once and answers a repeat with the earlier outcome.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

#: How often a command is resent when the run it reached was just handed over, or its
#: workflow task had failed (Temporal retries a failed task after up to 10 s): about 20 s.
ATTEMPTS = 20


def with_request_id(payload: dict[str, Any]) -> dict[str, Any]:
    """A copy of `payload` with a request_id (a new UUID when the sender gave none)."""
    if payload.get("request_id"):
        return dict(payload)
    return {**payload, "request_id": f"amity-{uuid.uuid4()}"}


def _task_failed(error: BaseException) -> bool:
    """Another Update in the same workflow task broke it (e.g. one over Temporal's size
    limit from a client without Amity's guard): this one was never applied."""
    return (
        isinstance(error, RPCError)
        and error.status == RPCStatusCode.FAILED_PRECONDITION
        and "Workflow Task in failed state" in error.message
    )


def _handed_over(error: BaseException) -> bool:
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return True
    if isinstance(error, WorkflowUpdateFailedError):
        cause = error.cause
        return (
            isinstance(cause, ApplicationError) and cause.type == "AcceptedUpdateCompletedWorkflow"
        )
    return (
        isinstance(error, RPCError)
        and error.status == RPCStatusCode.NOT_FOUND
        and "already completed" in error.message
    )


async def send_update(
    client: Client, partnership_id: str, command: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Execute one command as an Update; retried (idempotently) across a run hand-over."""
    payload = with_request_id(payload)
    handle = client.get_workflow_handle(partnership_id)
    for attempt in range(ATTEMPTS):
        try:
            result: dict[str, Any] = await handle.execute_update(command, payload)
            return result
        except (
            RPCError,
            WorkflowUpdateFailedError,
            WorkflowUpdateRPCTimeoutOrCancelledError,
        ) as error:
            if not (_handed_over(error) or _task_failed(error)) or attempt == ATTEMPTS - 1:
                raise
            description = await handle.describe()
            if description.status is not None and description.status.name != "RUNNING":
                raise
            await asyncio.sleep(min(0.1 * (attempt + 1), 2.0))
    raise AssertionError("unreachable")
