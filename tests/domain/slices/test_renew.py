"""renew: a new term starts now, of the policy's length or the one given; the reminder resets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.parsing import InvalidInput
from domain.slices.note_renewal_due import NoteRenewalDue, RenewalDue
from domain.slices.renew import Renewed

from ..scenario import (
    ACTIVE,
    DORMANT,
    NOW,
    after,
    at,
    command,
    given,
    proposed,
    signed,
    then_events,
    then_rejected,
    when,
)


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_renew_with_policy_term(history):
    state = given(*history)
    result = when(state, command("renew", reference="R"), NOW)
    then_events(
        result,
        [
            Renewed(
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
        [Renewed(at=NOW, term=timedelta(days=1825), expires_at=NOW + timedelta(days=1825))],
    )
    new = after(state, result)
    assert new.policy.term == timedelta(days=1825)
    assert new.renewal_due_noted is False


def test_renew_resets_the_renewal_reminder():
    state = given(*ACTIVE, RenewalDue(at=at(700), expires_at=at(735)))
    assert state.renewal_due_noted
    renewed = after(state, when(state, command("renew"), at(710)))
    assert renewed.renewal_due_noted is False
    assert renewed.expires_at == at(710) + timedelta(days=730)
    then_events(
        when(renewed, NoteRenewalDue(), renewed.expires_at),
        [RenewalDue(at=renewed.expires_at, expires_at=renewed.expires_at)],
    )


def test_renew_without_any_term():
    state = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    reason = then_rejected(when(state, command("renew")))
    assert reason == "renew needs a term: the partnership's policy has none"


@pytest.mark.parametrize("term", ["PT0S", 0, -5, "P300Y"])
def test_renew_with_a_bad_term_is_invalid_input(term):
    with pytest.raises(InvalidInput, match="term") as raised:
        command("renew", term=term)
    assert "\n" not in str(raised.value)
