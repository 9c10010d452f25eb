"""Attack (by omission): reminders silently never sent. `amity up` used to build its worker
without AMITY_WEBHOOK_URL, so under the embedded engine no reminder was ever posted.

A real `amity up` with a webhook, a partnership whose talks deadline is 2 s: the receiver
gets the reminder, signed, with its Idempotency-Key.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from amity import story
from runtime.connect import connect
from runtime.settings import Settings
from tests.security.hardening_support import SECRET, amity_up_with, receiving, wait_for_text


async def test_up_posts_signed_reminders(tmp_path: Path) -> None:
    with receiving(204) as receiver:
        out = tmp_path / "up.out"
        env = {"AMITY_WEBHOOK_URL": receiver.url, "AMITY_WEBHOOK_SECRET": SECRET}
        with amity_up_with(tmp_path / "var", out, tmp_path, **env) as up:
            banner = wait_for_text(out, "other shells", up.process)
            assert f"reminders    POSTed to http://127.0.0.1:{receiver.port}, signed" in banner
            client = await connect(Settings(TEMPORAL_ADDRESS=f"127.0.0.1:{up.port}"))
            handle = await client.start_workflow(
                "PartnershipWorkflow",
                {**story.proposal(), "policy": {"talks_deadline": "PT2S"}},
                id=f"partnership-up-hook-{uuid.uuid4().hex[:8]}",
                task_queue="partnerships",
            )
            await handle.execute_update("open_talks", story.load("open_talks.json"))
            await asyncio.to_thread(receiver.wait_for, lambda r: bool(r.posts), 30)
        [post] = receiver.posts
        assert post.signature_ok, post.headers
        assert post.json["kind"] == "talks_deadline_passed"
        assert post.headers["idempotency-key"] == post.json["id"] == f"{handle.id}:3"
        assert "Traceback" not in out.read_text(errors="replace")
