"""Every change to the commands PartnershipWorkflow issues, and where it is in its life.

Temporal's lifecycle of a patch: *patched* (`workflow.patched(id)`: old runs replay the old
code path, new runs take the new one and record a marker), then *deprecated*
(`workflow.deprecate_patch(id)`: the old path is gone, once no run that took it can be
replayed any more), then *removed* (no call at all, once no run recorded the marker).

Here the saved histories in tests/histories/ stand for the runs that can still be replayed:
a patch moves on only when all of them replay at its next stage, and
tests/workflows/test_patches.py proves both directions (each patch replays at its stage,
and a patch kept back fails some saved history at the next one).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from temporalio import workflow


class PatchStage(Enum):
    PATCHED = "patched"
    DEPRECATED = "deprecated"
    REMOVED = "removed"


@dataclass
class Patch:
    id: str
    stage: PatchStage
    #: What changed, and what keeps the patch at its stage.
    why: str

    def new_code(self) -> bool:
        """Whether this run takes the new code path (records the marker when it must)."""
        if self.stage is PatchStage.PATCHED:
            return workflow.patched(self.id)
        if self.stage is PatchStage.DEPRECATED:
            workflow.deprecate_patch(self.id)
        return True


HANDOVER_GATE = Patch(
    "handover-gate-carries-signals",
    PatchStage.DEPRECATED,
    "A hand-over drains commands past the gate and carries waiting signals, instead of"
    " waiting for every handler. Deprecated: the v1 histories' hand-overs issue the same"
    " commands either way; not removed: the v3-v5 histories hold its marker.",
)
QUIET_HISTORY = Patch(
    "quiet-history",
    PatchStage.PATCHED,
    "Search attributes upserted only when they change; a policy timer kept while unchanged."
    " Not deprecated: the v1 histories upsert and start a timer after every command.",
)
PAYLOAD_LIMIT = Patch(
    "payload-size-limit",
    PatchStage.REMOVED,
    "A signal too large to record is refused instead of scheduled (its activity input passed"
    " Temporal's 2 MiB limit and failed every workflow task). Removed: no saved history"
    " took the old path or holds the marker.",
)
PRINTABLE_TEXT = Patch(
    "printable-text",
    PatchStage.DEPRECATED,
    "Control characters in people's text are refused. Deprecated: no saved history accepted"
    " them; not removed: v4-limits and v4-bad-start hold its marker.",
)
STATE_BUDGET = Patch(
    "state-budget",
    PatchStage.DEPRECATED,
    "A command whose state would pass MAX_STATE_BYTES is refused: a state too large to carry"
    " to the next run would fail every workflow task at continue-as-new. Deprecated: no saved"
    " history grew past it unrefused; not removed: v4-limits holds its marker.",
)
FORGET_HANDS_OVER = Patch(
    "forget-hands-over",
    PatchStage.DEPRECATED,
    "After `amity forget` the run hands over at once, so every run whose history holds the"
    " forgotten name is closed and the namespace's retention deletes it. Deprecated: no saved"
    " history was told to forget without it; not removed: v5-forget holds its marker.",
)

BOUNDED_STATE = Patch(
    "bounded-state",
    PatchStage.PATCHED,
    "A run keeps counts and recent records instead of every record (domain/state.py), so it"
    " never refuses a command for its size, and a correction of an older record reads its"
    " target from the event store first (the correction_target activity). Asked once as a"
    " run starts. Not deprecated: runs from before keep every record to replay as they ran"
    " (v4-limits refused a command for the size of the state it held).",
)
REQUEST_FINGERPRINTS = Patch(
    "request-fingerprints",
    PatchStage.PATCHED,
    "A request_id already applied by another command or payload is refused (a signal is"
    ' recorded as rejected) instead of answered "already applied", which lost the new data.'
    " Not deprecated: v6-request-reuse-old answered such a signal as a repeat.",
)

PATCHES: tuple[Patch, ...] = (
    HANDOVER_GATE,
    QUIET_HISTORY,
    PAYLOAD_LIMIT,
    PRINTABLE_TEXT,
    STATE_BUDGET,
    FORGET_HANDS_OVER,
    BOUNDED_STATE,
    REQUEST_FINGERPRINTS,
)
