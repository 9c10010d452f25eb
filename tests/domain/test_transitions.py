"""Every transition the contract allows: given a history, when a command, then these events."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import events as e
from domain.registry import Rejection
from domain.slices.draft_memorandum import text_digest
from domain.values import Policy, Stage, Tier

from .scenario import (
    ACTIVE,
    CUPERTINO,
    DORMANT,
    FIELDS,
    IN_TALKS,
    JING,
    LATER,
    MIANYANG,
    T0,
    TEXT,
    ZHANG,
    after,
    at,
    command,
    drafted,
    exchange,
    given,
    proposed,
    signed,
    talks_opened,
    then_events,
    when,
)

NOW = at(10)


# -- proposal and talks ---------------------------------------------------------------


def test_decide_proposal_starts_a_life():
    from domain.parsing import parse_proposal
    from domain.slices.propose import decide_proposal

    proposal = parse_proposal(
        {
            "initiator": MIANYANG,
            "partner": CUPERTINO,
            "tier": "friendly_relations",
            "proposed_by": JING,
            "fields": ["economy", "trade", "economy"],
        }
    )
    events = decide_proposal("p-1", proposal, T0)
    assert len(events) == 1
    state = given(*events)
    assert (state.stage, state.version, state.proposed_version) == (Stage.PROPOSED, 1, 1)
    assert [f.value for f in state.fields] == ["economy", "trade"]  # duplicates dropped
    assert state.required_approvals == [] and state.policy.term is None


def test_open_talks():
    state = given(proposed())
    result = when(state, command("open_talks", by=JING, note="visit"), NOW)
    then_events(result, [e.TalksOpened(at=NOW, by=JING, note="visit")])
    new = after(state, result)
    assert new.stage == Stage.IN_TALKS and new.stage_since == NOW


@pytest.mark.parametrize(
    "history", [IN_TALKS, ACTIVE, DORMANT], ids=["in_talks", "active", "dormant"]
)
def test_record_meeting(history):
    state = given(*history)
    payload = {
        "date": "2018-04-20",
        "place": "Mianyang",
        "delegation": [ZHANG],
        "counterparts": [{"name": "Liu"}],
        "topics": ["expo"],
        "outcome": "agreed",
    }
    result = when(state, command("record_meeting", **payload), NOW)
    then_events(
        result,
        [
            e.MeetingRecorded(
                at=NOW,
                date=date(2018, 4, 20),
                place="Mianyang",
                delegation=[ZHANG],
                counterparts=[{"name": "Liu"}],
                topics=["expo"],
                outcome="agreed",
            )
        ],
    )
    new = after(state, result)
    assert new.stage == state.stage  # a meeting does not wake a dormant partnership
    assert new.meetings[-1].version == new.version and new.meetings[-1].place == "Mianyang"


def test_draft_memorandum_numbers_versions_1_2_3():
    state = given(proposed(), talks_opened())
    for number in (1, 2, 3):
        result = when(
            state,
            command("draft_memorandum", title=f"T{number}", languages=["zh", "en"], text=TEXT),
            NOW,
        )
        then_events(
            result,
            [
                e.MemorandumDrafted(
                    at=NOW,
                    draft_version=number,
                    title=f"T{number}",
                    languages=["zh", "en"],
                    text_sha256=text_digest(TEXT),
                    text=TEXT,
                    fields=FIELDS,  # the proposal's fields by default
                )
            ],
        )
        state = after(state, result)
    assert [d.draft_version for d in state.drafts] == [1, 2, 3]


def test_draft_by_hash_only_and_with_own_fields():
    state = given(proposed(), talks_opened())
    digest = text_digest(TEXT).upper()
    result = when(
        state,
        command(
            "draft_memorandum",
            title="T",
            languages=["en"],
            text_sha256=digest,
            fields=["culture", "culture", "sport"],
        ),
        NOW,
    )
    then_events(
        result,
        [
            e.MemorandumDrafted(
                at=NOW,
                draft_version=1,
                title="T",
                languages=["en"],
                text_sha256=digest.lower(),
                text=None,
                fields=["culture", "sport"],
            )
        ],
    )


def test_draft_with_text_and_matching_hash():
    state = given(proposed(), talks_opened())
    result = when(
        state,
        command(
            "draft_memorandum",
            title="T",
            languages=["en"],
            text=TEXT,
            text_sha256=text_digest(TEXT),
        ),
        NOW,
    )
    assert [(ev.draft_version, ev.text, ev.text_sha256) for ev in result] == [
        (1, TEXT, text_digest(TEXT))
    ]


# -- approvals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
@pytest.mark.parametrize("decision", ["granted", "denied"])
def test_record_approval_not_required(history, decision):
    state = given(*history)
    result = when(
        state,
        command("record_approval", side="initiator", authority="Sichuan FAO", decision=decision),
        NOW,
    )
    then_events(
        result,
        [
            e.ApprovalRecorded(
                at=NOW, side="initiator", authority="Sichuan FAO", decision=decision, required=False
            )
        ],
    )
    new = after(state, result)
    assert new.stage == state.stage  # not required: even a denial does not end the proposal
    assert new.missing_approvals() == state.missing_approvals()


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_record_approval_required_granted(history):
    state = given(*history)
    assert len(state.missing_approvals()) == 1
    # the authority is matched case-insensitively
    result = when(
        state,
        command(
            "record_approval",
            side="partner",
            authority="cupertino city council",
            decision="granted",
            reference="R-1",
            date="2017-11-07",
        ),
        NOW,
    )
    then_events(
        result,
        [
            e.ApprovalRecorded(
                at=NOW,
                side="partner",
                authority="cupertino city council",
                decision="granted",
                required=True,
                reference="R-1",
                date=date(2017, 11, 7),
            )
        ],
    )
    new = after(state, result)
    assert new.missing_approvals() == [] and new.stage == state.stage


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_record_approval_required_denied_rejects_the_proposal(history):
    state = given(*history)
    result = when(
        state,
        command(
            "record_approval", side="partner", authority="Cupertino City Council", decision="denied"
        ),
        NOW,
    )
    then_events(
        result,
        [
            e.ApprovalRecorded(
                at=NOW,
                side="partner",
                authority="Cupertino City Council",
                decision="denied",
                required=True,
            ),
            e.ProposalRejected(
                at=NOW,
                side="partner",
                authority="Cupertino City Council",
                reason="required approval denied by Cupertino City Council (partner)",
            ),
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.REJECTED and new.stage.is_terminal
    assert new.closing_reason == "required approval denied by Cupertino City Council (partner)"


def test_same_authority_on_the_other_side_is_not_the_required_one():
    state = given(proposed())
    result = when(
        state,
        command(
            "record_approval",
            side="initiator",
            authority="Cupertino City Council",
            decision="denied",
        ),
        NOW,
    )
    assert [ev.type for ev in result] == ["approval_recorded"]
    assert result[0].required is False


# -- signing ----------------------------------------------------------------------------


def test_sign_latest_draft_by_default_and_term_from_policy():
    state = given(*IN_TALKS, drafted(2))
    result = when(
        state,
        command("sign_memorandum", date="2017-11-15", place="Cupertino", signatories=[JING, ZHANG]),
        NOW,
    )
    then_events(
        result,
        [
            e.MemorandumSigned(
                at=NOW,
                date=date(2017, 11, 15),
                place="Cupertino",
                draft_version=2,
                signatories=[JING, ZHANG],
                expires_at=NOW + timedelta(days=730),  # P2Y = 730 days
            )
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE
    assert new.signing.draft_version == 2 and new.signing.version == new.version
    assert new.signed_at == NOW and new.expires_at == NOW + timedelta(days=730)


def test_sign_an_earlier_draft_explicitly_without_term():
    state = given(
        proposed(policy={}, required_approvals=[]), talks_opened(), drafted(1), drafted(2)
    )
    result = when(
        state,
        command(
            "sign_memorandum",
            date="2017-11-15",
            place="Cupertino",
            draft_version=1,
            signatories=[ZHANG, JING],
        ),
        NOW,
    )
    assert result[0].draft_version == 1 and result[0].expires_at is None
    assert after(state, result).expires_at is None


# -- life after signing -------------------------------------------------------------------


def test_record_exchange_when_active():
    state = given(*ACTIVE)
    payload = {
        "date": "2018-04-20",
        "field": "science_technology",
        "kind": "event",
        "title": "Smart City Summit",
        "participants": [{"name": "Mianyang delegation", "side": "initiator"}],
        "outcome": "contacts",
    }
    result = when(state, command("record_exchange", **payload), NOW)
    then_events(
        result,
        [
            e.ExchangeRecorded(
                at=NOW,
                date=date(2018, 4, 20),
                field="science_technology",
                kind="event",
                title="Smart City Summit",
                participants=[{"name": "Mianyang delegation", "side": "initiator"}],
                outcome="contacts",
            )
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE and new.last_exchange_at == NOW


def test_record_exchange_when_dormant_reactivates_first():
    state = given(*DORMANT)
    later = at(500)
    result = when(
        state,
        command(
            "record_exchange", date="2019-03-01", field="sport", kind="visit", title="Youth games"
        ),
        later,
    )
    then_events(
        result,
        [
            e.Reactivated(at=later),
            e.ExchangeRecorded(
                at=later, date=date(2019, 3, 1), field="sport", kind="visit", title="Youth games"
            ),
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE and new.stage_since == later
    assert new.exchanges[0].version == new.version  # the exchange is the second event


@pytest.mark.parametrize(
    "history", [IN_TALKS, ACTIVE, DORMANT], ids=["in_talks", "active", "dormant"]
)
def test_extend_invitation_numbers_ids(history):
    state = given(*history)  # inv-1 was extended during talks
    result = when(
        state,
        command(
            "extend_invitation",
            event="Global Smart City Summit",
            date="2018-04-20",
            from_side="partner",
            to_side="initiator",
        ),
        NOW,
    )
    then_events(
        result,
        [
            e.InvitationExtended(
                at=NOW,
                invitation_id="inv-2",
                event="Global Smart City Summit",
                date=date(2018, 4, 20),
                from_side="partner",
                to_side="initiator",
            )
        ],
    )
    new = after(state, result)
    assert [i.invitation_id for i in new.invitations] == ["inv-1", "inv-2"]


def test_first_invitation_is_inv_1():
    state = given(proposed(), talks_opened())
    result = when(
        state,
        command("extend_invitation", event="Expo", from_side="initiator", to_side="partner"),
        NOW,
    )
    assert [ev.invitation_id for ev in result] == ["inv-1"]


@pytest.mark.parametrize(
    "history", [IN_TALKS, ACTIVE, DORMANT], ids=["in_talks", "active", "dormant"]
)
@pytest.mark.parametrize("accepted", [True, False])
def test_answer_invitation(history, accepted):
    state = given(*history)
    result = when(
        state, command("answer_invitation", invitation_id="inv-1", accepted=accepted, note="n"), NOW
    )
    then_events(
        result, [e.InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=accepted, note="n")]
    )
    new = after(state, result)
    assert new.invitation("inv-1").accepted is accepted and new.invitation("inv-1").note == "n"
    assert new.stage == state.stage


@pytest.mark.parametrize(
    ("start", "to"),
    [
        ("friendly_relations", "friendship_city"),
        ("friendly_relations", "sister_city"),
        ("friendship_city", "sister_city"),
    ],
)
def test_upgrade(start, to):
    state = given(proposed(tier=start), *ACTIVE[1:])
    result = when(state, command("upgrade", to_tier=to, reference="council vote"), NOW)
    then_events(result, [e.Upgraded(at=NOW, from_tier=start, to_tier=to, reference="council vote")])
    assert after(state, result).tier == Tier(to)


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_renew_with_policy_term(history):
    state = given(*history)
    result = when(state, command("renew", reference="R"), NOW)
    then_events(
        result,
        [
            e.Renewed(
                at=NOW,
                term=timedelta(days=730),
                expires_at=NOW + timedelta(days=730),
                reference="R",
            )
        ],
    )
    new = after(state, result)
    assert new.expires_at == NOW + timedelta(days=730) and new.term_started_at == NOW
    assert new.stage == state.stage


def test_renew_with_own_term_replaces_policy_term():
    state = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    assert state.expires_at is None
    result = when(state, command("renew", term="P5Y"), NOW)
    then_events(
        result,
        [e.Renewed(at=NOW, term=timedelta(days=1825), expires_at=NOW + timedelta(days=1825))],
    )
    new = after(state, result)
    assert new.policy.term == timedelta(days=1825)
    assert new.renewal_due_noted is False


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_withdraw(history):
    state = given(*history)
    result = when(state, command("withdraw", by=JING, reason="no budget"), NOW)
    then_events(result, [e.Withdrawn(at=NOW, by=JING, reason="no budget")])
    new = after(state, result)
    assert new.stage == Stage.WITHDRAWN and new.closing_reason == "no budget"


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_terminate(history):
    state = given(*history)
    result = when(state, command("terminate", reason="no contact for years"), NOW)
    then_events(result, [e.Terminated(at=NOW, reason="no contact for years")])
    new = after(state, result)
    assert new.stage == Stage.TERMINATED and new.closing_reason == "no contact for years"


# -- corrections ------------------------------------------------------------------------


def _correct(state, target_version, correction, reason="typo"):
    return when(
        state,
        command("correct", target_version=target_version, reason=reason, correction=correction),
        NOW,
    )


def test_correct_the_proposal_policy_moves_a_running_term():
    state = given(*ACTIVE)
    signed_at = state.signed_at
    result = _correct(state, 1, {"policy": {"term": "P3Y", "renewal_notice": "P30D"}})
    then_events(
        result,
        [
            e.Corrected(
                at=NOW,
                target_version=1,
                target_type="proposed",
                reason="typo",
                # the event records the whole corrected policy: untouched timers stay
                correction={
                    "policy": Policy(
                        talks_deadline=timedelta(days=365),
                        dormant_after=timedelta(days=365),
                        term=timedelta(days=1095),
                        renewal_notice=timedelta(days=30),
                    ).model_dump(mode="json")
                },
            )
        ],
    )
    new = after(state, result)
    assert new.policy.term == timedelta(days=1095)
    assert new.policy.dormant_after == timedelta(days=365)
    assert new.expires_at == signed_at + timedelta(days=1095)
    assert new.corrections[0].target_version == 1 and new.corrections[0].version == new.version
    # history is not edited: the original proposal event still says P2Y
    assert state.policy.term == timedelta(days=730)


def test_correct_the_policy_can_switch_a_timer_off_explicitly():
    state = given(*ACTIVE)
    new = after(state, _correct(state, 1, {"policy": {"dormant_after": None}}))
    assert new.policy.dormant_after is None
    assert new.policy.term == timedelta(days=730) and new.expires_at == state.expires_at


def test_correct_the_proposal_fields_and_required_approvals():
    state = given(proposed())
    result = _correct(
        state,
        1,
        {
            "fields": ["health", "youth"],
            "required_approvals": [{"side": "initiator", "authority": "CPAFFC"}],
        },
    )
    new = after(state, result)
    assert [f.value for f in new.fields] == ["health", "youth"]
    assert [a.authority for a in new.missing_approvals()] == ["CPAFFC"]


def test_correct_a_meeting():
    state = given(*IN_TALKS)
    meeting_version = state.meetings[0].version
    result = _correct(state, meeting_version, {"date": "2017-11-16", "place": "Cupertino Library"})
    then_events(
        result,
        [
            e.Corrected(
                at=NOW,
                target_version=meeting_version,
                target_type="meeting_recorded",
                reason="typo",
                correction={"date": "2017-11-16", "place": "Cupertino Library"},
            )
        ],
    )
    new = after(state, result)
    assert (
        new.meetings[0].date == date(2017, 11, 16) and new.meetings[0].place == "Cupertino Library"
    )
    assert new.meetings[0].delegation == state.meetings[0].delegation  # untouched fields stay


def test_correct_an_exchange_field_moves_the_count():
    from domain.state import to_status

    state = given(*ACTIVE, exchange(at(20), "culture"), exchange(at(21), "culture"))
    assert to_status(state).exchanges == {"culture": 2}
    result = _correct(state, state.exchanges[1].version, {"field": "education"})
    assert [ev.target_type for ev in result] == ["exchange_recorded"]
    assert to_status(after(state, result)).exchanges == {"culture": 1, "education": 1}


def test_correct_the_signing():
    state = given(*ACTIVE)
    result = _correct(state, state.signing.version, {"date": "2017-11-16", "place": "San Jose"})
    assert result[0].target_type == "memorandum_signed"
    new = after(state, result)
    assert (new.signing.date, new.signing.place) == (date(2017, 11, 16), "San Jose")
    assert new.signing.signatories == state.signing.signatories
    assert new.stage == Stage.ACTIVE


@pytest.mark.parametrize(
    ("index", "target_type", "correction", "check"),
    [
        (3, "memorandum_drafted", {"title": "Final"}, lambda s: s.drafts[0].title == "Final"),
        (4, "approval_recorded", {"reference": "R-9"}, lambda s: s.approvals[0].reference == "R-9"),
        (
            5,
            "invitation_extended",
            {"event": "Expo 7"},
            lambda s: s.invitations[0].event == "Expo 7",
        ),
    ],
)
def test_correct_drafts_approvals_invitations(index, target_type, correction, check):
    state = given(*IN_TALKS)
    target = index + 1  # versions count from 1
    assert IN_TALKS[index].type == target_type
    result = _correct(state, target, correction)
    assert result[0].target_type == target_type
    assert check(after(state, result))


# -- engine commands ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_note_talks_deadline(history):
    from domain.slices.note_talks_deadline import NoteTalksDeadline

    state = given(*history)
    deadline = T0 + timedelta(days=365)
    then_events(
        when(state, NoteTalksDeadline(), deadline),
        [e.TalksDeadlinePassed(at=deadline, deadline=deadline)],
    )
    new = after(state, [e.TalksDeadlinePassed(at=deadline, deadline=deadline)])
    assert new.talks_deadline_noted and new.stage == state.stage
    # noted once only
    assert isinstance(when(new, NoteTalksDeadline(), LATER), Rejection)


def test_mark_dormant_after_idle_period_since_last_exchange():
    from domain.slices.mark_dormant import MarkDormant

    state = given(*ACTIVE, exchange(at(100)))
    moment = at(100) + timedelta(days=365)
    result = when(state, MarkDormant(), moment)
    then_events(result, [e.BecameDormant(at=moment, idle_since=at(100))])
    new = after(state, result)
    assert new.stage == Stage.DORMANT and new.stage_since == moment


def test_mark_dormant_counts_from_signing_without_exchanges():
    from domain.slices.mark_dormant import MarkDormant

    state = given(*ACTIVE)
    moment = at(5) + timedelta(days=365)
    then_events(when(state, MarkDormant(), moment), [e.BecameDormant(at=moment, idle_since=at(5))])


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_note_renewal_due_and_expire(history):
    from domain.slices.expire import Expire
    from domain.slices.note_renewal_due import NoteRenewalDue

    state = given(*history)
    expires = at(5) + timedelta(days=730)
    notice_starts = expires - timedelta(days=60)
    result = when(state, NoteRenewalDue(), notice_starts)
    then_events(result, [e.RenewalDue(at=notice_starts, expires_at=expires)])
    noted = after(state, result)
    assert noted.renewal_due_noted
    result = when(noted, Expire(), expires)
    then_events(result, [e.Expired(at=expires, expires_at=expires)])
    ended = after(noted, result)
    assert ended.stage == Stage.EXPIRED and ended.closing_reason


def test_renew_resets_the_renewal_reminder():
    from domain.slices.note_renewal_due import NoteRenewalDue

    state = given(*ACTIVE, e.RenewalDue(at=at(700), expires_at=at(735)))
    assert state.renewal_due_noted
    renewed = after(state, when(state, command("renew"), at(710)))
    assert renewed.renewal_due_noted is False
    assert renewed.expires_at == at(710) + timedelta(days=730)
    then_events(
        when(renewed, NoteRenewalDue(), renewed.expires_at),
        [e.RenewalDue(at=renewed.expires_at, expires_at=renewed.expires_at)],
    )


@pytest.mark.parametrize("stage", list(Stage))
def test_record_rejected_signal_in_every_stage(stage):
    from domain.slices.record_rejected_signal import RecordRejectedSignal

    from .scenario import HISTORIES

    state = given(*HISTORIES[stage])
    result = when(
        state,
        RecordRejectedSignal(
            command="upgrade", reason="not allowed\nnow  really", sender_request_id="r-1"
        ),
        NOW,
    )
    then_events(
        result,
        [
            e.SignalRejected(
                at=NOW, command="upgrade", reason="not allowed now really", request_id="r-1"
            )
        ],
    )
    new = after(state, result)
    assert new.stage == stage
    assert new.rejected[-1].command == "upgrade" and new.rejected[-1].request_id == "r-1"


def test_rejected_signals_in_state_are_capped():
    from domain.state import MAX_REJECTED_IN_STATE

    signals = [
        e.SignalRejected(at=at(i), command=f"c{i}", reason="r")
        for i in range(MAX_REJECTED_IN_STATE + 5)
    ]
    state = given(proposed(), *signals)
    assert len(state.rejected) == MAX_REJECTED_IN_STATE
    assert state.rejected[-1].command == f"c{MAX_REJECTED_IN_STATE + 4}"
    assert state.version == 1 + MAX_REJECTED_IN_STATE + 5


def test_the_story_from_examples():
    """The Mianyang–Cupertino story (examples/*.json) runs through the decider."""
    from amity import story
    from domain.decider import decide
    from domain.parsing import parse_command, parse_proposal
    from domain.slices.propose import decide_proposal

    state = given(*decide_proposal(story.PARTNERSHIP_ID, parse_proposal(story.proposal()), T0))
    for offset, (name, payload) in enumerate(story.steps(), start=1):
        state = after(state, decide(state, parse_command(name, payload), at(offset)))
    assert state.stage == Stage.ACTIVE
    assert [i.invitation_id for i in state.invitations] == ["inv-1", "inv-2"]
    assert state.invitation("inv-1").accepted is True
    assert len(state.exchanges) == 2 and state.signing.draft_version == 1
