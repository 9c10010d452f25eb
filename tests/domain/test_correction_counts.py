"""A correction of a counted field keeps the bounded state's counts and latest dates true:
the exchanges per field, the last exchange's and meeting's dates (moved later, or back to
the latest date the state still holds), and, under the business clock, a corrected
signing date moves the term it started."""

from __future__ import annotations

from datetime import UTC, date, datetime

from domain.state import RECENT, PartnershipState

from .scenario import ACTIVE, IN_TALKS, LATER, after, at, command, exchange, given, when

#: the versions of ACTIVE's events: the meeting is 3, the signing 7; exchanges follow.
MEETING, SIGNING, FIRST = 3, 7, 8


def correct(state: PartnershipState, version: int, now: datetime = LATER, **fields: object):
    ask = command("correct", target_version=version, reason="typo", correction=fields)
    return when(state, ask, now)


def corrected(state: PartnershipState, version: int, **fields: object) -> PartnershipState:
    return after(state, correct(state, version, **fields))


def exchanges(*days: int, fields: tuple[str, ...] = ("culture",)) -> PartnershipState:
    return given(*ACTIVE, *(exchange(at(d), fields[n % len(fields)]) for n, d in enumerate(days)))


def test_a_corrected_field_moves_one_exchange_between_fields() -> None:
    state = exchanges(10, 11, fields=("culture", "trade"))
    assert corrected(state, FIRST, field="trade").exchanges_by_field == {"trade": 2}
    assert corrected(state, FIRST, field="education").exchanges_by_field == {
        "trade": 1,
        "education": 1,
    }
    assert corrected(state, FIRST, field="culture").exchanges_by_field == {
        "culture": 1,
        "trade": 1,
    }


def test_the_last_exchange_date_follows_a_correction() -> None:
    state = exchanges(10, 20, 30)  # the last is version FIRST + 2
    assert state.last_exchange_on == at(30).date()
    # a record dated later than every other becomes the latest
    assert corrected(state, FIRST, date="2018-06-01").last_exchange_on == date(2018, 6, 1)
    # the latest moved earlier: the latest of those the state holds
    assert corrected(state, FIRST + 2, date=str(at(15).date())).last_exchange_on == at(20).date()
    assert corrected(state, FIRST + 2, date=str(at(5).date())).last_exchange_on == at(20).date()
    # another moved, still before the latest: unchanged
    assert corrected(state, FIRST, date=str(at(25).date())).last_exchange_on == at(30).date()
    assert corrected(state, FIRST + 1, date=str(at(1).date())).last_exchange_on == at(30).date()


def test_the_last_meeting_date_follows_a_correction() -> None:
    state = given(*ACTIVE)
    assert state.last_meeting_on == date(2017, 11, 15)
    assert corrected(state, MEETING, date="2017-11-20").last_meeting_on == date(2017, 11, 20)
    # the only meeting moved earlier: its new date is the latest
    assert corrected(state, MEETING, date="2017-11-02").last_meeting_on == date(2017, 11, 2)
    assert corrected(state, MEETING, place="Mianyang").last_meeting_on == date(2017, 11, 15)


def test_a_correction_outside_the_window_moves_the_latest_date_it_held() -> None:
    from domain.slices.correct import CorrectionTarget

    from .test_bounded_state import with_exchanges

    state = with_exchanges(25)  # exchanges 0..24 dated at(10)..at(34): the first not held
    first = state.version - 24
    # an old exchange dated after all the others (as if corrected before): it is the latest
    state = after(
        state, correct_stored(state, first, {"date": str(at(100).date())}, str(at(10).date()))
    )
    assert state.last_exchange_on == at(100).date()
    # moved back: the state no longer holds it, so its new date is the latest it knows
    stored = CorrectionTarget(
        version=first,
        event_type="exchange_recorded",
        target_type="exchange_recorded",
        values={"field": "culture", "date": str(at(100).date())},
    )
    ask = command(
        "correct", target_version=first, reason="r", correction={"date": str(at(50).date())}
    )
    back = after(state, when(state, ask.with_target(stored)))  # type: ignore[attr-defined]
    assert back.last_exchange_on == at(50).date()


def correct_stored(state: PartnershipState, version: int, fields: dict, was: str):
    from domain.slices.correct import CorrectionTarget

    stored = CorrectionTarget(
        version=version,
        event_type="exchange_recorded",
        target_type="exchange_recorded",
        values={"field": "culture", "date": was},
    )
    ask = command("correct", target_version=version, reason="r", correction=fields)
    return when(state, ask.with_target(stored))  # type: ignore[attr-defined]


def clocked_active() -> PartnershipState:
    from .scenario import proposed

    first = proposed().model_copy(update={"effective_clock": True})
    return given(first, *ACTIVE[1:])


