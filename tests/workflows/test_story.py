"""The Mianyang–Cupertino story on the real dev server, through Updates and through Signals."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from temporalio.client import WorkflowHandle

from amity import story
from tests.conftest import Engine

EXPECTED_EVENTS = [
    ("propose", "proposed", "proposed"),
    ("open_talks", "talks_opened", "in_talks"),
    ("record_meeting", "meeting_recorded", "in_talks"),
    ("draft_memorandum", "memorandum_drafted", "in_talks"),
    ("record_approval", "approval_recorded", "in_talks"),
    ("sign_memorandum", "memorandum_signed", "active"),
    ("extend_invitation", "invitation_extended", "active"),
    ("extend_invitation", "invitation_extended", "active"),
    ("answer_invitation", "invitation_answered", "active"),
    ("record_exchange", "exchange_recorded", "active"),
    ("record_exchange", "exchange_recorded", "active"),
]


def new_id() -> str:
    return f"partnership-mianyang-cupertino-{uuid.uuid4().hex[:8]}"


async def wait_for_version(handle: WorkflowHandle[Any, Any], version: int) -> dict[str, Any]:
    for _ in range(400):
        status = await handle.query("status")
        if status["version"] >= version:
            return status
        await asyncio.sleep(0.05)
    raise AssertionError(f"version {version} not reached: {status}")


def assert_final_story_state(status: dict[str, Any]) -> None:
    assert status["stage"] == "active"
    assert status["tier"] == "friendly_relations"
    assert status["initiator"]["name"] == "Mianyang"
    assert status["partner"]["name"] == "Cupertino"
    assert len(status["fields"]) == 7
    assert status["proposed_by"]["name"] == "Jing Dazhong"
    assert status["proposed_by"]["title"] == "Vice Mayor"
    assert status["meetings"][0]["counterparts"][0]["name"] == "Zhang Zhaofu"
    assert status["meetings"][0]["place"].startswith("Cupertino")
    assert [d["draft_version"] for d in status["drafts"]] == [1]
    assert status["approvals"][0]["authority"] == "Cupertino City Council"
    assert status["missing_approvals"] == []
    assert status["signed_on"] == "2017-11-15"
    assert {s["side"] for s in status["signing"]["signatories"]} == {"initiator", "partner"}
    assert status["exchanges"] == {"science_technology": 1, "trade": 1}
    assert status["last_exchange_on"] == "2018-11-15"
    assert [i["invitation_id"] for i in status["open_invitations"]] == ["inv-2"]
    answered = status["invitations"][0]
    assert answered["event"].startswith("6th International High-Tech Expo")
    assert answered["accepted"] is True
    assert (
        status["expires_on"] is None
    )  # the seed's two-year term: see tests/workflows/test_clock.py
    assert status["rejected"] == []
    assert status["version"] == len(EXPECTED_EVENTS)


def assert_store_holds_story(engine: Engine, partnership_id: str, run_ids: set[str]) -> None:
    stored = engine.store.history(partnership_id)
    assert [(s.command, s.event.type) for s in stored] == [(c, t) for c, t, _ in EXPECTED_EVENTS]
    assert [s.originator_version for s in stored] == list(range(1, len(EXPECTED_EVENTS) + 1))
    for s in stored:
        assert s.workflow_id == partnership_id
        assert s.run_id in run_ids
        assert s.actor and s.actor != "unknown"
        assert s.request_id
        assert s.timestamp.tzinfo is not None
    # every command has a request id of its own (the examples carry none: the workflow
    # makes one), the proposal's keyed by its first run
    assert len({s.request_id for s in stored}) == len(stored)


async def test_story_through_updates(engine: Engine) -> None:
    partnership_id = new_id()
    handle = await engine.start(story.proposal(), partnership_id)
    status = await wait_for_version(handle, 1)
    assert status["stage"] == "proposed"
    for n, ((command, payload), (_, _, stage)) in enumerate(
        zip(story.steps(), EXPECTED_EVENTS[1:], strict=True)
    ):
        payload = {**payload, "request_id": f"story-{n}"}
        result = await handle.execute_update(command, payload)
        assert result["stage"] == stage, command
        assert result["outcome"]["command"] == command
        assert result["outcome"]["duplicate"] is False
        assert result["outcome"]["request_id"] == payload["request_id"]
        assert result == {**await handle.query("status"), "outcome": result["outcome"]}
        if command == "draft_memorandum":
            assert result["outcome"]["draft_version"] == 1
        if command == "extend_invitation":
            assert result["outcome"]["invitation_id"] in {"inv-1", "inv-2"}
    status = await handle.query("status")
    assert_final_story_state(status)
    assert_store_holds_story(engine, partnership_id, {handle.result_run_id or ""})
    # The store's own rebuild agrees with the workflow's state.
    rebuilt = engine.store.state(partnership_id)
    assert rebuilt is not None
    assert rebuilt.version == status["version"]
    assert rebuilt.stage.value == status["stage"]


async def test_story_through_signals_ends_in_the_same_state(engine: Engine) -> None:
    partnership_id = new_id()
    handle = await engine.start(story.proposal(), partnership_id)
    for command, payload in story.steps():
        await handle.signal(command, payload)
    status = await wait_for_version(handle, len(EXPECTED_EVENTS))
    assert_final_story_state(status)
    assert_store_holds_story(engine, partnership_id, {handle.result_run_id or ""})


async def test_search_attributes_follow_the_stage(engine: Engine) -> None:
    partnership_id = new_id()
    handle = await engine.start(story.proposal(), partnership_id)
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    query = (
        f'WorkflowId="{partnership_id}" AND PartnershipStage="active"'
        ' AND PartnershipCities="Mianyang" AND PartnershipCountries="US"'
    )
    for _ in range(100):
        found = [w.id async for w in engine.client.list_workflows(query)]
        if found:
            break
        await asyncio.sleep(0.1)
    assert found == [partnership_id]
    metadata = await handle.query("__temporal_workflow_metadata")
    assert "Mianyang (CN) ↔ Cupertino (US)" in metadata.current_details
    assert "active" in metadata.current_details
    assert {"open_talks", "sign_memorandum"} <= {
        u.name for u in metadata.definition.update_definitions
    }
    assert {"open_talks", "sign_memorandum"} <= {
        s.name for s in metadata.definition.signal_definitions
    }
