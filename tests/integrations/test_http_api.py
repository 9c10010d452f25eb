"""Temporal's HTTP API (the dev server's --http-port): plain HTTP requests, no SDK."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import pytest
from temporalio.client import Client

from amity import story
from examples.integrations.http_api import HttpApiError, TemporalHttp
from tests.conftest import Engine
from tests.integrations.conftest import (
    EXAMPLES,
    INTEGRATIONS,
    run_script,
    status_of,
    wait_for_version,
)


def new_id() -> str:
    return f"partnership-mianyang-cupertino-http-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def api(integration_env: dict[str, str]) -> TemporalHttp:
    return TemporalHttp(integration_env["TEMPORAL_HTTP"], "default")


async def test_signal_update_and_query_over_http(
    engine: Engine, client: Client, api: TemporalHttp
) -> None:
    partnership_id = new_id()
    await engine.start(story.proposal(), partnership_id)

    opened = await _in_thread(
        api.update, partnership_id, "open_talks", story.load("open_talks.json")
    )
    assert (opened["stage"], opened["version"]) == ("in_talks", 2)

    await _in_thread(
        api.signal, partnership_id, "record_meeting", story.load("record_meeting.json")
    )
    status = await wait_for_version(client, partnership_id, 3)
    assert len(status["meetings"]) == 1

    with pytest.raises(HttpApiError, match="refused: cannot sign: no memorandum draft exists"):
        await _in_thread(
            api.update, partnership_id, "sign_memorandum", story.load("sign_memorandum.json")
        )
    with pytest.raises(HttpApiError, match="refused: upgrade: to_tier: required field is missing"):
        await _in_thread(api.update, partnership_id, "upgrade", {})

    seen = await _in_thread(api.query, partnership_id, "status")
    expected = await status_of(client, partnership_id)
    for key in ("partnership_id", "stage", "version", "initiator", "partner", "meetings"):
        assert seen[key] == expected[key], key
    assert expected["version"] == 3


async def test_the_same_http_signal_posted_twice_applies_once(
    engine: Engine, client: Client, api: TemporalHttp
) -> None:
    partnership_id = new_id()
    await engine.start(story.proposal(), partnership_id)
    await client.get_workflow_handle(partnership_id).execute_update(
        "open_talks", story.load("open_talks.json")
    )
    meeting = {**story.load("record_meeting.json"), "request_id": "meeting-1"}

    # The same request posted twice (a retry after a lost answer): one request_id.
    for _ in range(2):
        await _in_thread(api.signal, partnership_id, "record_meeting", meeting)
    # A third time through another HTTP request id: Amity's request_id still holds.
    await _in_thread(api.signal, partnership_id, "record_meeting", meeting, f"retry-{uuid.uuid4()}")
    # A different meeting afterwards, so we know every earlier signal has been handled.
    second = {**meeting, "request_id": "meeting-2", "date": "2017-11-16"}
    await _in_thread(api.signal, partnership_id, "record_meeting", second)

    status = await wait_for_version(client, partnership_id, 4)
    assert status["version"] == 4
    assert [m["date"] for m in status["meetings"]] == ["2017-11-15", "2017-11-16"]
    assert status["rejected"] == []
    stored = engine.store.history(partnership_id)
    assert [e.event.type for e in stored].count("meeting_recorded") == 2
    signalled = [
        event
        async for event in client.get_workflow_handle(partnership_id).fetch_history_events()
        if event.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert len(signalled) == 3  # Temporal dropped the repeat; Amity ignored the other copy


@pytest.mark.skipif(
    shutil.which("curl") is None and not os.environ.get("CI"),
    reason="curl is not installed (.ci/run installs it: in CI this test always runs)",
)
async def test_the_curl_script(
    engine: Engine, client: Client, integration_env: dict[str, str], tmp_path: Path
) -> None:
    partnership_id = new_id()
    await engine.start(story.proposal(), partnership_id)
    script = INTEGRATIONS / "http-api.sh"

    opened = await run_script(
        integration_env, script, "update", partnership_id, "open_talks",
        EXAMPLES / "open_talks.json",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    assert json.loads(opened.stdout)["outcome"]["success"][0]["stage"] == "in_talks"
    # the example has no request_id: the script made one, told it, and Amity recorded it
    generated = opened.stderr.split("request_id ", 1)[1].split()[0]
    assert generated.startswith("sh-")
    assert engine.store.history(partnership_id)[-1].request_id == generated

    # The same file twice (a retry after a lost answer): its request_id applies it once.
    first = tmp_path / "record_meeting_1.json"
    first.write_text(json.dumps({**story.load("record_meeting.json"), "request_id": "meeting-1"}))
    for _ in range(2):
        sent = await run_script(
            integration_env, script, "signal", partnership_id, "record_meeting", first
        )
        assert sent.returncode == 0, sent.stderr
    # Another meeting afterwards proves both copies were handled (signals apply in order).
    second = tmp_path / "record_meeting_2.json"
    meeting = {**story.load("record_meeting.json"), "date": "2017-11-16"}
    second.write_text(json.dumps({**meeting, "request_id": "meeting-2"}))
    sent = await run_script(
        integration_env, script, "signal", partnership_id, "record_meeting", second
    )
    assert sent.returncode == 0, sent.stderr
    status = await wait_for_version(client, partnership_id, 4)
    assert [m["date"] for m in status["meetings"]] == ["2017-11-15", "2017-11-16"]

    refused = await run_script(
        integration_env, script, "update", partnership_id, "sign_memorandum",
        EXAMPLES / "sign_memorandum.json",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "cannot sign: no memorandum draft exists" in refused.stderr

    queried = await run_script(integration_env, script, "query", partnership_id, "status")
    assert json.loads(queried.stdout)["queryResult"][0]["version"] == 4
    assert (await status_of(client, partnership_id))["version"] == 4


async def _in_thread(function, *args):  # type: ignore[no-untyped-def]
    """urllib blocks: keep the test's event loop (and its worker) running meanwhile."""
    import asyncio

    return await asyncio.to_thread(function, *args)


async def test_a_request_id_reused_with_other_data_over_http_is_refused(
    engine: Engine, client: Client, api: TemporalHttp
) -> None:
    """Temporal's ids are the request_id plus the payload's hash: an exact repeat is one
    update, and the same request_id on other data reaches Amity, which refuses it."""
    partnership_id = new_id()
    await engine.start(story.proposal(), partnership_id)
    talks = {**story.load("open_talks.json"), "request_id": "talks-1"}
    first = await _in_thread(api.update, partnership_id, "open_talks", talks)
    again = await _in_thread(api.update, partnership_id, "open_talks", talks)
    assert again == first  # Temporal answered the repeat with the first result
    line = (
        "request_id talks-1 was already used for open_talks with a different payload;"
        " use a new request_id"
    )
    other = {**talks, "note": "another note"}
    with pytest.raises(HttpApiError, match=f"refused: {line}"):
        await _in_thread(api.update, partnership_id, "open_talks", other)
    await _in_thread(api.signal, partnership_id, "open_talks", other)
    status = await wait_for_version(client, partnership_id, 3)  # the refusal is recorded
    assert [(r["request_id"], r["reason"]) for r in status["rejected"]] == [("talks-1", line)]
    assert [s.request_id for s in engine.store.history(partnership_id)].count("talks-1") == 1
