"""correct: a mistyped fact of an earlier event is corrected; decisions and unknown targets
are refused."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.decider import evolve, fold
from domain.errors import IllegalEvent
from domain.parsing import InvalidInput
from domain.slices.correct import Correct, Corrected
from domain.slices.note_renewal_due import RenewalDue
from domain.slices.withdraw import Withdrawn
from domain.state import to_status
from domain.values import Policy, Stage

from ..scenario import (
    ACTIVE,
    IN_TALKS,
    JING,
    NOW,
    ZHANG,
    after,
    at,
    command,
    exchange,
    given,
    proposed,
    then_events,
    then_rejected,
    when,
)


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
            Corrected(
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
            Corrected(
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


@pytest.mark.parametrize(
    "target",
    [
        2,  # talks_opened is a decision, not a mistyped fact
        99,  # beyond the history
    ],
)
def test_correct_a_version_that_is_not_correctable(target):
    state = given(*IN_TALKS)
    then_rejected(
        _correct(state, target, {"place": "x"}),
        f"target_version {target} is not a correctable event",
        f"current version is {state.version}",
    )


def test_correct_a_correction_or_an_engine_event_is_refused():
    state = given(*ACTIVE, RenewalDue(at=at(700), expires_at=at(735)))
    renewal_due = state.version
    state = after(state, _correct(state, 3, {"place": "Elsewhere"}))
    for target in (renewal_due, state.version):
        then_rejected(_correct(state, target, {"place": "x"}), "is not a correctable event")


def test_correct_an_event_of_an_earlier_life_is_refused():
    ended = given(proposed(), meeting_free_withdrawn := Withdrawn(at=at(1), reason="r"))
    assert meeting_free_withdrawn.type == "withdrawn"
    state = after(ended, [proposed(when=at(2))])
    assert state.proposed_version == 3
    then_rejected(_correct(state, 1, {"rationale": "x"}), "target_version 1 is not a correctable")


@pytest.mark.parametrize(
    ("version", "correction", "field"),
    [
        (1, {"tier": "sister_city"}, "tier"),  # a tier changes by upgrade
        (1, {"stage": "active"}, "stage"),
        (1, {"partnership_id": "x"}, "partnership_id"),
        (3, {"location": "x"}, "location"),
        (5, {"decision": "denied"}, "decision"),  # an approval's decision is not a typo
        (5, {"required": False}, "required"),
        (4, {"text_sha256": "0" * 64}, "text_sha256"),  # a draft's text is a new draft
        (4, {"draft_version": 3}, "draft_version"),
        (6, {"invitation_id": "inv-7"}, "invitation_id"),
        (6, {"accepted": True}, "accepted"),
    ],
)
def test_correct_a_field_that_is_not_correctable(version, correction, field):
    state = given(*IN_TALKS)
    target_type = IN_TALKS[version - 1].type
    then_rejected(
        _correct(state, version, correction),
        f"correction of {target_type} (version {version})",
        f"{field}: unknown field",
        "correctable:",
    )


def test_correct_the_signing_signatories_or_draft_is_refused():
    state = given(*ACTIVE)
    for correction in ({"signatories": [JING, ZHANG]}, {"draft_version": 1}, {"expires_at": None}):
        then_rejected(_correct(state, state.signing.version, correction), "unknown field")


def test_correct_with_an_invalid_value_is_refused():
    state = given(*ACTIVE, exchange(at(20)))
    exchange_version = state.exchanges[0].version
    then_rejected(_correct(state, exchange_version, {"field": "astrology"}), "field:")
    then_rejected(_correct(state, 3, {"date": "1800-01-01"}), "date: date must be between")
    then_rejected(_correct(state, 1, {"policy": {"term": "PT0S"}}), "duration must be positive")
    then_rejected(_correct(state, 1, {"fields": []}), "fields:")


@pytest.mark.parametrize(
    ("version", "field"),
    [
        (1, "policy"),
        (1, "initiator"),
        (1, "partner"),
        (1, "proposed_by"),
        (1, "fields"),
        (1, "required_approvals"),
        (3, "date"),
        (3, "place"),
        (3, "delegation"),
        (3, "topics"),
        (4, "title"),
        (4, "languages"),
        (6, "event"),
        (7, "date"),
        (7, "place"),
    ],
)
def test_correct_to_null_a_value_that_cannot_be_empty_is_refused(version, field):
    state = given(*ACTIVE)
    then_rejected(_correct(state, version, {field: None}), field)


@pytest.mark.parametrize(
    ("version", "field"),
    [(1, "rationale"), (3, "outcome"), (5, "reference"), (5, "date"), (6, "date")],
)
def test_correct_to_null_an_optional_value_clears_it(version, field):
    state = given(*ACTIVE)
    new = after(state, _correct(state, version, {field: None}))
    assert new.version == state.version + 1


def test_an_empty_correction_is_invalid_input():
    with pytest.raises(InvalidInput, match="correction"):
        command("correct", target_version=1, reason="r", correction={})


def test_a_correction_of_an_unknown_field_lists_the_correctable_ones() -> None:
    state = given(*ACTIVE)
    correct = command("correct", target_version=7, reason="r", correction={"signatories": []})
    assert then_rejected(when(state, correct)) == (
        "correction of memorandum_signed (version 7): signatories: unknown field"
        " (correctable: date, place)"
    )


def test_an_empty_correction_that_got_past_parsing_is_refused() -> None:
    correct = Correct.model_construct(target_version=1, reason="r", correction={})
    assert then_rejected(when(given(*ACTIVE), correct)) == (
        "correction: give at least one field to correct"
    )


def test_a_policy_correction_moves_the_running_term_and_resets_its_reminder() -> None:
    noted = given(*ACTIVE, RenewalDue(at=at(675), expires_at=at(735)))
    assert noted.renewal_due_noted
    longer = command(
        "correct", target_version=1, reason="r", correction={"policy": {"term": "P3Y"}}
    )
    state = fold([*ACTIVE, RenewalDue(at=at(675), expires_at=at(735)), *when(noted, longer)])
    assert state.policy.term is not None and state.policy.term != noted.policy.term
    assert noted.term_started_at is not None
    assert state.expires_at == noted.term_started_at + state.policy.term
    assert state.renewal_due_noted is False
    # the term removed: no end any more
    none = command("correct", target_version=1, reason="r", correction={"policy": {"term": None}})
    ended = fold([*ACTIVE, *when(given(*ACTIVE), none)])
    assert ended.expires_at is None


def test_a_signing_correction_changes_only_the_named_field() -> None:
    state = given(*ACTIVE)
    fix = command("correct", target_version=7, reason="typo", correction={"place": "Mianyang"})
    corrected = fold([*ACTIVE, *when(state, fix)])
    assert corrected.signing is not None and state.signing is not None
    assert corrected.signing.place == "Mianyang"
    assert corrected.signing.date == state.signing.date
    assert corrected.signing.signatories == state.signing.signatories


# -- what the store refuses to apply: events illegal for what they say ---------------------


def test_a_correction_of_an_unknown_version():
    state = given(*IN_TALKS)
    event = Corrected(
        at=NOW, target_version=2, target_type="proposed", reason="r", correction={"rationale": "x"}
    )
    with pytest.raises(IllegalEvent, match="correction of unknown version 2"):
        evolve(state, event, state.version + 1)


def test_a_correction_whose_target_type_is_not_the_target():
    """A meeting's version labelled as the proposal must not rewrite the proposal."""
    state = given(*IN_TALKS)
    event = Corrected(
        at=NOW, target_version=3, target_type="proposed", reason="r", correction={"rationale": "x"}
    )
    with pytest.raises(IllegalEvent, match="version 3"):
        evolve(state, event, state.version + 1)
