"""The HTML report opens in a real headless Chromium with a clean console, and its
timeline draws one element per event (checked on the page and on a screenshot)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from store.application import PartnershipStore
from tests.audit.conftest import AuditCli, tell_story
from tests.chromium import ARGS, chromium_or_skip, private_dirs


def test_report_opens_without_console_errors_and_draws_every_event(
    store: PartnershipStore,
    audit_cli: AuditCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from playwright.sync_api import sync_playwright

    chromium = chromium_or_skip()

    for pid in ("partnership-a-b", "partnership-c-d"):
        tell_story(store, pid)
    assert audit_cli("checkpoint").exit_code == 0
    report = tmp_path / "report.html"
    made = audit_cli("export", "--format", "html", "--out", str(report))
    assert made.exit_code == 0, made.stderr
    html = report.read_text()
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "Tamper check passed" in html, html[
        html.find('id="verification') - 40 : html.find('id="verification') + 300
    ]

    home = Path(tempfile.mkdtemp(prefix="amity-chromium-", dir="/tmp"))
    for name, value in private_dirs(home).items():
        monkeypatch.setenv(name, value)
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(m.text) if m.type in ("error", "warning") else None,
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("requestfailed", lambda r: problems.append(f"request {r.url}"))
            page.goto(report.as_uri())
            timeline = page.locator("#timeline-partnership-a-b")
            events = timeline.locator("g.event")
            assert events.count() == 11
            for i in range(11):
                box = events.nth(i).bounding_box()
                assert box is not None and box["width"] > 0 and box["height"] > 0
            assert [events.nth(i).get_attribute("data-version") for i in range(11)] == [
                str(v) for v in range(1, 12)
            ]
            assert page.locator("g.event").count() == 22
            assert page.locator("#verification").inner_text().startswith("Tamper check passed")
            shot = tmp_path / "timeline.png"
            timeline.screenshot(path=str(shot))
            assert shot.stat().st_size > 2_000
            assert page.get_by_text("Jing Dazhong").count() >= 1
        finally:
            browser.close()
            shutil.rmtree(home, ignore_errors=True)
    assert problems == []