def test_a_corrected_signing_date_moves_the_term_under_the_clock() -> None:
    state = clocked_active()
    term = state.policy.term
    assert term is not None
    assert state.term_started_at == datetime(2017, 11, 15, tzinfo=UTC)
    noted = state.model_copy(update={"renewal_due_noted": True})
    moved = corrected(noted, SIGNING, date="2017-11-10")
    began = datetime(2017, 11, 10, tzinfo=UTC)
    assert moved.term_started_at == began and moved.expires_at == began + term
    assert moved.renewal_due_noted is False
    assert moved.signing is not None and moved.signing.date == date(2017, 11, 10)
    # dated the day the signing was recorded: from that instant
    same_day = corrected(state, SIGNING, date=str(at(5).date()))
    assert same_day.term_started_at == at(5) and same_day.expires_at == at(5) + term


def test_a_corrected_signing_date_leaves_a_renewed_term() -> None:
    state = clocked_active()
    renewed = after(state, when(state, command("renew", date="2018-01-01"), at(100)))
    moved = corrected(renewed, SIGNING, date="2017-11-10")
    assert moved.term_started_at == renewed.term_started_at
    assert moved.expires_at == renewed.expires_at


def test_a_corrected_signing_date_leaves_the_term_without_the_clock() -> None:
    state = given(*ACTIVE)
    moved = corrected(state, SIGNING, date="2017-11-10")
    assert moved.term_started_at == state.term_started_at == at(5)
    assert moved.expires_at == state.expires_at


def test_a_signing_without_a_term_keeps_its_end() -> None:
    from .scenario import proposed, signed

    first = proposed(policy={"dormant_after": "P365D"}).model_copy(update={"effective_clock": True})
    state = given(first, *IN_TALKS[1:], signed(term=None))
    noted = state.model_copy(update={"renewal_due_noted": True})
    moved = corrected(noted, SIGNING, date="2017-11-10")
    assert moved.expires_at is None and moved.renewal_due_noted is True
    assert moved.term_started_at == datetime(2017, 11, 10, tzinfo=UTC)


def test_a_corrected_date_yet_to_come_is_refused_under_the_clock() -> None:
    state = clocked_active()
    now = at(10)  # 2017-11-11
    result = correct(state, MEETING, now=now, date="2017-11-13")
    assert not isinstance(result, list)
    assert result.reason == (
        "the corrected date of meeting_recorded 2017-11-13 is in the future;"
        " record it once it has happened"
    )
    assert isinstance(correct(state, MEETING, now=now, date="2017-11-12"), list)
    # an invitation is to a future event: its date may be ahead
    assert isinstance(correct(state, 6, now=now, date="2019-01-01"), list)
    # without the clock the date is corrected as given
    assert isinstance(correct(given(*ACTIVE), MEETING, now=now, date="2017-11-13"), list)


def test_needs_stored_target_only_for_this_lifes_dropped_records() -> None:
    from domain.slices.correct import needs_stored_target

    from .test_bounded_state import with_exchanges

    state = with_exchanges(25)
    ask = command("correct", target_version=1, reason="r", correction={"field": "trade"})

    def needs(version: int) -> bool:
        return needs_stored_target(state, ask.model_copy(update={"target_version": version}))  # type: ignore[arg-type]

    assert needs(state.version - 24)  # the first exchange: no longer held
    assert not needs(state.version)  # held
    assert not needs(state.proposed_version)  # the proposal: always held
    assert not needs(state.version + 1)  # not recorded yet
    # talks opened: not held either; the store says what it was (and it is refused then)
    assert needs(state.proposed_version + 1)


def test_a_corrected_proposal_date_is_the_proposed_on_day() -> None:
    state = given(*ACTIVE)
    assert state.proposed_on is None
    assert corrected(state, 1, date="2017-10-01").proposed_on == date(2017, 10, 1)


def test_the_latest_meeting_moved_back_gives_way_to_the_next_latest() -> None:
    from domain import events as e

    from .scenario import JING

    meetings = [
        e.MeetingRecorded(at=at(2), date=day, place="Hall", delegation=[JING])
        for day in (date(2017, 11, 3), date(2017, 11, 5))
    ]
    state = given(*ACTIVE[:2], *meetings)  # versions 3 and 4
    assert corrected(state, 4, date="2017-11-01").last_meeting_on == date(2017, 11, 3)


def test_a_signing_recorded_on_its_day_keeps_its_term_without_the_clock() -> None:
    from .scenario import signed

    recorded = datetime(2017, 11, 15, 10, tzinfo=UTC)  # the signing's own date
    state = given(*IN_TALKS, signed(when=recorded))
    moved = corrected(state, SIGNING, date="2017-11-10")
    assert moved.term_started_at == recorded and moved.expires_at == state.expires_at


