"""Each patch is at the furthest stage of its lifecycle the saved histories allow.

test_replay.py proves every saved history replays with every patch at its current stage;
here, moving any patch one stage further (patched -> deprecated -> removed) must break at
least one saved history, or the patch is being kept back for nothing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory

from audit.replay import replayer
from tests.workflows.test_replay import saved
from workflows import patches
from workflows.patches import PATCHES, Patch, PatchStage

NEXT = {PatchStage.PATCHED: PatchStage.DEPRECATED, PatchStage.DEPRECATED: PatchStage.REMOVED}


def markers(history: WorkflowHistory) -> set[str]:
    """The patch ids a history recorded."""
    found = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            details = event.marker_recorded_event_attributes.details
            if "patch-data" in details:
                found.add(json.loads(details["patch-data"].payloads[0].data)["id"])
    return found


def test_patch_ids_are_unique_and_the_workflow_uses_the_live_ones() -> None:
    assert len({p.id for p in PATCHES}) == len(PATCHES)
    text = Path(patches.__file__ or "").with_name("partnership.py").read_text(encoding="utf-8")
    for patch in PATCHES:
        name = next(k for k, v in vars(patches).items() if v is patch)
        used = f"{name}.new_code()" in text
        assert used == (patch.stage is not PatchStage.REMOVED), patch.id


@pytest.mark.parametrize(
    "patch", [p for p in PATCHES if p.stage in NEXT], ids=lambda p: f"{p.id}-{p.stage.value}"
)
async def test_the_next_stage_breaks_a_saved_history(
    patch: Patch, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Histories that took the old path or hold the marker first: they are the ones to break.
    histories = sorted(saved(), key=lambda h: (patch.id not in markers(h), h.workflow_id))
    monkeypatch.setattr(patch, "stage", NEXT[patch.stage])
    engine = replayer()
    for history in histories:
        result = await engine.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            assert "nondetermin" in str(result.replay_failure).lower()
            return
    pytest.fail(f"{patch.id} could move to {NEXT[patch.stage].value}: every history replays")


def test_a_removed_patch_left_no_marker_in_saved_histories() -> None:
    recorded = set().union(*(markers(h) for h in saved()))
    for patch in PATCHES:
        if patch.stage is PatchStage.REMOVED:
            assert patch.id not in recorded


def test_the_marker_reader_sees_recorded_patches() -> None:
    recorded = set().union(*(markers(h) for h in saved()))
    assert {"quiet-history", "handover-gate-carries-signals", "printable-text"} <= recorded
