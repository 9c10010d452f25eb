"""Every refusal: an Update is rejected with a message naming the problem and nothing is
recorded; the same command as a Signal is listed in status.rejected, recorded in the
store, and the workflow goes on accepting valid commands."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from temporalio.client import WorkflowFailureError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from amity import story
from tests.conftest import Engine
from tests.workflows.test_story import wait_for_version

ONE_SIDED = {
    "date": "2017-11-15",
    "place": "Cupertino",
    "signatories": [
        {"name": "Jing Dazhong", "side": "initiator"},
        {"name": "Another Mianyang official", "side": "initiator"},
    ],
}

# (story steps applied first, command, payload, words the reason must contain)
REFUSALS: list[tuple[int, str, Any, str]] = [
    (
        0,
        "sign_memorandum",
        story.load("sign_memorandum.json"),
        "not allowed while the partnership is proposed",
    ),
    (1, "sign_memorandum", story.load("sign_memorandum.json"), "no memorandum draft exists"),
    (
        3,
        "sign_memorandum",
        story.load("sign_memorandum.json"),
        "required approval missing: Cupertino City Council",
    ),
    (4, "sign_memorandum", ONE_SIDED, "at least one signatory per side, none for partner"),
    (
        5,
        "answer_invitation",
        {"invitation_id": "inv-9", "accepted": True},
        "unknown invitation_id 'inv-9'",
    ),
    (
        5,
        "record_exchange",
        {**story.load("record_exchange.json"), "field": "magic"},
        "field: Input should be",
    ),
    (1, "record_meeting", {"date": "yesterday", "delegation": []}, "record_meeting: date:"),
    (
        1,
        "record_meeting",
        {**story.load("record_meeting.json"), "venue": "x"},
        "venue: unknown field",
    ),
    (1, "open_talks", [1, 2], "must be one JSON object"),
    (
        1,
        "record_meeting",
        {
            **story.load("record_meeting.json"),
            "delegation": [{"name": "Jing\x1b[2JDazhong", "side": "initiator"}],
        },
        "delegation[0].name: must not contain control characters",
    ),
    (
        5,
        "withdraw",
        {"reason": "changed our minds"},
        "withdraw is not allowed while the partnership is active",
    ),
]


def without_request_id(payload: Any) -> Any:
    if isinstance(payload, dict):
        return {k: v for k, v in payload.items() if k != "request_id"}
    return payload


async def partnership_after(engine: Engine, steps: int):  # type: ignore[no-untyped-def]
    handle = await engine.start(story.proposal(), f"partnership-refusal-{uuid.uuid4().hex[:8]}")
    await wait_for_version(handle, 1)
    for command, payload in story.steps()[:steps]:
        await handle.execute_update(command, payload)
    return handle


@pytest.mark.parametrize(("steps", "command", "payload", "reason"), REFUSALS)
async def test_refused_update_records_nothing(
    engine: Engine, steps: int, command: str, payload: Any, reason: str
) -> None:
    handle = await partnership_after(engine, steps)
    before = await handle.query("status")
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update(command, without_request_id(payload))
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert reason in cause.message
    assert "\n" not in cause.message
    assert await handle.query("status") == before
    assert len(engine.store.history(handle.id)) == before["version"]


@pytest.mark.parametrize(("steps", "command", "payload", "reason"), REFUSALS)
async def test_refused_signal_is_listed_and_the_workflow_goes_on(
    engine: Engine, steps: int, command: str, payload: Any, reason: str
) -> None:
    handle = await partnership_after(engine, steps)
    before = await handle.query("status")
    await handle.signal(command, without_request_id(payload))
    status = await wait_for_version(handle, before["version"] + 1)
    assert status["stage"] == before["stage"]
    assert [r["command"] for r in status["rejected"]] == [command]
    assert reason in status["rejected"][0]["reason"]
    last = engine.store.history(handle.id)[-1]
    assert last.event.type == "signal_rejected"
    assert reason in last.event.reason  # type: ignore[union-attr]
    # ... and the next valid command is still accepted.
    next_command, next_payload = story.steps()[steps]
    result = await handle.execute_update(next_command, next_payload)
    assert result["version"] == before["version"] + 2


async def test_unknown_update_and_signal_names(engine: Engine) -> None:
    handle = await partnership_after(engine, 0)
    with pytest.raises(WorkflowUpdateFailedError) as raised:
        await handle.execute_update("sign_everything", {})
    assert "unknown command 'sign_everything'" in str(raised.value.cause)
    await handle.signal("sign_everything", {})
    status = await wait_for_version(handle, 2)
    assert status["rejected"][0]["reason"].startswith("unknown command 'sign_everything'")


@pytest.mark.parametrize(
    ("proposal", "reason"),
    [
        (
            {k: v for k, v in story.proposal().items() if k != "partner"},
            "partner: required field is missing",
        ),
        ({**story.proposal(), "tier": "best_friends"}, "tier: Input should be"),
        ({}, "initiator: required field is missing"),
        ("not an object", "must be one JSON object"),
        (
            {**story.proposal(), "partner": story.proposal()["initiator"]},
            "must be different parties",
        ),
        (
            {**story.proposal(), "partner": {**story.proposal()["partner"], "name": "Cu\x00p"}},
            "partner.name: must not contain control characters",
        ),
    ],
)
async def test_bad_start_input_fails_the_workflow_at_once(
    engine: Engine, proposal: Any, reason: str
) -> None:
    handle = await engine.start(proposal, f"partnership-bad-{uuid.uuid4().hex[:8]}")
    with pytest.raises(WorkflowFailureError) as raised:
        await asyncio.wait_for(handle.result(), timeout=10)
    cause = raised.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith("invalid proposal: ")
    assert reason in cause.message
    assert engine.store.history(handle.id) == []
