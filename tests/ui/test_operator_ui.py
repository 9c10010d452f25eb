"""An operator runs the Mianyang–Cupertino partnership from the real Temporal Web UI.

Every step is done in the browser (headless Chromium against the session dev server's UI),
photographed under test-artifacts/ui/, and checked again through the Python client. The
steps docs/operators.md describes are photographed for it too (`DOC_PICTURES`), after the
texts the doc quotes are seen on screen.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from typing import Any

import pytest
from playwright.async_api import Locator, Page, expect
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from amity import story
from runtime.devserver import DevServer
from tests.conftest import Engine
from tests.ui import pages
from tests.ui.conftest import DocShots, Shots

WORKFLOW_TYPE = "PartnershipWorkflow"
#: The pictures of docs/img/ this test takes, in the order the doc's steps come.
DOC_PICTURES = [
    "ui-start-form",
    "ui-started",
    "ui-update-dialog",
    "ui-update-successful",
    "ui-update-outcome",
    "ui-update-refused",
    "ui-signal-dialog",
    "ui-queries",
    "ui-user-metadata",
    "ui-list-query",
]


def example(name: str) -> str:
    return (story.EXAMPLES / name).read_text(encoding="utf-8")


async def status_of(client: Client, workflow_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await client.get_workflow_handle(workflow_id).query("status")
    return result


async def eventually(check, timeout: float = 10.0) -> Any:  # type: ignore[no-untyped-def]
    """Poll an async check until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.1)


async def free_id(client: Client, wanted: str) -> str:
    """The doc's own id when this dev server has not seen it yet (so the pictures show it)."""
    try:
        await client.get_workflow_handle(wanted).describe()
    except RPCError:
        return wanted
    return f"{wanted}-ui-{uuid.uuid4().hex[:6]}"


async def test_operator_runs_the_partnership_from_the_ui(
    page: Page,
    shots: Shots,
    doc_shots: DocShots,
    dev_server: DevServer,
    engine: Engine,
    client: Client,
) -> None:
    ui = dev_server.ui_url
    assert ui is not None
    partnership_id = await free_id(client, "partnership-mianyang-cupertino")

    # 1. Start Workflow with examples/proposal.json pasted into the form.
    await pages.start_workflow(
        page, ui, partnership_id, engine.task_queue, WORKFLOW_TYPE, example("proposal.json")
    )
    await shots("start-form-filled")
    await expect(page.get_by_role("heading", name="Start Workflow")).to_be_visible()
    await doc_shots("ui-start-form")
    await pages.click_start(page)
    await shots("started")
    await doc_shots("ui-started")
    handle = client.get_workflow_handle(partnership_id)
    described = await handle.describe()
    assert described.workflow_type == WORKFLOW_TYPE
    assert described.task_queue == engine.task_queue
    started = await eventually(lambda: _at_version(client, partnership_id, 1))
    assert started["stage"] == "proposed"
    assert started["initiator"] == {
        "name": "Mianyang",
        "country": "CN",
        "region": "Sichuan",
        "kind": None,
    }

    # 2. open_talks as an Update: the UI confirms it, and the returned status is in the history.
    await pages.open_workflow(page, ui, partnership_id)

    async def update_filled(dialog: Locator) -> None:
        await expect(dialog).to_contain_text("Name")
        await doc_shots("ui-update-dialog", dialog)

    dialog = await pages.send_update(page, "open_talks", example("open_talks.json"), update_filled)
    await expect(page.get_by_text("Update successful").first).to_be_visible()
    await expect(dialog).to_be_hidden()
    await shots("open-talks-update-sent")
    await doc_shots("ui-update-successful")
    status = await status_of(client, partnership_id)
    assert (status["stage"], status["version"]) == ("in_talks", 2)
    await pages.open_tab(page, "Event History")
    completed = page.get_by_role("row").filter(has_text="Workflow Execution Update Completed")
    await expect(completed).to_have_count(1)
    await expect(completed).to_contain_text('{"partnership_id":"' + partnership_id)
    await completed.get_by_role("button", name="Expand details").click()
    # expanded: the whole status the Update returned, the new stage in it
    outcome = page.get_by_role("textbox", name="Outcome")
    await expect(outcome).to_contain_text(re.compile(r'"stage":\s*"in_talks"'))
    await expect(outcome).to_contain_text(re.compile(r'"partnership_id":\s*"' + partnership_id))
    await outcome.scroll_into_view_if_needed()
    await shots("open-talks-update-result")
    expanded = page.get_by_test_id("event-summary-row-expanded").filter(has=outcome)
    await expect(expanded.get_by_text("Outcome", exact=True)).to_be_visible()
    await doc_shots("ui-update-outcome", page.locator("div").filter(has=outcome).last)

    # 3. An illegal sign_memorandum as an Update: the UI shows the contract's refusal.
    await pages.open_workflow(page, ui, partnership_id)
    dialog = await pages.send_update(page, "sign_memorandum", example("sign_memorandum.json"))
    refusal = "cannot sign: no memorandum draft exists (send draft_memorandum first)"
    await expect(dialog.get_by_text(refusal)).to_be_visible()
    await shots("sign-memorandum-refused")
    await doc_shots("ui-update-refused", dialog)
    await dialog.get_by_role("button", name="Cancel").first.click()
    status = await status_of(client, partnership_id)
    assert (status["stage"], status["version"], status["rejected"]) == ("in_talks", 2, [])
    assert [s.event.type for s in engine.store.history(partnership_id)] == [
        "proposed",
        "talks_opened",
    ]

    # 4. record_meeting as a Signal.
    await pages.open_workflow(page, ui, partnership_id)

    async def signal_filled(dialog: Locator) -> None:
        await expect(dialog).to_contain_text("Signal name")
        await doc_shots("ui-signal-dialog", dialog)

    dialog = await pages.send_signal(
        page, "record_meeting", example("record_meeting.json"), signal_filled
    )
    await expect(dialog).to_be_hidden()
    await shots("record-meeting-signal-sent")
    status = await eventually(lambda: _at_version(client, partnership_id, 3))
    assert status["meetings"][0]["place"] == "Cupertino City Hall, Cupertino, California"
    assert status["rejected"] == []

    # 5. The status query from the Queries tab.
    await pages.open_tab(page, "Queries")
    await expect(page.get_by_text("Query Type")).to_be_visible()
    await page.get_by_role("button", name="Run Query").click()
    result = page.get_by_test_id("query-result")
    await expect(result).to_contain_text('"stage": "in_talks"')
    await expect(result).to_contain_text('"version": 3')
    await expect(result).to_contain_text("Cupertino City Hall, Cupertino, California")
    await expect(page.get_by_role("button", name="Refresh Query")).to_be_visible()
    await shots("status-query")
    await doc_shots("ui-queries")
    assert (await status_of(client, partnership_id))["version"] == 3

    # The current details follow the stage (User Metadata tab).
    await pages.open_tab(page, "User Metadata")
    details = page.frame_locator("iframe").first.locator("body")  # rendered markdown
    await expect(details).to_contain_text("Mianyang (CN) ↔ Cupertino (US)")
    await expect(details).to_contain_text("in talks")
    for panel in ("Summary", "Details", "Current Details"):
        await expect(page.get_by_text(panel, exact=True)).to_be_visible()
    await expect(page.get_by_text("No summary available")).to_be_visible()
    await shots("current-details")
    await doc_shots("ui-user-metadata")

    # 6. The list, filtered by stage and city (a visibility query).
    query = (
        'PartnershipStage="in_talks" AND PartnershipCities="Mianyang"'
        f' AND TaskQueue="{engine.task_queue}"'
    )
    listed = [w.id async for w in client.list_workflows(query)]
    assert listed == [partnership_id]
    rows = await pages.search_workflows(page, ui, query)
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text(partnership_id)
    await shots("list-filtered-by-stage")
    await doc_shots("ui-list-query")
    rows = await pages.search_workflows(
        page, ui, f'PartnershipStage="active" AND TaskQueue="{engine.task_queue}"'
    )
    await expect(page.get_by_text(partnership_id)).to_have_count(0)
    await expect(rows).to_have_count(0)
    await shots("list-other-stage-empty")
    assert doc_shots.taken == DOC_PICTURES


