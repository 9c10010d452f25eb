"""The working state stays the same size however many records a partnership has: counts,
the latest dates, the latest decision of each authority, open invitations and short
windows of recent records; a state in the older shape loads into the new one."""

from __future__ import annotations

import json

import pytest

from domain import events as e
from domain.decider import decide, fold
from domain.errors import IllegalEvent
from domain.slices.correct import Correct, CorrectionTarget
from domain.state import (
    COUNTS,
    MAX_OPEN_INVITATIONS,
    RECENT,
    RECENT_BYTES,
    PartnershipState,
    to_status,
)
from domain.values import Stage

from .scenario import ACTIVE, IN_TALKS, at, command, exchange, given, invited, then_rejected, when

FIELDS = ("culture", "trade", "education")


def with_exchanges(count: int) -> PartnershipState:
    return given(*ACTIVE, *(exchange(at(10 + n), FIELDS[n % 3]) for n in range(count)))


def test_the_state_does_not_grow_with_the_exchanges() -> None:
    sizes = {n: len(with_exchanges(n).model_dump_json()) for n in (RECENT, 200, 2_000)}
    # only the digits of the counts and versions differ
    assert sizes[2_000] - sizes[RECENT] < 100, sizes
    state = with_exchanges(2_000)
    assert len(state.exchanges) == RECENT
    assert state.exchange_count == 2_000
    assert state.exchanges_by_field == {"culture": 667, "trade": 667, "education": 666}
    assert [x.version for x in state.exchanges] == list(
        range(state.version - RECENT + 1, state.version + 1)
    )
    status = to_status(state)
    assert status.exchanges == state.exchanges_by_field and status.exchange_count == 2_000
    assert status.last_exchange_on == at(10 + 1_999).date() == state.last_exchange_on
    assert [x.version for x in status.recent_exchanges] == [x.version for x in state.exchanges]


def test_large_records_keep_the_window_within_its_bytes() -> None:
    person = {"name": "N" * 200, "title": "T" * 500, "organisation": "O" * 500}
    fat = [
        e.ExchangeRecorded(
            at=at(10 + n),
            date=at(10 + n).date(),
            field="culture",
            kind="visit",
            title=f"fat {n}",
            participants=[person] * 200,
        )
        for n in range(6)
    ]
    state = given(*ACTIVE, *fat)
    assert state.exchange_count == 6
    # one such record passes the window's budget alone: only the newest is kept
    assert [x.title for x in state.exchanges] == ["fat 5"]
    small = given(*ACTIVE, *fat, *(exchange(at(30 + n)) for n in range(3)))
    assert len(small.exchanges) == 4  # small records join without measuring the rest
    window = sum(len(x.model_dump_json()) for x in state.exchanges)
    assert window < RECENT_BYTES + 300_000


def test_approvals_keep_the_latest_decision_of_each_authority() -> None:
    events = [
        *IN_TALKS[:4],
        *(
            e.ApprovalRecorded(
                at=at(4),
                side="partner",
                authority=f"Board {n % 30}",
                decision="granted" if n % 2 else "denied",
                required=False,
            )
            for n in range(90)
        ),
    ]
    state = given(*events)
    assert state.approval_count == 90
    assert len(state.approvals) == RECENT
    assert state.approvals[-1].authority == "Board 29" and state.approvals[-1].decision == "granted"


def test_a_required_approval_is_never_dropped() -> None:
    from .scenario import COUNCIL, proposed, talks_opened

    events = [
        proposed(required_approvals=[COUNCIL]),
        talks_opened(),
        e.ApprovalRecorded(at=at(3), decision="granted", required=True, **COUNCIL),
        *(
            e.ApprovalRecorded(
                at=at(4),
                side="initiator",
                authority=f"Board {n}",
                decision="granted",
                required=False,
            )
            for n in range(3 * RECENT)
        ),
    ]
    state = given(*events)
    assert state.missing_approvals() == []
    assert len(state.approvals) == RECENT + 1


def test_invitations_keep_the_open_ones_and_the_latest_answered() -> None:
    events = [*IN_TALKS[:5]]
    for n in range(1, 41):
        events.append(invited(n))
        if n <= 30:
            events.append(e.InvitationAnswered(at=at(5), invitation_id=f"inv-{n}", accepted=True))
    state = given(*events)
    assert state.invitation_count == 40
    assert [i.invitation_id for i in state.open_invitations()] == [
        f"inv-{n}" for n in range(31, 41)
    ]
    assert len(state.invitations) == 10 + RECENT
    assert [i.version for i in state.invitations] == sorted(i.version for i in state.invitations)
    # inv-1 was answered long ago: the state no longer holds it, but knows it was extended
    again = command("answer_invitation", invitation_id="inv-1", accepted=False)
    then_rejected(when(state, again), "inv-1 was already answered")
    then_rejected(
        when(state, command("answer_invitation", invitation_id="inv-41", accepted=True)),
        "unknown invitation_id 'inv-41'",
    )
    ask = command("extend_invitation", event="Fair", from_side="initiator", to_side="partner")
    new = when(state, ask)
    assert isinstance(new, list) and new[0].invitation_id == "inv-41"  # type: ignore[union-attr]


