"""What an operator sees of a refusal or a bad start: the reason, not a Python traceback.

The Web UI shows a failure's stack_trace under its message; for Amity's refusals that is the
worker's file paths and nothing the operator can act on. The failure converter
(runtime/failures_wire.py, part of the data converter runtime/connect.py builds) sends them
without it. A partnership started by `amity start` carries its summary and details for the
UI's Summary.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from amity import story
from amity.commands import start
from tests.conftest import Engine
from tests.workflows.test_refusals import partnership_after, without_request_id
from tests.workflows.test_story import wait_for_version


def reason_only(error: BaseException | None, reason: str) -> None:
    assert isinstance(error, ApplicationError)
    assert reason in error.message
    assert error.failure is not None
    assert error.failure.stack_trace == "", error.failure.stack_trace


async def test_a_refused_update_carries_no_stack_trace(engine: Engine) -> None:
    handle = await partnership_after(engine, 1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            "sign_memorandum", without_request_id(story.load("sign_memorandum.json"))
        )
    reason_only(refused.value.cause, "no memorandum draft exists")
    with pytest.raises(WorkflowUpdateFailedError) as unknown:
        await handle.execute_update("no_such_command", {})
    reason_only(unknown.value.cause, "unknown command")


async def test_a_bad_start_carries_no_stack_trace(engine: Engine) -> None:
    proposal = story.proposal()
    proposal["partner"] = proposal["initiator"]
    handle = await engine.start(proposal, f"partnership-bad-{uuid.uuid4().hex[:8]}")
    with pytest.raises(WorkflowFailureError) as failed:
        await asyncio.wait_for(handle.result(), timeout=10)
    reason_only(failed.value.cause, "invalid proposal")
    history = await handle.fetch_history()
    ends = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED
    ]
    assert len(ends) == 1
    failure = ends[0].workflow_execution_failed_event_attributes.failure
    assert "invalid proposal" in failure.message and failure.stack_trace == ""


async def test_amity_start_gives_the_ui_a_summary_and_details(engine: Engine) -> None:
    proposal = story.proposal()
    partnership_id = f"partnership-summary-{uuid.uuid4().hex[:8]}"
    await start(engine.client, engine.task_queue, proposal, partnership_id)
    handle = engine.client.get_workflow_handle(partnership_id)
    await wait_for_version(handle, 1)
    described = await handle.describe()
    summary, details = await described.static_summary(), await described.static_details()
    initiator, partner = proposal["initiator"]["name"], proposal["partner"]["name"]
    assert summary is not None and initiator in summary and partner in summary
    assert details is not None and initiator in details and partner in details
    for person in (proposal["proposed_by"]["name"],):
        assert person not in summary + details  # a name there could not be forgotten
