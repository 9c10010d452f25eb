"""`amity start / send / status / list / demo` against the real dev server and a real worker.

Commands run through Typer's CliRunner in a thread (each runs its own event loop, the
test's worker keeps running on the test's loop), with the environment pointing at the
test's engine: its task queue and its own SQLite event store.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from amity import story
from amity.cli import app
from runtime.settings import Settings
from tests.conftest import Engine

runner = CliRunner()
PROPOSAL = story.EXAMPLES / "proposal.json"


class Amity:
    """Runs `amity ...` in-process with the environment of one test's engine."""

    def __init__(self, settings: Settings, engine: Engine, store_url: str) -> None:
        self.env = {
            "TEMPORAL_ADDRESS": settings.temporal_address,
            "AMITY_TASK_QUEUE": engine.task_queue,
            "AMITY_EVENT_STORE_URL": store_url,
            "COLUMNS": "160",
        }

    async def __call__(self, *args: str, env: dict[str, str] | None = None) -> Any:
        return await asyncio.to_thread(
            runner.invoke, app, list(args), env={**self.env, **(env or {})}
        )


def assert_one_line_error(result: Any, contains: str = "") -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("amity: ")
    assert contains in lines[0], lines[0]
    return lines[0]


def unique_proposal(tmp_path: Path) -> tuple[dict[str, Any], Path]:
    """The story's proposal with a city name of its own (so list filters see only this test)."""
    proposal = story.proposal()
    proposal["initiator"]["name"] = f"Testville {uuid.uuid4().hex[:8]}"
    path = tmp_path / "proposal.json"
    path.write_text(json.dumps(proposal), encoding="utf-8")
    return proposal, path


@pytest.fixture
def amity(settings: Settings, engine: Engine, store_url: str) -> Amity:
    return Amity(settings, engine, store_url)


async def test_start_send_status_list(amity: Amity, engine: Engine, tmp_path: Path) -> None:
    proposal, path = unique_proposal(tmp_path)
    partnership_id = f"partnership-cli-{uuid.uuid4().hex[:8]}"

    started = await amity("start", str(path), "--id", partnership_id, "--json")
    assert started.exit_code == 0, started.stderr
    assert json.loads(started.stdout)["partnership_id"] == partnership_id

    again = await amity("start", str(path), "--id", partnership_id)
    assert_one_line_error(again, "already running")

    # an update prints the new status; --json is exactly the status query (plus the outcome)
    open_talks = story.EXAMPLES / "open_talks.json"
    sent = await amity("send", partnership_id, "open_talks", str(open_talks), "--json")
    assert sent.exit_code == 0, sent.stderr
    answer = json.loads(sent.stdout)
    assert answer["stage"] == "in_talks"
    assert answer["outcome"]["command"] == "open_talks"
    handle = engine.client.get_workflow_handle(partnership_id)
    queried = await handle.query("status")
    assert {k: v for k, v in answer.items() if k != "outcome"} == {
        k: v for k, v in queried.items() if k != "outcome"
    }

    meeting = story.load("record_meeting.json")
    meeting["place"] = "Cupertino City Hall [/annex] [bold]"  # people's text is not markup
    meeting_file = tmp_path / "meeting.json"
    meeting_file.write_text(json.dumps(meeting), encoding="utf-8")
    readable = await amity("send", partnership_id, "record_meeting", str(meeting_file))
    assert readable.exit_code == 0, readable.stderr
    assert "record_meeting applied: version 3" in readable.stdout
    assert "in talks" in readable.stdout

    status_json = await amity("status", partnership_id, "--json")
    assert status_json.exit_code == 0, status_json.stderr
    assert json.loads(status_json.stdout) == await handle.query("status")

    status_text = await amity("status", partnership_id)
    assert status_text.exit_code == 0, status_text.stderr
    for expected in ("in talks", "friendly relations", proposal["initiator"]["name"], "[/annex]"):
        assert expected in status_text.stdout

    # a signal is fire and forget; a refused one shows up in status.rejected
    signalled = await amity(
        "send", partnership_id, "sign_memorandum", "--signal", "--data",
        json.dumps(story.load("sign_memorandum.json")),
    )  # fmt: skip
    assert signalled.exit_code == 0, signalled.stderr
    for _ in range(100):
        status = await handle.query("status")
        if status["rejected"]:
            break
        await asyncio.sleep(0.05)
    assert status["rejected"][0]["command"] == "sign_memorandum"
    assert "rejected signals" in (await amity("status", partnership_id)).stdout

    # visibility is eventually consistent: wait until the list sees the new stage
    city = proposal["initiator"]["name"]
    for _ in range(100):
        listed = await amity("list", "--city", city, "--stage", "in_talks", "--json")
        assert listed.exit_code == 0, listed.stderr
        rows = json.loads(listed.stdout)
        if rows:
            break
        await asyncio.sleep(0.1)
    assert [row["partnership_id"] for row in rows] == [partnership_id]
    assert rows[0]["tier"] == "friendly_relations"
    assert sorted(rows[0]["countries"]) == ["CN", "US"]
    assert rows[0]["status"] == "running"
    none = await amity("list", "--city", city, "--stage", "active", "--json")
    assert json.loads(none.stdout) == []
    by_country = await amity(
        "list", "--city", city, "--country", "us", "--tier", "friendly_relations"
    )
    assert by_country.exit_code == 0
    assert partnership_id in by_country.stdout

    # a refused update: one line, nothing recorded
    version = (await handle.query("status"))["version"]
    refused = await amity("send", partnership_id, "upgrade", "--data", '{"to_tier": "sister_city"}')
    assert_one_line_error(refused, "upgrade refused")
    assert (await handle.query("status"))["version"] == version


