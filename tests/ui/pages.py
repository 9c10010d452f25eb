"""What an operator does in Temporal UI 2.54, as small steps (role and text selectors first).

Learned from the UI's DOM: the start form's inputs are labelled "Workflow ID", "Task Queue"
and "Workflow Type"; every JSON input is a code editor (role textbox, label "Data") that
re-formats its text when it loses focus, which moves the buttons under it; actions on a
workflow live in its "More Actions" menu; each dialog's name is its title.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import quote

from playwright.async_api import Locator, Page, expect

from tests.ui.conftest import type_json

NAMESPACE = "default"


def workflows_url(ui_url: str) -> str:
    return f"{ui_url}/namespaces/{NAMESPACE}/workflows"


async def start_workflow(
    page: Page, ui_url: str, workflow_id: str, task_queue: str, workflow_type: str, data: str
) -> None:
    """Fill the Start Workflow form and submit it; returns when the UI confirms the start."""
    await page.goto(f"{workflows_url(ui_url)}/start-workflow")
    await page.get_by_label("Workflow ID").fill(workflow_id)
    await page.get_by_label("Task Queue").fill(task_queue)
    await page.get_by_label("Workflow Type").fill(workflow_type)
    await type_json(page, page.get_by_role("textbox", name="Data"), data)
    # The form checks the task queue once its field is left; Start moves when the banner shows.
    await expect(page.get_by_text("Task Queue is Active")).to_be_visible()
    start = page.get_by_role("button", name="Start Workflow")
    await expect(start).to_be_enabled()


async def click_start(page: Page) -> None:
    await page.get_by_role("button", name="Start Workflow").click()
    await expect(page.get_by_role("link", name="Workflow started successfully")).to_be_visible()


async def open_workflow(page: Page, ui_url: str, workflow_id: str) -> None:
    """The workflow's page (latest run); waits for its title, never for network idle."""
    await page.goto(f"{workflows_url(ui_url)}/{quote(workflow_id, safe='')}")
    await expect(page.get_by_role("heading", name=workflow_id)).to_be_visible()
    await expect(page.get_by_role("button", name="More Actions")).to_be_enabled()


async def open_action(page: Page, action: str, title: str) -> Locator:
    await page.get_by_role("button", name="More Actions").click()
    await page.get_by_role("menuitem", name=action).click()
    dialog = page.get_by_role("dialog", name=title)
    await expect(dialog).to_be_visible()
    return dialog


async def fill_message(page: Page, dialog: Locator, select: str, name: str, data: str) -> None:
    """Choose the handler by name, paste the JSON, leave the editor; Submit is then ready."""
    await dialog.get_by_test_id(select).click()
    await dialog.get_by_role("option", name=name, exact=True).click()
    await type_json(page, dialog.get_by_role("textbox", name="Data"), data)
    await expect(dialog.get_by_role("button", name="Submit")).to_be_enabled()


#: Called with the filled dialog just before Submit (to photograph it).
Filled = Callable[[Locator], Awaitable[object]] | None


async def send_update(page: Page, name: str, data: str, filled: Filled = None) -> Locator:
    """Send an Update from the workflow's page; returns its dialog (still open on an error)."""
    dialog = await open_action(page, "Send an Update", "Send an Update")
    await fill_message(page, dialog, "update-select-button", name, data)
    if filled:
        await filled(dialog)
    await dialog.get_by_role("button", name="Submit").click()
    return dialog


async def send_signal(page: Page, name: str, data: str, filled: Filled = None) -> Locator:
    dialog = await open_action(page, "Send a Signal", "Send a Signal")
    await fill_message(page, dialog, "signal-select-button", name, data)
    if filled:
        await filled(dialog)
    await dialog.get_by_role("button", name="Submit").click()
    return dialog


async def open_tab(page: Page, name: str) -> None:
    await page.get_by_role("link", name=name).or_(page.get_by_role("tab", name=name)).first.click()


async def search_workflows(page: Page, ui_url: str, query: str) -> Locator:
    """Type a visibility query into the list's raw query box; returns the result rows."""
    await page.goto(workflows_url(ui_url))
    await page.get_by_test_id("toggle-manual-query").click()
    box = page.get_by_role("searchbox", name="Enter a query")
    await box.fill(query)
    await page.get_by_role("search").get_by_role("button", name="Search").click()
    return page.get_by_test_id("workflows-summary-configurable-table-row")
