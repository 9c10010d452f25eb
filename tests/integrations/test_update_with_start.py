"""Update-with-start: the first call creates the partnership, the second advances it."""

from __future__ import annotations

import json
import sys
import uuid

import pytest
from temporalio.client import Client, WorkflowUpdateFailedError

from amity import story
from examples.integrations.update_with_start import create_or_advance
from tests.conftest import Engine
from tests.integrations.conftest import EXAMPLES, INTEGRATIONS, run_script


def new_id() -> str:
    return f"partnership-mianyang-cupertino-uws-{uuid.uuid4().hex[:6]}"


async def test_first_call_creates_second_advances_a_repeat_changes_nothing(
    engine: Engine, client: Client
) -> None:
    partnership_id = new_id()
    proposal = story.proposal()

    created = await create_or_advance(
        client,
        partnership_id,
        proposal,
        "open_talks",
        story.load("open_talks.json"),
        engine.task_queue,
    )
    assert (created["stage"], created["version"]) == ("in_talks", 2)
    assert created["outcome"]["command"] == "open_talks"
    first_run = (await client.get_workflow_handle(partnership_id).describe()).run_id
    # a request_id makes the call safe to retry (the examples carry none)
    meeting = {**story.load("record_meeting.json"), "request_id": "uws-meeting-1"}

    advanced = await create_or_advance(
        client,
        partnership_id,
        proposal,
        "record_meeting",
        meeting,
        engine.task_queue,
    )
    assert (advanced["stage"], advanced["version"]) == ("in_talks", 3)
    assert len(advanced["meetings"]) == 1
    assert (await client.get_workflow_handle(partnership_id).describe()).run_id == first_run

    repeated = await create_or_advance(
        client,
        partnership_id,
        proposal,
        "record_meeting",
        meeting,
        engine.task_queue,
    )
    assert repeated["version"] == 3
    assert repeated["outcome"]["duplicate"] is True
    assert len(repeated["meetings"]) == 1
    assert [e.event.type for e in engine.store.history(partnership_id)] == [
        "proposed",
        "talks_opened",
        "meeting_recorded",
    ]

    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await create_or_advance(
            client,
            partnership_id,
            proposal,
            "sign_memorandum",
            story.load("sign_memorandum.json"),
            engine.task_queue,
        )
    assert "no memorandum draft exists" in str(refused.value.cause)
    assert len(engine.store.history(partnership_id)) == 3


async def test_the_example_script_creates_then_advances(
    engine: Engine, integration_env: dict[str, str]
) -> None:
    partnership_id = new_id()
    script = [sys.executable, INTEGRATIONS / "update_with_start.py", "--id", partnership_id]

    first = await run_script(integration_env, *script, "open_talks", EXAMPLES / "open_talks.json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["stage"] == "in_talks"

    second = await run_script(
        integration_env, *script, "record_meeting", EXAMPLES / "record_meeting.json"
    )
    assert second.returncode == 0, second.stderr
    status = json.loads(second.stdout)
    assert (status["stage"], status["version"], len(status["meetings"])) == ("in_talks", 3, 1)

    refused = await run_script(
        integration_env, *script, "sign_memorandum", EXAMPLES / "sign_memorandum.json"
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "refused: cannot sign: no memorandum draft exists (send draft_memorandum first)"
    )
    assert len(engine.store.history(partnership_id)) == 3
