"""Talking to the CheckpointWitness workflow: publish a checkpoint, read the latest one.

Publishing follows tlog-witness: read the size the witness holds, send the new checkpoint
with that old size and a consistency proof from it, computed from the log's tree. The
witness is started on first use (update-with-start), on the workers' task queue.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    RPCError,
    RPCTimeoutOrCancelledError,
    WithStartWorkflowOperation,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy
from temporalio.service import RPCStatusCode

from tlog.merkle import Tree
from tlog.witness import (
    QUERY,
    UPDATE,
    WORKFLOW_TYPE,
    AddCheckpoint,
    WitnessStart,
    WitnessState,
    witness_id,
)

#: A query needs a worker; without one it would wait for ever.
QUERY_TIMEOUT = timedelta(seconds=10)


class WitnessRefused(Exception):  # noqa: N818 - reads as the situation it names
    """The witness refused the checkpoint; the message is its one-line reason."""


class WitnessUnavailable(Exception):  # noqa: N818
    """The witness could not be asked (no worker, or Temporal failed); one line."""


async def latest(client: Client, origin: str) -> WitnessState | None:
    """The witness's latest checkpoint, or None when this log was never witnessed."""
    handle = client.get_workflow_handle(witness_id(origin))
    try:
        described = await handle.describe(rpc_timeout=QUERY_TIMEOUT)
        if described.status != WorkflowExecutionStatus.RUNNING:
            raise WitnessUnavailable(f"the witness {witness_id(origin)} is not running")
        answer = await handle.query(QUERY, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise WitnessUnavailable(
            f"the witness {witness_id(origin)} did not answer ({error.message.splitlines()[0]})"
        ) from None
    return None if answer is None else WitnessState.model_validate(answer)


async def publish(
    client: Client, task_queue: str, origin: str, tree: Tree, signed: str, key: str
) -> WitnessState:
    """Give the witness this checkpoint of `tree`; its new state, or WitnessRefused."""
    held = await latest(client, origin)
    old_size = held.size if held else 0
    proof: list[bytes] = []
    if 0 < old_size < tree.size:
        proof = tree.consistency_proof(old_size, tree.size)
    request = AddCheckpoint(
        checkpoint=signed,
        old_size=old_size,
        proof=[base64.b64encode(p).decode() for p in proof],
        key=key,
    )
    start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
        WORKFLOW_TYPE,
        WitnessStart(origin=origin),
        id=witness_id(origin),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    try:
        answer = await client.execute_update_with_start_workflow(
            UPDATE,
            request,
            start_workflow_operation=start,
            result_type=WitnessState,
            rpc_timeout=QUERY_TIMEOUT,
        )
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        raise WitnessRefused(str(getattr(cause, "message", None) or cause)) from None
    except RPCTimeoutOrCancelledError:
        raise WitnessUnavailable(
            f"the witness {witness_id(origin)} did not answer in time (is a worker running"
            f" on task queue {task_queue}?)"
        ) from None
    except RPCError as error:
        raise WitnessUnavailable(
            f"the witness {witness_id(origin)} did not answer ({error.message.splitlines()[0]})"
        ) from None
    return WitnessState.model_validate(answer)
