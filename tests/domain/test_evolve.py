"""`evolve` refuses events the rules forbid (the store refuses them too); fold, to_status."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from domain import events as e
from domain.decider import evolve, fold
from domain.errors import IllegalEvent
from domain.state import to_status
from domain.values import Stage

from .scenario import (
    ACTIVE,
    DORMANT,
    HISTORIES,
    IN_TALKS,
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
SAMPLES: dict[str, e.AnyEvent] = {
    "talks_opened": talks_opened(NOW),
    "meeting_recorded": meeting(NOW),
    "memorandum_drafted": drafted(2, NOW),
    "approval_recorded": e.ApprovalRecorded(
        at=NOW, side="initiator", authority="FAO", decision="granted", required=False
    ),
    "proposal_rejected": e.ProposalRejected(at=NOW, side="partner", authority="C", reason="r"),
    "memorandum_signed": signed(NOW),
    "exchange_recorded": exchange(NOW),
    "reactivated": e.Reactivated(at=NOW),
    "invitation_extended": invited(2, NOW),
    "invitation_answered": e.InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=True),
    "upgraded": e.Upgraded(at=NOW, from_tier="friendly_relations", to_tier="sister_city"),
    "renewed": e.Renewed(at=NOW, term=timedelta(days=730), expires_at=NOW + timedelta(days=730)),
    "corrected": e.Corrected(
        at=NOW,
        target_version=1,
        target_type="proposed",
        reason="typo",
        correction={"rationale": "x"},
    ),
    "withdrawn": e.Withdrawn(at=NOW, reason="r"),
    "terminated": e.Terminated(at=NOW, reason="r"),
    "talks_deadline_passed": e.TalksDeadlinePassed(at=NOW, deadline=NOW),
    "became_dormant": e.BecameDormant(at=NOW, idle_since=T0),
    "renewal_due": e.RenewalDue(at=NOW, expires_at=NOW),
    "expired": e.Expired(at=NOW, expires_at=NOW),
    "signal_rejected": e.SignalRejected(at=NOW, command="upgrade", reason="r"),
}


def test_tables_cover_every_event_type():
    types = {member.model_fields["type"].default for member in e.AnyEvent.__origin__.__args__}
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


# -- events that are illegal for what they say, not only where ----------------------------


def test_signing_an_unknown_draft():
    state = given(proposed(required_approvals=[]), talks_opened())
    with pytest.raises(IllegalEvent, match="unknown draft"):
        evolve(state, signed(NOW), state.version + 1)


def test_signing_while_a_required_approval_is_missing():
    state = given(proposed(), talks_opened(), drafted())
    with pytest.raises(IllegalEvent, match="required approval is missing"):
        evolve(state, signed(NOW), state.version + 1)


@pytest.mark.parametrize("number", [1, 3])
def test_a_draft_out_of_sequence(number):
    state = given(proposed(), talks_opened(), drafted(1))
    with pytest.raises(IllegalEvent, match="draft_version"):
        evolve(state, drafted(number, NOW), state.version + 1)


def test_answer_to_an_unknown_or_answered_invitation():
    state = given(*IN_TALKS)
    with pytest.raises(IllegalEvent, match="inv-2"):
        evolve(state, e.InvitationAnswered(at=NOW, invitation_id="inv-2", accepted=True), 7)
    answered = evolve(state, SAMPLES["invitation_answered"], 7)
    with pytest.raises(IllegalEvent, match="inv-1"):
        evolve(answered, SAMPLES["invitation_answered"], 8)


def test_an_invitation_id_used_twice():
    state = given(*IN_TALKS)
    with pytest.raises(IllegalEvent, match="inv-1"):
        evolve(state, invited(1, NOW), state.version + 1)


@pytest.mark.parametrize(
    ("from_tier", "to_tier"),
    [
        ("friendly_relations", "friendly_relations"),  # not an upgrade
        ("sister_city", "friendship_city"),  # a downgrade
        ("friendship_city", "sister_city"),  # from a tier the partnership does not have
    ],
)
def test_an_upgrade_that_is_not_one(from_tier, to_tier):
    state = given(*ACTIVE)  # friendly_relations
    with pytest.raises(IllegalEvent, match="upgrade"):
        evolve(state, e.Upgraded(at=NOW, from_tier=from_tier, to_tier=to_tier), state.version + 1)


def test_a_correction_of_an_unknown_version():
    state = given(*IN_TALKS)
    event = e.Corrected(
        at=NOW, target_version=2, target_type="proposed", reason="r", correction={"rationale": "x"}
    )
    with pytest.raises(IllegalEvent, match="correction of unknown version 2"):
        evolve(state, event, state.version + 1)


def test_a_correction_whose_target_type_is_not_the_target():
    """A meeting's version labelled as the proposal must not rewrite the proposal."""
    state = given(*IN_TALKS)
    event = e.Corrected(
        at=NOW, target_version=3, target_type="proposed", reason="r", correction={"rationale": "x"}
    )
    with pytest.raises(IllegalEvent, match="version 3"):
        evolve(state, event, state.version + 1)


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
        e.InvitationAnswered(at=at(7), invitation_id="inv-2", accepted=False),
        exchange(at(20), "culture"),
        exchange(at(10), "trade"),  # recorded later, happened earlier
        exchange(at(30), "culture"),
        e.SignalRejected(at=at(31), command="upgrade", reason="nope", request_id="r-9"),
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
        e.ApprovalRecorded(
            at=at(1), side="initiator", authority="fao", decision="granted", required=True
        ),
        e.ApprovalRecorded(
            at=at(2), side="partner", authority="Other", decision="denied", required=False
        ),
    )
    assert [m.authority for m in to_status(state).missing_approvals] == ["Council"]


def test_dormant_status():
    status = to_status(given(*DORMANT))
    assert status.stage == Stage.DORMANT and status.stage_since == at(400)
