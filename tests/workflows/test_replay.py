"""Saved histories of real runs replay against the current code (and a careless change fails)."""

from __future__ import annotations

import gzip
from pathlib import Path

from temporalio.client import Client, WorkflowHistory

from amity import story
from audit.replay import replay_histories, replay_live_workflows
from tests.conftest import Engine
from tests.workflows.altered_workflow import CarelesslyChangedWorkflow

FOLDER = Path(__file__).parent.parent / "histories"
#: Large histories (the payload-limit scenarios) are kept gzipped.
HISTORIES = sorted([*FOLDER.glob("*.json"), *FOLDER.glob("*.json.gz")])


def name_of(path: Path) -> str:
    return path.name.removesuffix(".gz").removesuffix(".json")


def saved() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(
            name_of(path),
            gzip.decompress(path.read_bytes()).decode()
            if path.suffix == ".gz"
            else path.read_text(),
        )
        for path in HISTORIES
    ]


def test_there_are_histories_of_every_scenario() -> None:
    names = {name_of(path).split("-", 1)[1].rsplit("-", 1)[0] for path in HISTORIES}
    assert {
        "story",
        "rejection",
        "timers",
        "continue-as-new",
        "limits",
        "bad-start",
        "forget",
        "bounded",
    } <= names


async def test_saved_histories_replay_on_the_current_code() -> None:
    report = await replay_histories(saved())
    assert report.replayed == len(HISTORIES)
    assert report.failures == []


async def test_a_change_without_patched_is_caught() -> None:
    report = await replay_histories(saved(), CarelesslyChangedWorkflow)
    assert report.replayed == len(HISTORIES)
    assert len(report.failures) == len(HISTORIES)
    assert all("nondetermin" in failure.lower() for failure in report.failures), report.failures


async def test_live_histories_replay(engine: Engine, client: Client) -> None:
    handle = await engine.start(story.proposal(), "partnership-replay-live")
    for command, payload in story.steps()[:3]:
        await handle.execute_update(command, payload)
    report = await replay_live_workflows(client, 'WorkflowId="partnership-replay-live"')
    assert report.replayed == 1
    assert report.failures == []
