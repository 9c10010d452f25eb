"""Where each command may be sent: the contract's table, written out by hand, against the
catalogue; and what every refusal has in common."""

from __future__ import annotations

import pytest

from domain.catalogue import USER_COMMANDS
from domain.decider import decide
from domain.messages import Command
from domain.registry import Rejection
from domain.slices.expire import Expire
from domain.slices.mark_dormant import MarkDormant
from domain.slices.note_renewal_due import NoteRenewalDue
from domain.slices.note_talks_deadline import NoteTalksDeadline
from domain.slices.record_rejected_signal import RecordRejectedSignal
from domain.values import Stage

from .scenario import (
    HISTORIES,
    IN_TALKS,
    JING,
    LATER,
    T0,
    TEXT,
    ZHANG,
    after,
    at,
    command,
    given,
    invited,
    meeting,
    then_rejected,
)

P, T, A, D = Stage.PROPOSED, Stage.IN_TALKS, Stage.ACTIVE, Stage.DORMANT
NON_TERMINAL = {P, T, A, D}

#: The contract's table (docs/contract.md, "Messages"), written out by hand on purpose: if the
#: decider's own table drifts from the contract, the matrix below fails.
CONTRACT_ALLOWED: dict[str, set[Stage]] = {
    "open_talks": {P},
    "record_meeting": {T, A, D},
    "draft_memorandum": {T},
    "record_approval": {P, T},
    "sign_memorandum": {T},
    "record_exchange": {A, D},
    "extend_invitation": {T, A, D},
    "answer_invitation": {T, A, D},
    "upgrade": {A},
    "renew": {A, D},
    "correct": NON_TERMINAL,
    "withdraw": {P, T},
    "terminate": {A, D},
}

#: The engine's own commands (policy timers and the audit of rejected signals).
ENGINE_ALLOWED: dict[str, set[Stage]] = {
    "note_talks_deadline": {P, T},
    "mark_dormant": {A},
    "note_renewal_due": {A, D},
    "expire": {A, D},
    "record_rejected_signal": set(Stage),
}

#: A payload for each user command that succeeds wherever the command is allowed.
VALID: dict[str, dict] = {
    "open_talks": {"by": JING},
    "record_meeting": {"date": "2018-01-02", "place": "Mianyang", "delegation": [ZHANG]},
    "draft_memorandum": {"title": "Memo", "languages": ["en"], "text": TEXT},
    "record_approval": {"side": "initiator", "authority": "Sichuan FAO", "decision": "granted"},
    "sign_memorandum": {"date": "2017-11-15", "place": "Cupertino", "signatories": [JING, ZHANG]},
    "record_exchange": {"date": "2018-04-20", "field": "trade", "kind": "visit", "title": "Trip"},
    "extend_invitation": {"event": "Expo", "from_side": "initiator", "to_side": "partner"},
    "answer_invitation": {"invitation_id": "inv-1", "accepted": True},
    "upgrade": {"to_tier": "sister_city"},
    "renew": {},
    "correct": {"target_version": 1, "reason": "typo", "correction": {"rationale": "Fixed."}},
    "withdraw": {"reason": "no budget"},
    "terminate": {"reason": "no exchanges"},
}
ENGINE: dict[str, Command] = {
    "note_talks_deadline": NoteTalksDeadline(),
    "mark_dormant": MarkDormant(),
    "note_renewal_due": NoteRenewalDue(),
    "expire": Expire(),
    "record_rejected_signal": RecordRejectedSignal(command="upgrade", reason="nope"),
}


def test_the_tables_cover_every_command():
    assert set(CONTRACT_ALLOWED) == set(USER_COMMANDS) == set(VALID)
    assert set(ENGINE_ALLOWED) == set(ENGINE)


MATRIX = [
    (stage, name, stage in allowed)
    for name, allowed in {**CONTRACT_ALLOWED, **ENGINE_ALLOWED}.items()
    for stage in Stage
]


@pytest.mark.parametrize(
    ("stage", "name", "allowed"),
    MATRIX,
    ids=[f"{name}-in-{stage.value}-{'ok' if ok else 'refused'}" for stage, name, ok in MATRIX],
)
def test_stage_matrix(stage, name, allowed):
    state = given(*HISTORIES[stage])
    cmd = ENGINE[name] if name in ENGINE else command(name, **VALID[name])
    result = decide(state, cmd, LATER)
    if allowed:
        assert not isinstance(result, Rejection), result.reason
        assert result, "an applied command records at least one event"
        new = after(state, result)  # evolve accepts what decide emitted
        assert new.version == state.version + len(result)
    else:
        then_rejected(result, name, "not allowed", f"while the partnership is {stage.value}")


def test_no_command_before_a_proposal():
    reason = then_rejected(decide(None, command("open_talks"), T0))
    assert reason == "the partnership has not been proposed yet"


def test_refusals_leave_the_state_alone():
    """decide is pure: a refused command changes nothing it was given."""
    state = given(*IN_TALKS, meeting(at(7)), invited(2, at(8)))
    before = state.model_dump()
    for name, payload in VALID.items():
        decide(state, command(name, **payload), LATER)
    assert state.model_dump() == before
