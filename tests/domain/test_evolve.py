"""`evolve` refuses events the rules forbid (the store refuses them too); fold, to_status."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from domain.decider import evolve, fold
from domain.errors import IllegalEvent
from domain.events import AnyEvent
from domain.slices.answer_invitation import InvitationAnswered
from domain.slices.correct import Corrected
from domain.slices.expire import Expired
from domain.slices.mark_dormant import BecameDormant
from domain.slices.note_renewal_due import RenewalDue
from domain.slices.note_talks_deadline import TalksDeadlinePassed
from domain.slices.record_approval import ApprovalRecorded, ProposalRejected
from domain.slices.record_exchange import Reactivated
from domain.slices.record_rejected_signal import SignalRejected
from domain.slices.renew import Renewed
from domain.slices.terminate import Terminated
from domain.slices.upgrade import Upgraded
from domain.slices.withdraw import Withdrawn
from domain.state import CommandOutcome, to_status
from domain.values import Stage

from .scenario import (
    ACTIVE,
    DORMANT,
    HISTORIES,
    JING,
    T0,
    ZHANG,
    approved,
    at,
    command,
    drafted,
    exchange,
    given,
    invited,
    meeting,
    proposed,
    signed,
    talks_opened,
    when,
)

P, T, A, D = Stage.PROPOSED, Stage.IN_TALKS, Stage.ACTIVE, Stage.DORMANT
NOW = at(10)

#: Where each event may be applied, written out from the contract's stages.
EVENT_STAGES: dict[str, set[Stage]] = {
    "talks_opened": {P},
    "meeting_recorded": {T, A, D},
    "memorandum_drafted": {T},
    "approval_recorded": {P, T},
    "proposal_rejected": {P, T},
    "memorandum_signed": {T},
    "exchange_recorded": {A},  # a dormant partnership is reactivated first
    "reactivated": {D},
    "invitation_extended": {T, A, D},
    "invitation_answered": {T, A, D},
    "upgraded": {A},
    "renewed": {A, D},
    "corrected": {P, T, A, D},
    "withdrawn": {P, T},
    "terminated": {A, D},
    "talks_deadline_passed": {P, T},
    "became_dormant": {A},
    "renewal_due": {A, D},
    "expired": {A, D},
    "signal_rejected": set(Stage),
}

#: One event of each type that is legal wherever its type is allowed (given HISTORIES).
SAMPLES: dict[str, AnyEvent] = {
    "talks_opened": talks_opened(NOW),
    "meeting_recorded": meeting(NOW),
    "memorandum_drafted": drafted(2, NOW),
    "approval_recorded": ApprovalRecorded(
        at=NOW, side="initiator", authority="FAO", decision="granted", required=False
    ),
    "proposal_rejected": ProposalRejected(at=NOW, side="partner", authority="C", reason="r"),
    "memorandum_signed": signed(NOW),
    "exchange_recorded": exchange(NOW),
    "reactivated": Reactivated(at=NOW),
    "invitation_extended": invited(2, NOW),
    "invitation_answered": InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=True),
    "upgraded": Upgraded(at=NOW, from_tier="friendly_relations", to_tier="sister_city"),
    "renewed": Renewed(at=NOW, term=timedelta(days=730), expires_at=NOW + timedelta(days=730)),
    "corrected": Corrected(
        at=NOW,
        target_version=1,
        target_type="proposed",
        reason="typo",
        correction={"rationale": "x"},
    ),
    "withdrawn": Withdrawn(at=NOW, reason="r"),
    "terminated": Terminated(at=NOW, reason="r"),
    "talks_deadline_passed": TalksDeadlinePassed(at=NOW, deadline=NOW),
    "became_dormant": BecameDormant(at=NOW, idle_since=T0),
    "renewal_due": RenewalDue(at=NOW, expires_at=NOW),
    "expired": Expired(at=NOW, expires_at=NOW),
    "signal_rejected": SignalRejected(at=NOW, command="upgrade", reason="r"),
}


def test_tables_cover_every_event_type():
    types = {member.model_fields["type"].default for member in AnyEvent.__origin__.__args__}
    assert set(EVENT_STAGES) | {"proposed"} == types == set(SAMPLES) | {"proposed"}


EVENT_MATRIX = [
    (stage, kind, stage in EVENT_STAGES[kind]) for kind in EVENT_STAGES for stage in Stage
]


#: The stage an event moves a partnership to; every other event leaves the stage as it is.
STAGE_AFTER = {
    "talks_opened": Stage.IN_TALKS,
    "proposal_rejected": Stage.REJECTED,
    "memorandum_signed": Stage.ACTIVE,
    "reactivated": Stage.ACTIVE,
    "withdrawn": Stage.WITHDRAWN,
    "terminated": Stage.TERMINATED,
    "became_dormant": Stage.DORMANT,
    "expired": Stage.EXPIRED,
}


@pytest.mark.parametrize(
    ("stage", "kind", "allowed"),
    EVENT_MATRIX,
    ids=[f"{k}-in-{s.value}-{'ok' if ok else 'illegal'}" for s, k, ok in EVENT_MATRIX],
)
def test_event_stage_matrix(stage, kind, allowed):
    state = given(*HISTORIES[stage])
    event = SAMPLES[kind]
    if allowed:
        new = evolve(state, event, state.version + 1)
        assert new.version == state.version + 1
        assert new.stage == STAGE_AFTER.get(kind, stage)
    else:
        with pytest.raises(IllegalEvent, match=f"{kind} is not allowed while {stage.value}"):
            evolve(state, event, state.version + 1)


@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_nothing_before_a_proposal(kind):
    with pytest.raises(IllegalEvent, match="before the partnership was proposed"):
        evolve(None, SAMPLES[kind], 1)


@pytest.mark.parametrize("stage", [P, T, A, D])
def test_a_proposal_while_a_life_is_running(stage):
    state = given(*HISTORIES[stage])
    with pytest.raises(IllegalEvent, match=f"proposed while the partnership is {stage.value}"):
        evolve(state, proposed(when=NOW), state.version + 1)


@pytest.mark.parametrize("stage", [s for s in Stage if s.is_terminal])
def test_a_proposal_after_a_terminal_stage_begins_a_new_life(stage):
    old = given(*HISTORIES[stage])
    new = evolve(old, proposed(when=NOW, tier="sister_city", policy={}), old.version + 1)
    assert new.stage == Stage.PROPOSED and new.version == old.version + 1
    assert new.proposed_version == old.version + 1 and new.proposed_at == NOW
    assert new.meetings == [] and new.drafts == [] and new.signing is None
    assert new.invitations == [] and new.closing_reason is None and new.expires_at is None


# -- fold and to_status -------------------------------------------------------------------


def test_fold_of_decides_output_is_the_expected_state():
    state = given(proposed())
    script = [
        (command("open_talks", by=JING), at(1)),
        (command("record_meeting", date="2017-11-15", place="Cupertino", delegation=[JING]), at(2)),
        (command("draft_memorandum", title="Memo", languages=["zh", "en"], text="Text"), at(3)),
        (
            command(
                "record_approval",
                side="partner",
                authority="Cupertino City Council",
                decision="granted",
            ),
            at(4),
        ),
        (
            command(
                "sign_memorandum", date="2017-11-15", place="Cupertino", signatories=[JING, ZHANG]
            ),
            at(5),
        ),
        (
            command("extend_invitation", event="Expo", from_side="initiator", to_side="partner"),
            at(6),
        ),
        (
            command("record_exchange", date="2018-04-20", field="culture", kind="visit", title="V"),
            at(7),
        ),
    ]
    emitted = [proposed()]
    for cmd, moment in script:
        result = when(state, cmd, moment)
        emitted.extend(result)
        state = fold(result, state)
    assert fold(emitted) == state  # one fold from scratch == step by step
    assert state.stage == Stage.ACTIVE and state.version == 8 == len(emitted)
    assert state.stage_since == at(5)
    assert [m.version for m in state.meetings] == [3]
    assert [(d.version, d.draft_version, d.title) for d in state.drafts] == [(4, 1, "Memo")]
    assert [(a.version, a.required, a.decision.value) for a in state.approvals] == [
        (5, True, "granted")
    ]
    assert state.signing.version == 6 and state.signing.draft_version == 1
    assert state.signed_at == at(5) == state.term_started_at
    assert state.expires_at == at(5) + timedelta(days=730)
    assert [(i.version, i.invitation_id, i.accepted) for i in state.invitations] == [
        (7, "inv-1", None)
    ]
    assert [(x.version, x.field.value) for x in state.exchanges] == [(8, "culture")]
    assert state.last_exchange_at == at(7) and state.missing_approvals() == []


def test_fold_continues_versions_from_a_state():
    first = given(proposed(), talks_opened())
    assert fold([meeting()], first).meetings[0].version == 3
    assert fold([], first) is first
    assert fold([]) is None


def test_to_status():
    state = given(
        *ACTIVE,
        invited(2, at(6)),
        InvitationAnswered(at=at(7), invitation_id="inv-2", accepted=False),
        exchange(at(20), "culture"),
        exchange(at(10), "trade"),  # recorded later, happened earlier
        exchange(at(30), "culture"),
        SignalRejected(at=at(31), command="upgrade", reason="nope", request_id="r-9"),
    )
    status = to_status(state)
    assert status.partnership_id == "partnership-mianyang-cupertino"
    assert status.stage == Stage.ACTIVE and status.version == state.version == 13
    assert status.exchanges == {"culture": 2, "trade": 1} and status.exchange_count == 3
    assert status.last_exchange_on == at(30).date()
    assert [i.invitation_id for i in status.open_invitations] == ["inv-1"]
    assert [i.invitation_id for i in status.invitations] == ["inv-1", "inv-2"]
    assert status.signed_on == date(2017, 11, 15)
    assert status.expires_on == at(5) + timedelta(days=730)
    assert status.talks_deadline == T0 + timedelta(days=365)
    assert status.missing_approvals == []
    assert [(r.command, r.request_id) for r in status.rejected] == [("upgrade", "r-9")]
    # the whole status is one JSON object
    data = json.loads(status.model_dump_json())
    for key in (
        "partnership_id",
        "stage",
        "tier",
        "initiator",
        "partner",
        "fields",
        "meetings",
        "drafts",
        "approvals",
        "signed_on",
        "exchanges",
        "last_exchange_on",
        "open_invitations",
        "expires_on",
        "rejected",
        "version",
    ):
        assert key in data
    assert data["exchanges"] == {"culture": 2, "trade": 1} and data["signed_on"] == "2017-11-15"


def test_to_status_carries_the_rationale_signing_closing_reason_and_outcome():
    state = given(*ACTIVE, Terminated(at=at(40), reason="the city merged"))
    outcome = CommandOutcome(command="terminate", request_id="r-1", version=state.version)
    status = to_status(state, outcome)
    assert status.rationale == "Both are science and technology cities."
    assert status.signing == state.signing and status.signing.place == "Cupertino, California"
    assert status.closing_reason == "the city merged"
    assert status.outcome == outcome
    assert to_status(state).outcome is None


def test_to_status_before_signing():
    status = to_status(given(proposed(), talks_opened()))
    assert status.signed_on is None and status.signing is None and status.expires_on is None
    assert status.exchanges == {} and status.exchange_count == 0 and status.last_exchange_on is None
    assert [(m.side.value, m.authority) for m in status.missing_approvals] == [
        ("partner", "Cupertino City Council")
    ]
    assert status.open_invitations == [] and status.version == 2


def test_missing_approvals_follow_the_latest_decision():
    state = given(proposed(), approved(at(1)))
    assert to_status(state).missing_approvals == []
    # a later non-terminal record on the same authority (here: a correction of its reference)
    # does not change the decision; a denial of a non-required authority changes nothing
    state = given(
        proposed(
            required_approvals=[
                {"side": "partner", "authority": "Council"},
                {"side": "initiator", "authority": "FAO"},
            ]
        ),
        ApprovalRecorded(
            at=at(1), side="initiator", authority="fao", decision="granted", required=True
        ),
        ApprovalRecorded(
            at=at(2), side="partner", authority="Other", decision="denied", required=False
        ),
    )
    assert [m.authority for m in to_status(state).missing_approvals] == ["Council"]


def test_dormant_status():
    status = to_status(given(*DORMANT))
    assert status.stage == Stage.DORMANT and status.stage_since == at(400)
