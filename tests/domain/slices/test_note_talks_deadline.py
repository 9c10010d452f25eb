"""note_talks_deadline (engine): the talks deadline passed without a signature, noted once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.registry import Rejection
from domain.slices.note_talks_deadline import NoteTalksDeadline, TalksDeadlinePassed

from ..scenario import (
    LATER,
    T0,
    after,
    at,
    given,
    proposed,
    talks_opened,
    then_events,
    then_rejected,
    when,
)


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_note_talks_deadline(history):
    state = given(*history)
    deadline = T0 + timedelta(days=365)
    then_events(
        when(state, NoteTalksDeadline(), deadline),
        [TalksDeadlinePassed(at=deadline, deadline=deadline)],
    )
    new = after(state, [TalksDeadlinePassed(at=deadline, deadline=deadline)])
    assert new.talks_deadline_noted and new.stage == state.stage
    # noted once only
    assert isinstance(when(new, NoteTalksDeadline(), LATER), Rejection)


def test_talks_deadline_not_passed_not_set_or_already_noted():
    state = given(proposed())
    then_rejected(when(state, NoteTalksDeadline(), at(364)), "has not passed")
    reason = then_rejected(when(given(proposed(policy={})), NoteTalksDeadline(), LATER))
    assert reason == "no talks deadline pending"
    noted = given(proposed(), TalksDeadlinePassed(at=at(365), deadline=at(365)))
    assert then_rejected(when(noted, NoteTalksDeadline(), LATER)) == "no talks deadline pending"
