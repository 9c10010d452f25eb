"""Details of the dispatch that the broader tests let slip (found by `make mutate`): the
wording of refusals that name a command or list its stages, the fold's field cache starting
cold, illegal-event messages, a rejection not being events. Each command's own details are
in its module of tests/domain/slices/."""

from __future__ import annotations

from typing import ClassVar

import pytest

import domain.state
from amity import story
from domain.decider import decide, evolve, fold
from domain.errors import IllegalEvent
from domain.messages import Command
from domain.registry import Rejection
from domain.slices.correct import Corrected
from domain.slices.record_meeting import MeetingRecorded

from .scenario import (
    ACTIVE,
    IN_TALKS,
    LATER,
    T0,
    at,
    command,
    drafted,
    exchange,
    given,
    proposed,
    signed,
    talks_opened,
    then_rejected,
    when,
)


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


def test_the_fold_is_the_same_with_a_cold_field_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """How each record is made from its event is worked out once per pair of classes
    (`record_of`'s plans); the first use computes them."""
    history = [*ACTIVE, exchange(at(20), "trade")]
    monkeypatch.setattr(domain.state, "_CARRY_PLANS", {})
    state = fold(history)
    first_meeting = next(ev for ev in history if isinstance(ev, MeetingRecorded))
    assert state.meetings[0].place == first_meeting.place
    assert state.meetings[0].date == first_meeting.date
    assert state.exchanges[0].field.value == "trade"
    assert state.exchanges[0].version == 8
    assert state.invitations[0].invitation_id == "inv-1"
    assert domain.state._CARRY_PLANS  # filled on first use
    assert fold(history) == state


def test_illegal_event_messages_name_the_expected_value() -> None:
    with pytest.raises(IllegalEvent, match=r"^draft_version 3 out of sequence \(next is 2\)$"):
        evolve(given(*IN_TALKS), drafted(version=3), 7)
    missing = given(proposed(), talks_opened(), drafted())
    with pytest.raises(IllegalEvent, match=r"^signing while a required approval is missing$"):
        evolve(missing, signed(), 4)
    wrong = Corrected(
        at=LATER, target_version=3, target_type="memorandum_drafted", reason="r", correction={}
    )
    expected = r"^correction of version 3 as memorandum_drafted, but it is meeting_recorded$"
    with pytest.raises(IllegalEvent, match=expected):
        evolve(given(*ACTIVE), wrong, 8)


def test_a_rejection_is_not_events() -> None:
    assert not isinstance(when(given(*ACTIVE), command("open_talks")), list)
    assert isinstance(when(given(*ACTIVE), command("open_talks")), Rejection)
