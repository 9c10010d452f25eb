"""extend_invitation: invitations are numbered inv-1, inv-2...; between the two sides only."""

from __future__ import annotations

from datetime import date

import pytest

from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.parsing import InvalidInput
from domain.slices.extend_invitation import InvitationExtended

from ..scenario import (
    ACTIVE,
    DORMANT,
    IN_TALKS,
    NOW,
    after,
    command,
    given,
    invited,
    proposed,
    talks_opened,
    then_events,
    when,
)


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
            InvitationExtended(
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


def test_invitation_to_the_same_side_is_invalid_input():
    with pytest.raises(InvalidInput, match="from_side and to_side must differ"):
        command("extend_invitation", event="Expo", from_side="partner", to_side="partner")


# -- what the store refuses to apply: events illegal for what they say ---------------------


def test_an_invitation_id_used_twice():
    state = given(*IN_TALKS)
    with pytest.raises(IllegalEvent, match="inv-1"):
        evolve(state, invited(1, NOW), state.version + 1)
