"""A state in the older shape (every record listed, no counts: what runs from before carry,
as the saved histories v1-v6 do) folds into exactly the bounded shape; a run from before
keeps every record, and `bounded()` trims such a state to what a bounded one keeps."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from domain.state import (
    COUNTS,
    RECENT,
    SMALL_RECORD,
    ApprovalRecord,
    CorrectionRecord,
    DraftRecord,
    ExchangeRecord,
    InvitationRecord,
    MeetingRecord,
    PartnershipState,
    fold_old_lists,
    push_recent,
    trim_to_budget,
    updated,
)

from .scenario import ACTIVE, JING, given

EXTRA = 5  # records beyond each window


def meetings() -> list[MeetingRecord]:
    # the latest date is the first meeting's (recorded late), outside the window
    days = [date(2019, 6, 1), *(date(2018, 1, 1 + n) for n in range(RECENT + EXTRA - 1))]
    return [
        MeetingRecord(version=100 + n, date=day, place=f"Hall {n}", delegation=[JING])  # type: ignore[list-item]
        for n, day in enumerate(days)
    ]


def drafts() -> list[DraftRecord]:
    return [
        DraftRecord(
            version=200 + n,
            draft_version=n + 1,
            title=f"Draft {n + 1}",
            languages=["en"],
            text_sha256="0" * 64,
            fields=["culture"],  # type: ignore[list-item]
        )
        for n in range(RECENT + EXTRA)
    ]


def approval(version: int, side: str, authority: str, decision: str) -> ApprovalRecord:
    return ApprovalRecord(
        version=version,
        side=side,  # type: ignore[arg-type]
        authority=authority,
        decision=decision,  # type: ignore[arg-type]
        required=False,
    )


def approvals() -> list[ApprovalRecord]:
    return [
        approval(300, "partner", "City Council", "denied"),
        approval(301, "initiator", "City Council", "granted"),  # the other side's council
        approval(302, "partner", "CITY COUNCIL", "granted"),  # the partner's council again
        approval(303, "partner", "Board", "granted"),
    ]


FIELDS = ("culture", "trade", "education")


def exchanges() -> list[ExchangeRecord]:
    # the latest date is the third exchange's, outside the window
    days = [date(2020, 1, 1 + n) for n in range(RECENT + EXTRA)]
    days[2] = date(2021, 3, 3)
    return [
        ExchangeRecord(
            version=400 + n,
            date=day,
            field=FIELDS[n % 3],  # type: ignore[arg-type]
            kind="visit",  # type: ignore[arg-type]
            title=f"visit {n}",
        )
        for n, day in enumerate(days)
    ]


def invitations() -> list[InvitationRecord]:
    """Three open invitations among RECENT + EXTRA answered ones, in the order extended."""
    records = []
    for n in range(RECENT + EXTRA + 3):
        answer = None if n in (0, 7, RECENT + EXTRA + 2) else n % 2 == 0
        records.append(
            InvitationRecord(
                version=500 + n,
                invitation_id=f"inv-{n}",
                event="Fair",
                from_side="initiator",  # type: ignore[arg-type]
                to_side="partner",  # type: ignore[arg-type]
                accepted=answer,
            )
        )
    return records


def corrections() -> list[CorrectionRecord]:
    return [
        CorrectionRecord(
            version=600 + n,
            target_version=n,
            target_type="meeting_recorded",
            reason="r",
            correction={},
        )
        for n in range(RECENT + EXTRA)
    ]


def records() -> dict[str, list[Any]]:
    return {
        "meetings": meetings(),
        "drafts": drafts(),
        "approvals": approvals(),
        "exchanges": exchanges(),
        "invitations": invitations(),
        "corrections": corrections(),
    }


def old_shape(as_json: bool = True) -> dict[str, Any]:
    """An active partnership's state as a run from before carried it: no counts, every record."""
    data: dict[str, Any] = json.loads(given(*ACTIVE).model_dump_json(exclude=set(COUNTS)))
    for name, listed in records().items():
        data[name] = [json.loads(r.model_dump_json()) for r in listed] if as_json else listed
    return data


def versions(items: list[Any]) -> list[int]:
    return [i["version"] if isinstance(i, dict) else i.version for i in items]


#: inv-0, inv-7 and the last are open; of the 25 answered, inv-1..inv-5 are the oldest.
EXPECTED_INVITATIONS = [500, *range(506, 500 + RECENT + EXTRA + 3)]


