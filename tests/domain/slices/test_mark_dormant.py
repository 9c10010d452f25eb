"""mark_dormant (engine): no exchange for the dormancy period, counted from the last exchange
or the signing."""

from __future__ import annotations

from datetime import timedelta

from domain.slices.mark_dormant import BecameDormant, MarkDormant
from domain.values import Stage

from ..scenario import (
    ACTIVE,
    LATER,
    after,
    at,
    exchange,
    given,
    proposed,
    signed,
    then_events,
    then_rejected,
    when,
)


def test_mark_dormant_after_idle_period_since_last_exchange():
    state = given(*ACTIVE, exchange(at(100)))
    moment = at(100) + timedelta(days=365)
    result = when(state, MarkDormant(), moment)
    then_events(result, [BecameDormant(at=moment, idle_since=at(100))])
    new = after(state, result)
    assert new.stage == Stage.DORMANT and new.stage_since == moment


def test_mark_dormant_counts_from_signing_without_exchanges():
    state = given(*ACTIVE)
    moment = at(5) + timedelta(days=365)
    then_events(when(state, MarkDormant(), moment), [BecameDormant(at=moment, idle_since=at(5))])


def test_mark_dormant_too_early_or_without_policy():
    state = given(*ACTIVE, exchange(at(100)))
    reason = then_rejected(when(state, MarkDormant(), at(100) + timedelta(days=364)))
    assert reason == "an exchange was recorded recently"
    no_policy = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_policy, MarkDormant(), LATER)) == "no dormancy policy"