async def test_start_uses_the_conventional_id(amity: Amity, engine: Engine, tmp_path: Path) -> None:
    proposal, path = unique_proposal(tmp_path)
    slug = proposal["initiator"]["name"].lower().replace(" ", "-")
    result = await amity("start", str(path))
    assert result.exit_code == 0, result.stderr
    assert f"partnership-{slug}-cupertino" in result.stdout
    await engine.client.get_workflow_handle(f"partnership-{slug}-cupertino").terminate("test over")


async def test_user_mistakes_are_one_line_exit_2(
    amity: Amity, engine: Engine, tmp_path: Path
) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"initiator": ', encoding="utf-8")
    not_a_proposal = tmp_path / "list.json"
    not_a_proposal.write_text('{"initiator": {"name": "X", "country": "CN"}}', encoding="utf-8")
    control = story.load("record_meeting.json")
    control["delegation"][0]["name"] = "Jing\x1b[31mDazhong"
    # 450,000 characters are within the field's length, 1.8 MB of UTF-8 is over Amity's
    # payload limit: refused by the client's guard before anything is sent.
    huge = tmp_path / "huge.json"
    draft = {k: v for k, v in story.load("draft_memorandum.json").items() if k != "text_sha256"}
    huge.write_text(json.dumps({**draft, "text": "😀" * 450_000}), encoding="utf-8")
    running = await engine.start(story.proposal(), f"partnership-cli-{uuid.uuid4().hex[:8]}")

    cases = [
        (("start", str(tmp_path / "missing.json")), "no such file"),
        (("start", str(bad_json)), "invalid JSON at line 1"),
        (("start", str(not_a_proposal)), "invalid proposal"),
        (("start", str(PROPOSAL), "--id", "Not An Id"), "invalid partnership id"),
        (("send", "partnership-x", "bogus", "--data", "{}"), "unknown command 'bogus'"),
        (("send", "partnership-x", "withdraw", "--data", "[1]"), "expected one JSON object"),
        (("send", "partnership-x", "withdraw", "--data", "{}"), "reason"),
        (("send", "partnership-nobody", "withdraw", "--data", '{"reason": "x"}'), "no partnership"),
        (("status", "partnership-nobody"), "no partnership"),
        (("demo", "--id", "Bad Id"), "invalid partnership id"),
        (("send", "partnership-x", "record_meeting", "--data", json.dumps(control)),
         "delegation[0].name: must not contain control characters"),
        (("send", running.id, "draft_memorandum", str(huge)), "text: too large"),
    ]  # fmt: skip
    for args, expected in cases:
        assert_one_line_error(await amity(*args), expected)
    assert (await running.query("status"))["version"] == 1  # nothing was recorded
    await running.terminate("test over")