def test_open_invitations_are_limited() -> None:
    events = [*IN_TALKS[:5], *(invited(n) for n in range(1, MAX_OPEN_INVITATIONS + 1))]
    state = given(*events)
    ask = command("extend_invitation", event="Fair", from_side="initiator", to_side="partner")
    then_rejected(when(state, ask), f"{MAX_OPEN_INVITATIONS} invitations are open already")


def test_drafts_are_numbered_by_their_count() -> None:
    from .scenario import drafted, proposed, talks_opened

    state = given(proposed(), talks_opened(), *(drafted(n) for n in range(1, 31)))
    assert state.draft_count == 30 and len(state.drafts) == RECENT
    assert state.drafts[-1].draft_version == 30
    with pytest.raises(IllegalEvent, match="out of sequence"):
        fold([drafted(30)], state)


def test_an_old_state_folds_into_the_bounded_shape() -> None:
    """A state carried by a run from before (every record listed, no counts) loads."""
    full = fold(
        [exchange(at(10 + n), FIELDS[n % 3]) for n in range(50)], given(*ACTIVE).keeping_all()
    )
    assert full is not None
    old = json.loads(full.model_dump_json())
    assert len(old["exchanges"]) == 50  # every record, as states were before
    for name in COUNTS:
        old.pop(name)
    loaded = PartnershipState.model_validate(old)
    assert loaded.exchange_count == 50 and len(loaded.exchanges) == RECENT
    assert loaded.exchanges_by_field == {"culture": 17, "trade": 17, "education": 16}
    assert loaded.draft_count == 1 and loaded.meeting_count == 1 and loaded.invitation_count == 1
    assert loaded.last_exchange_on == at(59).date()
    kept = PartnershipState.model_validate(old, context={"keep_all": True})
    assert len(kept.exchanges) == 50 and kept.exchange_count == 50


def test_a_run_from_before_keeps_every_record() -> None:
    state = given(*ACTIVE).keeping_all()
    state = fold([exchange(at(10 + n)) for n in range(RECENT + 5)], state)  # type: ignore[assignment]
    assert state is not None and state.keeps_all and len(state.exchanges) == RECENT + 5
    assert len(state.bounded().exchanges) == RECENT


def test_a_correction_of_a_record_the_state_no_longer_holds() -> None:
    state = with_exchanges(RECENT + 5)
    first = state.version - RECENT - 4  # the first exchange: no longer in the window
    ask = Correct(target_version=first, reason="the field", correction={"field": "trade"})
    # without the store's copy it cannot be decided
    then_rejected(decide(state, ask, at(100)), f"target_version {first} is not a correctable")
    # with it (the workflow reads it through the correction_target activity)
    stored = CorrectionTarget(
        version=first,
        event_type="exchange_recorded",
        target_type="exchange_recorded",
        values={"field": "culture", "date": str(at(10).date())},
    )
    decision = decide(state, ask.with_target(stored), at(100))
    assert isinstance(decision, list)
    corrected = decision[0]
    assert isinstance(corrected, e.Corrected) and corrected.before == {"field": "culture"}
    new = fold(decision, state)
    assert new is not None
    assert new.exchanges_by_field == {"culture": 8, "trade": 9, "education": 8}
    assert new.correction_count == 1 and new.exchange_count == RECENT + 5
    # a stored target of another kind is refused like one in the state
    meeting = CorrectionTarget(
        version=first, event_type="meeting_recorded", target_type="meeting_recorded"
    )
    then_rejected(
        decide(state, ask.with_target(meeting), at(100)), "correction of meeting_recorded"
    )
    # a target of an earlier life, or not stored, is never read from the store
    not_stored = CorrectionTarget(version=first, event_type="talks_opened")
    then_rejected(decide(state, ask.with_target(not_stored), at(100)), "is not a correctable")


def test_a_stored_correction_outside_the_window_folds_without_its_target() -> None:
    state = with_exchanges(RECENT + 5)
    first = state.version - RECENT - 4
    event = e.Corrected(
        at=at(100),
        target_version=first,
        target_type="exchange_recorded",
        reason="r",
        correction={"field": "education"},
        before={"field": "culture"},
    )
    new = fold([event], state)
    assert new is not None and new.exchanges_by_field["education"] == 9
    # a correction of a kind none of which was dropped is still refused
    wrong = event.model_copy(update={"target_type": "meeting_recorded"})
    with pytest.raises(IllegalEvent, match="unknown version"):
        fold([wrong], state)


def test_the_stage_is_unaffected() -> None:
    assert with_exchanges(RECENT + 1).stage == Stage.ACTIVE
