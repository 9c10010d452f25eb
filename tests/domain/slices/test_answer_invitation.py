"""answer_invitation: a known, open invitation is accepted or declined, once."""

from __future__ import annotations

import pytest

from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.slices.answer_invitation import InvitationAnswered

from ..scenario import (
    ACTIVE,
    DORMANT,
    IN_TALKS,
    NOW,
    after,
    at,
    command,
    given,
    invited,
    proposed,
    talks_opened,
    then_events,
    then_rejected,
    when,
)


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
        result, [InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=accepted, note="n")]
    )
    new = after(state, result)
    assert new.invitation("inv-1").accepted is accepted and new.invitation("inv-1").note == "n"
    assert new.stage == state.stage


def test_answer_to_an_unknown_invitation():
    state = given(*IN_TALKS)
    then_rejected(
        when(state, command("answer_invitation", invitation_id="inv-9", accepted=True)),
        "unknown invitation_id 'inv-9'",
        "known: inv-1",
    )
    none = given(proposed(), talks_opened())
    then_rejected(
        when(none, command("answer_invitation", invitation_id="inv-1", accepted=True)),
        "known: none",
    )


@pytest.mark.parametrize(("first", "word"), [(True, "accepted"), (False, "declined")])
def test_answer_to_an_answered_invitation(first, word):
    state = given(*IN_TALKS, InvitationAnswered(at=at(6), invitation_id="inv-1", accepted=first))
    for again in (True, False):
        then_rejected(
            when(state, command("answer_invitation", invitation_id="inv-1", accepted=again)),
            f"invitation inv-1 was already {word}",
        )


def test_an_unknown_invitation_lists_the_known_ones() -> None:
    state = given(*IN_TALKS, invited(2))
    answer = command("answer_invitation", invitation_id="inv-9", accepted=True)
    assert (
        then_rejected(when(state, answer)) == "unknown invitation_id 'inv-9' (known: inv-1, inv-2)"
    )


# -- what the store refuses to apply: events illegal for what they say ---------------------


def test_answer_to_an_unknown_or_answered_invitation():
    state = given(*IN_TALKS)
    with pytest.raises(IllegalEvent, match="inv-2"):
        evolve(state, InvitationAnswered(at=NOW, invitation_id="inv-2", accepted=True), 7)
    answered = evolve(state, InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=True), 7)
    with pytest.raises(IllegalEvent, match="inv-1"):
        evolve(answered, InvitationAnswered(at=NOW, invitation_id="inv-1", accepted=True), 8)
