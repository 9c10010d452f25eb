"""What `amity start / send / status / list` do against Temporal, with one-line errors.

Each function takes a connected client and returns plain data (dicts); the CLI renders it.
Temporal's exceptions are translated here into `UserError` (exit 2, one line) so that no
caller ever shows a traceback for a user's mistake.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import SearchAttributeKey, TypedSearchAttributes
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from amity.checks import check_command, check_id, check_proposal, proposal_details, proposal_summary
from amity.cli_common import UserError
from domain.identity import conventional_id
from runtime.sending import send_update
from workflows.search import CITIES, COUNTRIES, STAGE, TIER

WORKFLOW_TYPE = "PartnershipWorkflow"
#: How long a command or a query waits for a worker before giving up with one line.
ANSWER_TIMEOUT = 30.0

T = TypeVar("T")


def first_line(text: object) -> str:
    lines = str(text).strip().splitlines()
    return lines[0] if lines else type(text).__name__


@asynccontextmanager
async def translated(partnership_id: str, what: str) -> AsyncIterator[None]:
    """Temporal's errors about one partnership, as one line each."""
    try:
        yield
    except WorkflowUpdateFailedError as error:
        cause = error.cause
        reason = cause.message if isinstance(cause, ApplicationError) else first_line(cause)
        if isinstance(cause, ApplicationError) and cause.type == "RequestIdReused":
            raise UserError(first_line(reason)) from None  # it names the command itself
        raise UserError(f"{what} refused: {first_line(reason)}") from None
    except WorkflowUpdateRPCTimeoutOrCancelledError:
        raise UserError(
            f"{what}: no worker answered for {partnership_id} in time; is `amity up` or"
            " `amity worker` running on its task queue? (the command may still be applied later)"
        ) from None
    except (WorkflowQueryFailedError, WorkflowQueryRejectedError) as error:
        raise UserError(f"{what}: the partnership did not answer: {first_line(error)}") from None
    except TimeoutError:
        raise UserError(
            f"{what}: no worker answered for {partnership_id} within {ANSWER_TIMEOUT:.0f}s; is"
            " `amity up` or `amity worker` running on its task queue? (a command may still be"
            " applied when one starts)"
        ) from None
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            if "already completed" in error.message:
                raise UserError(
                    f"{what}: partnership {partnership_id} has ended; see `amity status"
                    f" {partnership_id}`"
                ) from None
            raise UserError(f"no partnership {partnership_id!r} on this Temporal") from None
        if error.status == RPCStatusCode.DEADLINE_EXCEEDED:
            raise UserError(
                f"{what}: no answer for {partnership_id} in time; is `amity up` or `amity worker`"
                " running on its task queue?"
            ) from None
        if error.status == RPCStatusCode.INVALID_ARGUMENT:
            raise UserError(f"{what}: {first_line(error.message)}") from None
        raise UserError(
            f"{what}: Temporal answered {error.status.name}: {first_line(error.message)}"
        ) from None


async def answered(awaitable: Awaitable[T]) -> T:
    """Wait for a worker's answer at most ANSWER_TIMEOUT seconds (TimeoutError otherwise)."""
    return await asyncio.wait_for(awaitable, ANSWER_TIMEOUT)


# -- start --------------------------------------------------------------------------------


async def start(
    client: Client,
    task_queue: str,
    payload: dict[str, Any],
    partnership_id: str | None = None,
    source: str = "proposal",
) -> dict[str, str]:
    """Validate locally, then start one PartnershipWorkflow; returns its id and run id."""
    proposal = check_proposal(payload, source)
    workflow_id = check_id(
        partnership_id or conventional_id(proposal.initiator.name, proposal.partner.name)
    )
    try:
        handle = await client.start_workflow(
            WORKFLOW_TYPE,
            payload,
            id=workflow_id,
            task_queue=task_queue,
            static_summary=proposal_summary(proposal),
            static_details=proposal_details(proposal),
        )
    except WorkflowAlreadyStartedError:
        raise UserError(
            f"partnership {workflow_id} is already running; choose another id with --id"
        ) from None
    except RPCError as error:
        raise UserError(f"cannot start {workflow_id}: {first_line(error.message)}") from None
    return {
        "partnership_id": workflow_id,
        "run_id": handle.result_run_id or "",
        "task_queue": task_queue,
    }