async def test_unreachable_temporal_names_the_address(amity: Amity, tmp_path: Path) -> None:
    from runtime.devserver import free_port

    address = f"127.0.0.1:{free_port()}"
    for args in (
        ("status", "partnership-x"),
        ("list",),
        ("start", str(story.EXAMPLES / "proposal.json")),
    ):
        line = assert_one_line_error(await amity(*args, env={"TEMPORAL_ADDRESS": address}))
        assert f"cannot reach Temporal at {address}" in line


async def test_an_ended_partnership(amity: Amity, engine: Engine, tmp_path: Path) -> None:
    _, path = unique_proposal(tmp_path)
    partnership_id = f"partnership-ended-{uuid.uuid4().hex[:8]}"
    assert (await amity("start", str(path), "--id", partnership_id)).exit_code == 0
    withdrawn = await amity(
        "send", partnership_id, "withdraw", "--data", '{"reason": "changed plans"}'
    )
    assert withdrawn.exit_code == 0, withdrawn.stderr
    await engine.client.get_workflow_handle(partnership_id).result()
    status = await amity("status", partnership_id, "--json")
    assert status.exit_code == 0, status.stderr
    assert json.loads(status.stdout)["stage"] == "withdrawn"
    late = await amity("send", partnership_id, "open_talks")
    assert_one_line_error(late, "has ended")


async def test_demo_twice(amity: Amity, engine: Engine) -> None:
    # the story's default id is shared by the whole dev server, so use an id of this test's
    base = f"partnership-demo-{uuid.uuid4().hex[:8]}"
    first = await amity("demo", "--id", base)
    assert first.exit_code == 0, first.stderr
    assert f"{base}: 11 events" in first.stdout
    assert "exchange_recorded" in first.stdout
    assert "version" in first.stdout and "active" in first.stdout
    status = await engine.client.get_workflow_handle(base).query("status")
    assert status["version"] == 11 and status["exchanges"] == {"science_technology": 1, "trade": 1}

    taken = await amity("demo", "--id", base)
    assert_one_line_error(taken, "already exists")


async def test_demo_suffixes_a_taken_default_id(
    amity: Amity, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = f"partnership-story-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(story, "PARTNERSHIP_ID", base)
    first = await amity("demo")
    assert first.exit_code == 0, first.stderr
    second = await amity("demo")
    assert second.exit_code == 0, second.stderr
    assert f"{base} already ran; this demo uses {base}-2" in second.stdout
    assert f"{base}-2: 11 events" in second.stdout
    assert len(engine.store.history(f"{base}-2")) == 11


async def test_amity_worker_runs_partnerships_until_ctrl_c(
    settings: Settings, client: Any, tmp_path: Path
) -> None:
    import signal
    import subprocess
    import sys

    from tests.cli.test_up import clean_env

    task_queue = f"test-worker-{uuid.uuid4().hex[:8]}"
    env = clean_env(
        TEMPORAL_ADDRESS=settings.temporal_address,
        AMITY_TASK_QUEUE=task_queue,
        AMITY_EVENT_STORE_URL=f"sqlite:///{tmp_path / 'events.db'}",
        AMITY_STORE_THREADS="4",
    )
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "amity"), "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        handle = await client.start_workflow(
            "PartnershipWorkflow", story.proposal(), id=f"partnership-w-{task_queue}",
            task_queue=task_queue,
        )  # fmt: skip
        answer = await asyncio.wait_for(
            handle.execute_update("open_talks", story.load("open_talks.json")), 60
        )
        assert answer["stage"] == "in_talks" and answer["version"] == 2
        worker.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(worker.wait, 30) == 0
        assert worker.stderr is not None and b"Traceback" not in worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_amity_worker_unreachable_is_one_line() -> None:
    from runtime.devserver import free_port

    address = f"127.0.0.1:{free_port()}"
    # in the main thread: the worker installs signal handlers
    result = runner.invoke(app, ["worker"], env={"TEMPORAL_ADDRESS": address})
    assert address in assert_one_line_error(result)


def test_list_query_quotes_values() -> None:
    from amity.commands import list_query

    assert list_query() == 'WorkflowType="PartnershipWorkflow"'
    query = list_query("active", "sister_city", 'Val-d\'Or "x"', "cn", running=True)
    assert query == (
        'WorkflowType="PartnershipWorkflow" AND PartnershipStage="active"'
        ' AND PartnershipTier="sister_city" AND PartnershipCities="Val-d\'Or \\"x\\""'
        ' AND PartnershipCountries="CN" AND ExecutionStatus="Running"'
    )