def test_a_dropped_record_of_an_uncounted_kind_carries_nothing_before() -> None:
    from domain.slices.correct import CorrectionTarget

    from .scenario import drafted, proposed, talks_opened

    state = given(proposed(), talks_opened(), *(drafted(n) for n in range(1, RECENT + 3)))
    stored = CorrectionTarget(
        version=3, event_type="memorandum_drafted", target_type="memorandum_drafted"
    )
    ask = command("correct", target_version=3, reason="r", correction={"title": "First"})
    result = when(state, ask.with_target(stored))  # type: ignore[attr-defined]
    assert isinstance(result, list) and result[0].before == {}  # type: ignore[union-attr]
    assert after(state, result).draft_count == RECENT + 2


def test_the_latest_event_not_held_is_read_from_the_store() -> None:
    from domain.slices.correct import needs_stored_target

    from .scenario import proposed, talks_opened

    state = given(proposed(), talks_opened())
    ask = command("correct", target_version=2, reason="r", correction={"place": "x"})
    assert needs_stored_target(state, ask)  # type: ignore[arg-type]


def test_stored_before_values_the_record_does_not_have_are_ignored() -> None:
    from domain import events as e
    from domain.decider import fold

    from .test_bounded_state import with_exchanges

    state = with_exchanges(RECENT + 5)
    event = e.Corrected(
        at=at(100),
        target_version=state.version - RECENT - 4,
        target_type="exchange_recorded",
        reason="r",
        correction={"field": "education"},
        before={"field": "culture", "place": "somewhere", "date": None},
    )
    new = fold([event], state)
    assert new is not None
    assert new.exchanges_by_field == {"culture": 8, "trade": 8, "education": 9}


def dropped_target(kind: str) -> tuple[PartnershipState, int]:
    """A state that let go of some records of `kind`, and the version of the first."""
    from domain import events as e

    from .scenario import JING, drafted, invited, proposed, talks_opened

    base = [proposed(), talks_opened()]
    many = range(1, RECENT + 3)
    if kind == "meeting_recorded":
        more: list = [
            e.MeetingRecorded(at=at(2), date=date(2017, 11, 2), place="H", delegation=[JING])
            for _ in many
        ]
    elif kind == "memorandum_drafted":
        more = [drafted(n) for n in many]
    elif kind == "approval_recorded":
        more = [
            e.ApprovalRecorded(
                at=at(2), side="initiator", authority=f"B{n}", decision="granted", required=False
            )
            for n in many
        ]
    else:
        more = [invited(n) for n in many]
        more += [
            e.InvitationAnswered(at=at(5), invitation_id=f"inv-{n}", accepted=True) for n in many
        ]
    return given(*base, *more), 3


CORRECTIONS = {
    "meeting_recorded": {"place": "Hall"},
    "memorandum_drafted": {"title": "First"},
    "approval_recorded": {"reference": "R-1"},
    "invitation_extended": {"event": "Fair"},
}


def test_a_stored_correction_of_any_dropped_kind_folds() -> None:
    from domain import events as e
    from domain.decider import fold
    from domain.errors import IllegalEvent

    for kind, fields in CORRECTIONS.items():
        state, first = dropped_target(kind)
        event = e.Corrected(
            at=at(100), target_version=first, target_type=kind, reason="r", correction=fields
        )
        new = fold([event], state)
        assert new is not None and new.correction_count == 1, kind
        # not an earlier event: the correction's own version
        itself = event.model_copy(update={"target_version": state.version + 1})
        try:
            fold([itself], state)
        except IllegalEvent:
            pass
        else:
            raise AssertionError(f"{kind}: a correction of itself was folded")


def test_a_run_from_before_keeps_every_correction() -> None:
    from domain.decider import fold

    state = given(*ACTIVE).keeping_all()
    for n in range(RECENT + 2):
        state = fold([correct_event(n)], state)  # type: ignore[assignment]
    assert len(state.corrections) == RECENT + 2 and state.correction_count == RECENT + 2


def correct_event(n: int):
    from domain import events as e

    return e.Corrected(
        at=at(100),
        target_version=MEETING,
        target_type="meeting_recorded",
        reason=f"r{n}",
        correction={"place": f"Hall {n}"},
    )


def test_the_talks_opened_date_is_kept() -> None:
    from .scenario import JING, proposed

    state = given(proposed())
    opened = after(state, when(state, command("open_talks", by=JING, date="2017-10-20")))
    assert opened.talks_opened_on == date(2017, 10, 20)


def test_a_draft_without_a_date_is_corrected_under_the_clock() -> None:
    state = clocked_active()
    draft = state.drafts[0].version
    assert corrected(state, draft, title="Memorandum").drafts[0].title == "Memorandum"
