"""Details of the decider that the broader tests let slip (found by `make mutate`): exact
refusal wording where a list is joined, every proposal field carried into its event and
state, the terminating person, policy corrections on a running term, and the fold's field
cache starting cold."""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar

import pytest

import domain.state
from amity import story
from domain import events as e
from domain.decider import decide, evolve, fold
from domain.errors import IllegalEvent
from domain.messages import Command
from domain.parsing import parse_proposal
from domain.registry import Rejection
from domain.slices.correct import Correct
from domain.slices.propose import decide_proposal

from .scenario import (
    ACTIVE,
    COUNCIL,
    IN_TALKS,
    JING,
    LATER,
    PID,
    T0,
    at,
    command,
    drafted,
    exchange,
    given,
    invited,
    proposed,
    signed,
    talks_opened,
    then_rejected,
    when,
)

SIGN = {
    "date": "2017-11-15",
    "place": "Cupertino",
    "signatories": [JING, JING | {"side": "partner"}],
}


class Unlisted(Command):
    name: ClassVar[str] = "unlisted"


def test_an_unknown_command_is_named() -> None:
    assert then_rejected(decide(given(proposed()), Unlisted(), T0)) == "unknown command 'unlisted'"


def test_a_command_in_the_wrong_stage_lists_the_stages_it_is_allowed_in() -> None:
    meeting = command("record_meeting", **story.load("record_meeting.json"))
    reason = then_rejected(decide(given(proposed()), meeting, T0))
    assert reason == (
        "record_meeting is not allowed while the partnership is proposed"
        " (allowed in: active, dormant, in_talks)"
    )


def test_every_missing_approval_is_named() -> None:
    mayor = {"side": "initiator", "authority": "Mianyang People's Congress"}
    state = given(proposed(required_approvals=[COUNCIL, mayor]), talks_opened(), drafted())
    reason = then_rejected(when(state, command("sign_memorandum", **SIGN)))
    assert reason == (
        "cannot sign: required approval missing:"
        " Cupertino City Council (partner); Mianyang People's Congress (initiator)"
    )


def test_an_unknown_invitation_lists_the_known_ones() -> None:
    state = given(*IN_TALKS, invited(2))
    answer = command("answer_invitation", invitation_id="inv-9", accepted=True)
    assert (
        then_rejected(when(state, answer)) == "unknown invitation_id 'inv-9' (known: inv-1, inv-2)"
    )


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


def test_a_proposal_carries_every_field_into_its_event_and_state() -> None:
    proposal = parse_proposal(
        {
            "initiator": {"name": "A", "country": "CN"},
            "partner": {"name": "B", "country": "US"},
            "tier": "sister_city",
            "proposed_by": JING,
            "fields": ["trade"],
            "rationale": "ports on one river",
            "required_approvals": [COUNCIL],
            "policy": {"term": "P3Y", "dormant_after": "P90D"},
        }
    )
    (event,) = decide_proposal(PID, proposal, T0)
    assert isinstance(event, e.Proposed)
    assert event.rationale == "ports on one river"
    assert [a.authority for a in event.required_approvals] == ["Cupertino City Council"]
    assert event.policy.term is not None and event.policy.term > timedelta(days=3 * 364)
    assert event.policy.dormant_after == timedelta(days=90)
    state = evolve(None, event, 1)
    assert state.rationale == "ports on one river"
    assert state.policy == event.policy
    assert [a.authority for a in state.required_approvals] == ["Cupertino City Council"]


def test_termination_records_who_terminated() -> None:
    result = when(given(*ACTIVE), command("terminate", reason="budget", by=JING))
    assert isinstance(result, list)
    (event,) = result
    assert isinstance(event, e.Terminated)
    assert event.by is not None and event.by.name == JING["name"]


def test_expiry_gives_its_closing_reason() -> None:
    state = fold([*ACTIVE, e.Expired(at=at(735), expires_at=at(735))])
    assert state.closing_reason == "the term ended without renewal"


def test_a_policy_correction_moves_the_running_term_and_resets_its_reminder() -> None:
    noted = given(*ACTIVE, e.RenewalDue(at=at(675), expires_at=at(735)))
    assert noted.renewal_due_noted
    longer = command(
        "correct", target_version=1, reason="r", correction={"policy": {"term": "P3Y"}}
    )
    state = fold([*ACTIVE, e.RenewalDue(at=at(675), expires_at=at(735)), *when(noted, longer)])
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


def test_the_fold_is_the_same_with_a_cold_field_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """The records' field names are cached per event type; the first use computes them."""
    history = [*ACTIVE, exchange(at(20), "trade")]
    monkeypatch.setattr(domain.state, "_RECORD_FIELDS", {})
    state = fold(history)
    first_meeting = next(ev for ev in history if isinstance(ev, e.MeetingRecorded))
    assert state.meetings[0].place == first_meeting.place
    assert state.meetings[0].date == first_meeting.date
    assert state.exchanges[0].field.value == "trade"
    assert state.exchanges[0].version == 8
    assert state.invitations[0].invitation_id == "inv-1"
    assert domain.state._RECORD_FIELDS  # filled on first use
    assert fold(history) == state


def test_illegal_event_messages_name_the_expected_value() -> None:
    with pytest.raises(IllegalEvent, match=r"^draft_version 3 out of sequence \(next is 2\)$"):
        evolve(given(*IN_TALKS), drafted(version=3), 7)
    missing = given(proposed(), talks_opened(), drafted())
    with pytest.raises(IllegalEvent, match=r"^signing while a required approval is missing$"):
        evolve(missing, signed(), 4)
    wrong = e.Corrected(
        at=LATER, target_version=3, target_type="memorandum_drafted", reason="r", correction={}
    )
    expected = r"^correction of version 3 as memorandum_drafted, but it is meeting_recorded$"
    with pytest.raises(IllegalEvent, match=expected):
        evolve(given(*ACTIVE), wrong, 8)


def test_a_rejection_is_not_events() -> None:
    assert not isinstance(when(given(*ACTIVE), command("open_talks")), list)
    assert isinstance(when(given(*ACTIVE), command("open_talks")), Rejection)
