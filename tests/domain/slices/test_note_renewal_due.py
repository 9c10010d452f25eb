"""note_renewal_due (engine): the term ends within the renewal notice, noted once."""

from __future__ import annotations

from domain.slices.note_renewal_due import NoteRenewalDue, RenewalDue

from ..scenario import ACTIVE, LATER, at, given, proposed, signed, then_rejected, when


def test_renewal_due_too_early_without_term_or_already_noted():
    state = given(*ACTIVE)  # expires at day 735, notice 60 days
    reason = then_rejected(when(state, NoteRenewalDue(), at(674)))
    assert reason == "the renewal notice period has not started"
    noted = given(*ACTIVE, RenewalDue(at=at(675), expires_at=at(735)))
    assert then_rejected(when(noted, NoteRenewalDue(), LATER)) == "no renewal reminder pending"
    no_term = given(proposed(policy={"renewal_notice": "P30D"}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_term, NoteRenewalDue(), LATER)) == "no renewal reminder pending"