def test_an_old_state_is_counted_and_windowed() -> None:
    folded = fold_old_lists(old_shape())
    assert folded["meeting_count"] == RECENT + EXTRA
    assert folded["draft_count"] == RECENT + EXTRA
    assert folded["approval_count"] == 4
    assert folded["exchange_count"] == RECENT + EXTRA
    assert folded["invitation_count"] == RECENT + EXTRA + 3
    assert folded["correction_count"] == RECENT + EXTRA
    # the latest dates over every record, not the last listed nor only the window's
    assert folded["last_meeting_on"] == date(2019, 6, 1)
    assert folded["last_exchange_on"] == date(2021, 3, 3)
    assert folded["exchanges_by_field"] == {"culture": 9, "trade": 8, "education": 8}
    # windows: the latest RECENT of each kind
    for name, first in (
        ("meetings", 100),
        ("drafts", 200),
        ("exchanges", 400),
        ("corrections", 600),
    ):
        assert versions(folded[name]) == list(range(first + EXTRA, first + EXTRA + RECENT)), name
    # the latest decision of each (side, authority), authorities matched whatever their case
    assert versions(folded["approvals"]) == [301, 302, 303]
    # every open invitation and the latest RECENT answered ones, in the order extended
    assert versions(folded["invitations"]) == EXPECTED_INVITATIONS


def test_an_old_state_loads_as_the_bounded_one() -> None:
    state = PartnershipState.model_validate(old_shape())
    assert not state.keeps_all
    assert (state.meeting_count, len(state.meetings)) == (RECENT + EXTRA, RECENT)
    assert state.last_meeting_on == date(2019, 6, 1)
    assert state.last_exchange_on == date(2021, 3, 3)
    assert [a.authority for a in state.approvals] == ["City Council", "CITY COUNCIL", "Board"]
    assert [i.version for i in state.open_invitations()] == [500, 507, 500 + RECENT + EXTRA + 2]
    assert [c.version for c in state.corrections] == list(range(605, 605 + RECENT))


def test_records_given_as_objects_fold_as_their_json_does() -> None:
    from_json = PartnershipState.model_validate(old_shape())
    from_objects = PartnershipState.model_validate(old_shape(as_json=False))
    assert from_objects == from_json
    assert from_objects.approval_count == 4 and len(from_objects.invitations) == RECENT + 3


def test_keeping_all_counts_but_keeps_every_record() -> None:
    folded = fold_old_lists(old_shape(), keep_all=True)
    assert folded["exchange_count"] == RECENT + EXTRA
    assert folded["last_meeting_on"] == date(2019, 6, 1)
    for name, listed in records().items():
        assert versions(folded[name]) == versions(listed), name


def test_a_record_without_a_date_is_counted_without_one() -> None:
    data = old_shape()
    del data["meetings"][1]["date"]  # outside the window: never validated as a record
    folded = fold_old_lists(data)
    assert folded["meeting_count"] == RECENT + EXTRA
    assert folded["last_meeting_on"] == date(2019, 6, 1)
    assert PartnershipState.model_validate(data).last_meeting_on == date(2019, 6, 1)


def test_a_state_already_bounded_is_left_as_it_is() -> None:
    state = given(*ACTIVE)
    data = json.loads(state.model_dump_json())
    data["meeting_count"] = 7  # counts present: no recount from the lists
    assert PartnershipState.model_validate(data).meeting_count == 7


def run_from_before() -> PartnershipState:
    """A state of a run from before: every record kept, as `keeping_all` folds them."""
    state = PartnershipState.model_validate(old_shape(), context={"keep_all": True})
    return state.keeping_all()


def test_bounded_keeps_what_a_bounded_state_keeps() -> None:
    full = run_from_before()
    assert len(full.meetings) == RECENT + EXTRA and len(full.invitations) == RECENT + EXTRA + 3
    bounded = full.bounded()
    for name, first in (
        ("meetings", 100),
        ("drafts", 200),
        ("exchanges", 400),
        ("corrections", 600),
    ):
        kept = [r.version for r in getattr(bounded, name)]
        assert kept == list(range(first + EXTRA, first + EXTRA + RECENT)), name
    assert [a.version for a in bounded.approvals] == [301, 302, 303]
    assert [i.version for i in bounded.invitations] == EXPECTED_INVITATIONS
    # the counts stay; and it is what loading the old state bounded gives
    assert bounded.exchange_count == RECENT + EXTRA
    reloaded = PartnershipState.model_validate(old_shape())
    assert bounded.model_dump() == reloaded.model_dump()


def test_a_run_from_before_keeps_every_answered_invitation() -> None:
    from domain.state import with_invitation

    full = run_from_before()
    answer = full.invitations[0].model_copy(update={"accepted": True, "version": 999})
    kept = with_invitation(full.invitations, answer, keep_all=True)
    assert len(kept) == len(full.invitations)
    assert len([i for i in kept if i.accepted is not None]) == RECENT + EXTRA + 1
    assert len(with_invitation(full.invitations, answer, keep_all=False)) == RECENT + 2


def test_the_latest_decision_of_an_authority_replaces_the_earlier() -> None:
    from domain.state import with_approval

    kept: list[ApprovalRecord] = []
    for record in approvals():
        kept = with_approval([], kept, record, keep_all=False)
    assert [a.version for a in kept] == [301, 302, 303]


