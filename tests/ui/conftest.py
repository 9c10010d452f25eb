"""Browser fixtures: Debian's Chromium driven by Playwright against the dev server's real UI.

Skipped when /usr/bin/chromium is missing, unless the environment variable CI is set (then
the suite fails loudly: CI installs Chromium). Screenshots go to test-artifacts/ui/; the
ones docs/operators.md shows are also made small (1280x800 or one element, a 256-colour
palette) and, with AMITY_UPDATE_DOC_IMAGES=1, copied over docs/img/ to be committed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Locator, Page, async_playwright, expect

from tests.chromium import ARGS, chromium_or_skip, private_dirs

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
DOC_IMAGES = ROOT / "docs" / "img"
#: The viewport of the pictures in the docs (small enough to read on a laptop, files small).
DOC_VIEWPORT = {"width": 1280, "height": 800}
#: The UI polls a running workflow's page forever: never wait for networkidle, wait for text.
TIMEOUT_MS = 20_000
expect.set_options(timeout=15_000)


#: The operator's walk-through is the longest browser test by far: it has a group (a worker,
#: a Chromium) of its own, so the other browser tests run beside it, not after it.
OWN_GROUP = {"test_operator_ui.py": "browser-walkthrough"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks every test here `browser`, and puts them in two xdist groups: with `-n N` each
    group runs in one worker, so the session starts two Chromiums, not one per worker, and
    the browser tests are not one long serial tail."""
    here = Path(__file__).parent
    for item in items:
        path = Path(str(item.fspath))
        if here in path.parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group(OWN_GROUP.get(path.name, "browser")))


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    return chromium_or_skip()


@pytest.fixture(scope="session")
async def browser(chromium_path: Path) -> AsyncIterator[BrowserContext]:
    """One headless Chromium per session: a fresh profile, config, cache and temp in a temp dir."""
    with tempfile.TemporaryDirectory(prefix="amity-chromium-") as home:
        env = {**os.environ, **private_dirs(Path(home))}
        async with async_playwright() as playwright:
            context = await playwright.chromium.launch_persistent_context(
                f"{home}/profile",
                executable_path=str(chromium_path),
                headless=True,
                args=ARGS,
                env=env,
                viewport={"width": 1600, "height": 1000},
            )
            context.set_default_timeout(TIMEOUT_MS)
            yield context
            await context.close()


@pytest.fixture
async def page(browser: BrowserContext) -> AsyncIterator[Page]:
    opened = await browser.new_page()
    yield opened
    await opened.close()


class Shots:
    """Numbered screenshots of one test under test-artifacts/ui/<test>/."""

    def __init__(self, page: Page, name: str) -> None:
        self.page = page
        self.folder = ARTIFACTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0
        self.taken: list[Path] = []

    async def __call__(self, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        await self.page.screenshot(path=str(path))
        self.taken.append(path)
        return path


@pytest.fixture
def shots(page: Page, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name))


def shrink_png(path: Path) -> None:
    """Rewrite a screenshot with a 256-colour palette, compressed as far as PNG goes: a
    UI picture stays sharp (flat colours, text) at a third of the size or less."""
    from PIL import Image

    with Image.open(path) as shot:
        small = shot.convert("RGB").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    small.save(path, optimize=True)


class DocShots:
    """The pictures docs/operators.md shows, one per step it describes, by name."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.folder = ARTIFACTS / "docs"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[str] = []

    async def __call__(self, name: str, element: Locator | None = None) -> Path:
        """Photograph the page (or one element of it) at the docs' viewport; the test goes
        on at its own (the code editors draw only the lines in view: fewer to check)."""
        path = self.folder / f"{name}.png"
        before = self.page.viewport_size
        await self.page.set_viewport_size(DOC_VIEWPORT)
        try:
            if element is None:
                await self.page.screenshot(path=str(path))
            else:
                await element.screenshot(path=str(path))
        finally:
            if before:
                await self.page.set_viewport_size(before)
        shrink_png(path)
        if os.environ.get("AMITY_UPDATE_DOC_IMAGES") == "1":
            DOC_IMAGES.mkdir(exist_ok=True)
            shutil.copyfile(path, DOC_IMAGES / path.name)
        self.taken.append(name)
        return path


@pytest.fixture
def doc_shots(page: Page) -> DocShots:
    return DocShots(page)


async def type_json(page: Page, editor: Locator, text: str) -> None:
    """Put JSON into one of the UI's code editors, then blur it (the form re-lays out)."""
    await editor.click()
    await page.keyboard.press("ControlOrMeta+a")
    await page.keyboard.press("Delete")
    # insert_text, not type: the editor would auto-close every bracket and quote typed.
    await page.keyboard.insert_text(text)
    await editor.evaluate("element => element.blur()")


__all__ = ["TIMEOUT_MS", "DocShots", "Shots", "expect", "type_json"]
