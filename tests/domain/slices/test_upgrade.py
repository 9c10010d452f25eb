"""upgrade: an active partnership moves to a higher tier, never the same or a lower one."""

from __future__ import annotations

import pytest

from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.slices.upgrade import Upgraded
from domain.values import Tier

from ..scenario import (
    ACTIVE,
    NOW,
    after,
    command,
    given,
    proposed,
    then_events,
    then_rejected,
    when,
)


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
    then_events(result, [Upgraded(at=NOW, from_tier=start, to_tier=to, reference="council vote")])
    assert after(state, result).tier == Tier(to)


@pytest.mark.parametrize(
    ("tier", "to"),
    [
        ("friendly_relations", "friendly_relations"),
        ("friendship_city", "friendship_city"),
        ("friendship_city", "friendly_relations"),
        ("sister_city", "sister_city"),
        ("sister_city", "friendship_city"),
        ("sister_city", "friendly_relations"),
    ],
)
def test_upgrade_to_the_same_or_a_lower_tier(tier, to):
    state = given(proposed(tier=tier), *ACTIVE[1:])
    then_rejected(
        when(state, command("upgrade", to_tier=to)),
        f"to_tier {to} is not above the current tier {tier}",
    )


# -- what the store refuses to apply: events illegal for what they say ---------------------


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
        evolve(state, Upgraded(at=NOW, from_tier=from_tier, to_tier=to_tier), state.version + 1)