async def _at_version(client: Client, workflow_id: str, version: int) -> dict[str, Any] | None:
    try:
        status = await status_of(client, workflow_id)
    except Exception:  # not answering yet (first workflow task still running)
        return None
    return status if status["version"] >= version else None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tier": "pen_pals"}, "invalid proposal: tier: Input should be"),
        ({"partner": None}, "invalid proposal: partner:"),
    ],
    ids=["unknown-tier", "no-partner"],
)
async def test_bad_start_json_fails_at_once_with_the_message_in_the_ui(
    page: Page,
    shots: Shots,
    dev_server: DevServer,
    engine: Engine,
    client: Client,
    change: dict[str, Any],
    message: str,
) -> None:
    ui = dev_server.ui_url
    assert ui is not None
    proposal = {**story.proposal(), **change}
    proposal = {key: value for key, value in proposal.items() if value is not None}
    partnership_id = f"partnership-bad-start-{uuid.uuid4().hex[:6]}"

    await pages.start_workflow(
        page, ui, partnership_id, engine.task_queue, WORKFLOW_TYPE, json.dumps(proposal)
    )
    await pages.click_start(page)
    handle = client.get_workflow_handle(partnership_id)
    with pytest.raises(WorkflowFailureError) as failure:
        await asyncio.wait_for(handle.result(), timeout=10)
    cause = failure.value.cause
    assert isinstance(cause, ApplicationError)
    assert cause.message.startswith(message)
    assert cause.type == "InvalidProposal"
    described = await handle.describe()
    assert described.status == WorkflowExecutionStatus.FAILED
    attempts = [
        event
        async for event in handle.fetch_history_events()
        if event.HasField("workflow_task_failed_event_attributes")
    ]
    assert attempts == []  # failed by the first workflow task, never retried

    await pages.open_workflow(page, ui, partnership_id)
    await expect(page.get_by_text("Failed", exact=True).first).to_be_visible()
    await expect(page.get_by_text(message).first).to_be_visible()
    await shots("failed-with-message")
    assert engine.store.history(partnership_id) == []