# -- send ---------------------------------------------------------------------------------


async def send(
    client: Client,
    partnership_id: str,
    command: str,
    payload: dict[str, Any],
    signal: bool = False,
) -> dict[str, Any] | None:
    """An Update (returns the new status) or a Signal (returns None once delivered)."""
    check_command(command, payload)
    handle = client.get_workflow_handle(partnership_id)
    async with translated(partnership_id, command):
        if signal:
            await handle.signal(command, payload)
            return None
        # with a request_id, resent across a hand-over to the next run (runtime/sending.py)
        result = await answered(send_update(client, partnership_id, command, payload))
        return result


# -- status -------------------------------------------------------------------------------


async def status(client: Client, partnership_id: str) -> dict[str, Any]:
    """The `status` object: the query while running, the result once it has ended."""
    handle: WorkflowHandle[Any, Any] = client.get_workflow_handle(partnership_id)
    async with translated(partnership_id, "status"):
        described = await handle.describe()
        if described.status == WorkflowExecutionStatus.COMPLETED:
            try:
                result: dict[str, Any] = await handle.result()
                return result
            except WorkflowFailureError:
                pass  # continued as new meanwhile: ask the new run
        elif described.status == WorkflowExecutionStatus.FAILED:
            try:
                await handle.result()
            except WorkflowFailureError as error:
                cause = error.cause
                reason = cause.message if isinstance(cause, ApplicationError) else first_line(cause)
                raise UserError(f"partnership {partnership_id} failed: {reason}") from None
        elif described.status not in (
            WorkflowExecutionStatus.RUNNING,
            WorkflowExecutionStatus.CONTINUED_AS_NEW,
        ):
            name = described.status.name.lower().replace("_", " ") if described.status else "?"
            raise UserError(f"partnership {partnership_id} was {name} in Temporal; no status")
        queried: dict[str, Any] = await answered(
            handle.query("status", rpc_timeout=timedelta(seconds=ANSWER_TIMEOUT))
        )
        return queried


# -- list ---------------------------------------------------------------------------------


def quoted(value: str) -> str:
    """A string literal for a visibility query."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def list_query(
    stage: str | None = None,
    tier: str | None = None,
    city: str | None = None,
    country: str | None = None,
    running: bool = False,
) -> str:
    clauses = [f"WorkflowType={quoted(WORKFLOW_TYPE)}"]
    if stage:
        clauses.append(f"{STAGE.name}={quoted(stage)}")
    if tier:
        clauses.append(f"{TIER.name}={quoted(tier)}")
    if city:
        clauses.append(f"{CITIES.name}={quoted(city)}")
    if country:
        clauses.append(f"{COUNTRIES.name}={quoted(country.upper())}")
    if running:
        clauses.append('ExecutionStatus="Running"')
    return " AND ".join(clauses)


def _attribute(attributes: TypedSearchAttributes, key: SearchAttributeKey[Any]) -> Any:
    return attributes.get(key)


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def list_partnerships(client: Client, query: str, limit: int = 200) -> list[dict[str, Any]]:
    """Partnerships matching a visibility query, newest first, one dict each."""
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            rows.append(
                {
                    "partnership_id": execution.id,
                    "run_id": execution.run_id,
                    "status": execution.status.name.lower() if execution.status else None,
                    "stage": _attribute(attributes, STAGE),
                    "tier": _attribute(attributes, TIER),
                    "cities": list(_attribute(attributes, CITIES) or []),
                    "countries": list(_attribute(attributes, COUNTRIES) or []),
                    "started_at": _iso(execution.start_time),
                    "closed_at": _iso(execution.close_time),
                }
            )
    except RPCError as error:
        raise UserError(f"list: {first_line(error.message)}") from None
    return rows