def test_size_is_the_json_a_run_hands_the_next() -> None:
    state = PartnershipState.model_validate(old_shape())
    assert state.size() == len(state.model_dump_json())
    full = run_from_before()
    # a run from before measured its state without the counts it did not have then
    assert full.size() == len(full.model_dump_json(exclude=set(COUNTS)))
    assert full.size() < len(full.model_dump_json())


def correction(version: int, reason: str) -> CorrectionRecord:
    return CorrectionRecord(
        version=version,
        target_version=1,
        target_type="meeting_recorded",
        reason=reason,
        correction={},
    )


def sized(version: int, size: int) -> CorrectionRecord:
    """A record of exactly `size` bytes of JSON."""
    empty = len(correction(version, "").model_dump_json())
    record = correction(version, "x" * (size - empty))
    assert len(record.model_dump_json()) == size
    return record


def test_trim_keeps_the_newest_within_the_budget_in_order() -> None:
    window = [sized(n, 100) for n in range(1, 6)]
    assert [r.version for r in trim_to_budget(window, budget=300)] == [3, 4, 5]
    assert [r.version for r in trim_to_budget(window, budget=299)] == [4, 5]
    assert [r.version for r in trim_to_budget(window, budget=500)] == [1, 2, 3, 4, 5]
    # the newest is kept even alone over the budget
    assert [r.version for r in trim_to_budget(window, budget=10)] == [5]


def test_push_recent_keeps_the_latest_recent() -> None:
    records = [sized(n, 100) for n in range(RECENT)]
    pushed = push_recent(records, sized(RECENT, 100))
    assert [r.version for r in pushed] == list(range(1, RECENT + 1))
    assert len(push_recent(records, sized(RECENT, 100), keep_all=True)) == RECENT + 1


def test_a_small_record_joins_without_measuring_the_window() -> None:
    big = [sized(n, 4_000) for n in range(RECENT - 1)]  # 76 kB, over the window's budget
    pushed = push_recent(big, sized(RECENT, SMALL_RECORD))
    assert len(pushed) == RECENT
    # one byte more and the window is measured (and trimmed to its budget)
    assert len(push_recent(big, sized(RECENT, SMALL_RECORD + 1))) < RECENT


def test_updated_is_the_state_with_the_changes() -> None:
    state = given(*ACTIVE)
    changed = updated(state, {"meeting_count": 9})
    assert changed.meeting_count == 9 and state.meeting_count == 1


def test_a_run_from_before_folds_every_new_record_into_its_lists() -> None:
    from domain import events as e
    from domain.decider import fold

    from .scenario import IN_TALKS, drafted, invited

    many = RECENT + EXTRA
    talks = [
        *(
            e.MeetingRecorded(
                at=IN_TALKS[0].at, date=date(2017, 11, 1 + n), place="Hall", delegation=[JING]
            )
            for n in range(many)
        ),
        *(drafted(n) for n in range(2, many + 2)),
        *(
            e.ApprovalRecorded(
                at=IN_TALKS[0].at,
                side="initiator",
                authority="Board",
                decision="granted",
                required=False,
            )
            for _ in range(many)
        ),
        *(invited(n) for n in range(2, many + 2)),
        *(
            e.InvitationAnswered(at=IN_TALKS[0].at, invitation_id=f"inv-{n}", accepted=True)
            for n in range(2, many + 2)
        ),
    ]
    full = fold(talks, given(*IN_TALKS).keeping_all())
    assert full is not None and full.keeps_all
    assert len(full.meetings) == many + 1 and full.meeting_count == many + 1
    assert len(full.drafts) == many + 1 and full.draft_count == many + 1
    # every decision, as states listed them before (the latest of each is read)
    assert len(full.approvals) == many + 1 and full.approval_count == many + 1
    assert len(full.invitations) == many + 1 and full.invitation_count == many + 1
    bounded = fold(talks, given(*IN_TALKS))
    assert bounded is not None
    assert len(bounded.meetings) == RECENT and len(bounded.drafts) == RECENT
    assert len(bounded.approvals) == 2 and len(bounded.invitations) == RECENT + 1


def test_the_latest_dates_are_the_latest_whatever_the_order_recorded() -> None:
    from domain import events as e

    from .scenario import at, exchange

    late, early = date(2018, 5, 1), date(2018, 1, 1)
    meetings = [
        e.MeetingRecorded(at=at(6), date=day, place="Hall", delegation=[JING])
        for day in (late, early)
    ]
    state = given(*ACTIVE[:2], *meetings)
    assert state.last_meeting_on == late and state.meeting_count == 2
    exchanges = [
        exchange(at(40)).model_copy(update={"date": late}),
        exchange(at(50)).model_copy(update={"date": early}),
    ]
    active = given(*ACTIVE, *exchanges)
    assert active.last_exchange_on == late and active.last_exchange_at == at(50)
