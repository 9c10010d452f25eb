"""expire (engine): the term ended without renewal; the reminder comes first."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.decider import fold
from domain.slices.expire import Expire, Expired
from domain.slices.note_renewal_due import NoteRenewalDue, RenewalDue
from domain.slices.renew import Renewed
from domain.values import Stage

from ..scenario import (
    ACTIVE,
    DORMANT,
    LATER,
    after,
    at,
    given,
    proposed,
    signed,
    then_events,
    then_rejected,
    when,
)


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_note_renewal_due_and_expire(history):
    state = given(*history)
    expires = at(5) + timedelta(days=730)
    notice_starts = expires - timedelta(days=60)
    result = when(state, NoteRenewalDue(), notice_starts)
    then_events(result, [RenewalDue(at=notice_starts, expires_at=expires)])
    noted = after(state, result)
    assert noted.renewal_due_noted
    result = when(noted, Expire(), expires)
    then_events(result, [Expired(at=expires, expires_at=expires)])
    ended = after(noted, result)
    assert ended.stage == Stage.EXPIRED and ended.closing_reason


def test_expire_before_the_term_ends_or_without_term():
    state = given(*ACTIVE)
    assert then_rejected(when(state, Expire(), at(734))) == "the term has not ended"
    no_term = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_term, Expire(), LATER)) == "the term has not ended"
    renewed = given(*ACTIVE, Renewed(at=at(700), term=timedelta(days=730), expires_at=at(1430)))
    assert then_rejected(when(renewed, Expire(), at(735))) == "the term has not ended"


def test_expiry_gives_its_closing_reason() -> None:
    state = fold([*ACTIVE, Expired(at=at(735), expires_at=at(735))])
    assert state.closing_reason == "the term ended without renewal"
