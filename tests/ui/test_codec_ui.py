"""Operators read encrypted partnerships in the UI this project ships (2.54), through
`amity codec-server`, both ways the UI can be told about it: `amity up --ui-codec-endpoint`
(cluster level) and the UI's own "Codec Server" settings (stored in the browser).

Without the codec the page holds ciphertext only; with it, the proposer's name appears.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Locator, Page, expect
from temporalio.client import Client

from amity import story
from amity.codec_server import CodecServer
from runtime.codec import AesGcmCodec
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from runtime.settings import Settings, open_store
from tests.cli.test_up import amity_up
from tests.ui.conftest import Shots
from worker import build_worker

TOKEN = "ui-codec-token_0123456789abcdefghijklmnop"
NAME = "Jing Dazhong"  # the proposer, inside the encrypted proposal


@dataclass
class Keyed:
    key: str
    client: Client
    task_queue: str


def new_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


async def start_partnership(client: Client, task_queue: str) -> str:
    pid = f"partnership-codec-ui-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(
        "PartnershipWorkflow", story.proposal(), id=pid, task_queue=task_queue
    )
    command, payload = story.steps()[0]
    await handle.execute_update(command, payload)
    return pid


async def open_input(page: Page, ui_url: str, pid: str) -> Locator:
    """The workflow's page; returns its Input panel once it holds the input (it shows a
    placeholder while the history loads)."""
    await page.goto(f"{ui_url}/namespaces/default/workflows/{quote(pid, safe='')}")
    await expect(page.get_by_role("heading", name=pid)).to_be_visible()
    panel = page.get_by_role("textbox", name="Input")
    await expect(panel).not_to_contain_text("Results will appear upon completion.")
    return panel


@pytest.fixture
async def keyed(dev_server: DevServer, tmp_path: Path) -> AsyncIterator[Keyed]:
    """A worker holding a payload key, on the session's dev server."""
    key = new_key()
    client = await connect(Settings(TEMPORAL_ADDRESS=dev_server.address, AMITY_PAYLOAD_KEY=key))
    store = open_store(f"sqlite:///{tmp_path / 'events.db'}")
    task_queue = f"codec-ui-{uuid.uuid4().hex[:8]}"
    try:
        async with build_worker(client, store, task_queue, threads=4):
            yield Keyed(key, client, task_queue)
    finally:
        store.close()


async def test_the_browsers_codec_setting_decodes_through_amity_codec_server(
    page: Page, shots: Shots, dev_server: DevServer, keyed: Keyed
) -> None:
    ui = dev_server.ui_url
    assert ui is not None
    pid = await start_partnership(keyed.client, keyed.task_queue)
    codec = AesGcmCodec.from_base64(keyed.key)
    server = CodecServer(codec, TOKEN, port=0, origins=(ui,)).start()
    try:
        panel = await open_input(page, ui, pid)
        await shots("ciphertext")
        await expect(panel).not_to_contain_text(NAME)

        # the UI's own setting: "Use my browser setting", the endpoint with the token
        await page.get_by_role("button", name="Configure Codec Server").click()
        dialog = page.get_by_role("dialog", name="Codec Server")
        await dialog.get_by_text("Use my browser setting and ignore Cluster-level setting.").click()
        await dialog.get_by_placeholder("Paste your endpoint here").fill(f"{server.url}/{TOKEN}")
        await shots("codec-settings")
        await dialog.get_by_role("button", name="Apply").click()

        panel = await open_input(page, ui, pid)
        await expect(panel).to_contain_text(NAME)
        await shots("decoded")
    finally:
        # the browser profile is shared by the session's UI tests: forget the setting
        await page.evaluate("() => window.localStorage.clear()")
        server.stop()


@pytest.fixture
def codec_port() -> int:
    return free_port()


@pytest.fixture
def up_with_codec(tmp_path: Path, codec_port: int) -> Iterator[tuple[str, str, str]]:
    """`amity up --ui-codec-endpoint http://127.0.0.1:<port>/<token>` with a payload key:
    yields (its UI url, its gRPC address, the key)."""
    key = new_key()
    endpoint = f"http://127.0.0.1:{codec_port}/{TOKEN}"
    with amity_up(
        tmp_path / "var",
        subprocess.PIPE,
        subprocess.STDOUT,
        extra=("--ui-codec-endpoint", endpoint),
        env={"AMITY_PAYLOAD_KEY": key},
        http_api=False,
        stop=signal.SIGTERM,
    ) as up:
        yield f"http://127.0.0.1:{up.ui_port}", f"127.0.0.1:{up.port}", key
    assert up.process.stdout is not None
    banner = up.process.stdout.read().decode(errors="replace")
    assert TOKEN not in banner and key not in banner, banner


async def test_amity_up_ui_codec_endpoint_decodes_through_amity_codec_server(
    page: Page, shots: Shots, up_with_codec: tuple[str, str, str], codec_port: int
) -> None:
    ui, address, key = up_with_codec
    client = await connect(Settings(TEMPORAL_ADDRESS=address, AMITY_PAYLOAD_KEY=key))
    pid = await start_partnership(client, "partnerships")  # amity up's worker has the key

    # the codec server is not running yet: the UI shows ciphertext only
    panel = await open_input(page, ui, pid)
    await expect(panel).not_to_contain_text(NAME)
    await shots("no-codec-server")

    server = CodecServer(
        AesGcmCodec.from_base64(key), TOKEN, port=codec_port, origins=(ui,)
    ).start()
    try:
        panel = await open_input(page, ui, pid)
        await expect(panel).to_contain_text(NAME)
        await shots("decoded")
    finally:
        server.stop()
