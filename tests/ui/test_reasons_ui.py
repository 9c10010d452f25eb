"""What an operator reads in the Web UI: a refusal's reason without a Python traceback, and
the partnership in the Summary of a partnership `amity start` started."""

from __future__ import annotations

import uuid

from playwright.async_api import Page, expect
from temporalio.client import Client

from amity import story
from amity.commands import start
from runtime.devserver import DevServer
from tests.conftest import Engine
from tests.ui import pages
from tests.ui.conftest import DocShots, Shots

#: The picture of docs/img/ this test takes (the Summary of a partnership `amity start` made).
DOC_PICTURES = ["ui-summary"]


async def all_text(page: Page) -> str:
    """The visible text of the page and of every frame in it, on one line per frame."""
    texts = []
    for frame in page.frames:
        try:
            texts.append(" ".join((await frame.locator("body").inner_text()).split()))
        except Exception:  # a frame that went away while we read
            continue
    return "\n".join(texts)


async def test_a_refusal_shows_the_reason_only_and_the_summary_the_partnership(
    page: Page,
    shots: Shots,
    doc_shots: DocShots,
    dev_server: DevServer,
    engine: Engine,
    client: Client,
) -> None:
    ui = dev_server.ui_url
    assert ui is not None
    partnership_id = f"partnership-reasons-ui-{uuid.uuid4().hex[:6]}"
    await start(client, engine.task_queue, story.proposal(), partnership_id)
    handle = client.get_workflow_handle(partnership_id)
    await handle.execute_update("open_talks", story.load("open_talks.json"))

    await pages.open_workflow(page, ui, partnership_id)
    await pages.open_tab(page, "User Metadata")
    # the UI renders summary and details as Markdown in sandboxed frames of their own
    summary = "Mianyang (CN) ↔ Cupertino (US) · friendly relations"
    shown = await all_text(page)
    for _ in range(60):
        if summary in shown and "Cupertino (California, US)" in shown:
            break
        await page.wait_for_timeout(250)
        shown = await all_text(page)
    assert summary in shown, shown
    assert "No summary available" not in shown
    assert "between Mianyang (Sichuan, CN) and Cupertino (California, US)" in shown
    await shots("summary-and-details")
    await doc_shots("ui-summary")
    assert doc_shots.taken == DOC_PICTURES

    sign = (story.EXAMPLES / "sign_memorandum.json").read_text(encoding="utf-8")
    dialog = await pages.send_update(page, "sign_memorandum", sign)
    refusal = "cannot sign: no memorandum draft exists (send draft_memorandum first)"
    await expect(dialog.get_by_text(refusal)).to_be_visible()
    await shots("refusal")
    text = await dialog.inner_text()
    assert "Traceback" not in text and ".py" not in text, text
