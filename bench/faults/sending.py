"""Sending commands and reading status while workers die and the server restarts: every
request is resent with the same request id until it is answered."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

WORKFLOW = "PartnershipWorkflow"


class Refused(Exception):  # noqa: N818 - reads as what happened
    """The workflow refused the command (its reason is the message)."""


async def resilient(
    action: Callable[[], Awaitable[Any]], deadline: float = 240.0, what: str = ""
) -> Any:
    """Retry `action` through worker crashes and a server restart (same request id)."""
    give_up = time.monotonic() + deadline
    pause = 0.2
    while True:
        try:
            return await asyncio.wait_for(action(), 30)
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in (
                "CommandRejected",
                "InvalidCommand",
                "InvalidProposal",
            ):
                raise Refused(cause.message) from None
            last: BaseException = error
        except WorkflowAlreadyStartedError:
            return None  # our earlier attempt started it
        except (RPCError, WorkflowUpdateRPCTimeoutOrCancelledError, TimeoutError) as error:
            last = error
        except RuntimeError as error:  # the client's connection while the server restarts
            last = error
        if time.monotonic() > give_up:
            raise TimeoutError(f"{what}: gave up after {deadline:.0f}s: {last}")
        await asyncio.sleep(pause)
        pause = min(pause * 1.5, 3.0)


async def update(client: Client, pid: str, command: str, payload: dict[str, Any]) -> Any:
    handle = client.get_workflow_handle(pid)
    request_id = payload["request_id"]
    return await resilient(
        lambda: handle.execute_update(command, payload, id=request_id),
        what=f"{pid} {command}",
    )


async def wait_status(
    client: Client, pid: str, done: Callable[[dict[str, Any]], bool], deadline: float = 240.0
) -> dict[str, Any]:
    """Poll `status` (or the result once ended) until `done` says so."""
    give_up = time.monotonic() + deadline
    last: dict[str, Any] = {}
    while time.monotonic() < give_up:
        with contextlib.suppress(Exception):
            last = await current_status(client, pid)
            if done(last):
                return last
        await asyncio.sleep(0.3)
    raise TimeoutError(f"{pid}: status never reached the expected state; last {last!r:.300}")


async def current_status(client: Client, pid: str) -> dict[str, Any]:
    handle = client.get_workflow_handle(pid)
    described = await handle.describe()
    if described.status == WorkflowExecutionStatus.COMPLETED:
        result: dict[str, Any] = await handle.result()
        return result
    answer: dict[str, Any] = await handle.query("status")
    return answer


async def gather_limited(jobs: list[Awaitable[Any]], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))
