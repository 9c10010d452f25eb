"""The instants the timers run from (dormancy, the talks deadline): from effective dates
under the business clock, from when things were recorded before it; and the public
`status`, which carries every field of the state it shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.state import PartnershipState, to_status, updated

from .scenario import ACTIVE, T0, at, given, proposed

SIGNED_ON = date(2017, 11, 15)  # the signing's date in scenario.signed
DEADLINE = timedelta(days=365)


def active(effective: bool, **changes: object) -> PartnershipState:
    return updated(given(*ACTIVE), {"effective_clock": effective, **changes})


def test_recorded_clock_idles_from_the_last_exchange_or_the_signing_recorded() -> None:
    state = active(False)
    assert state.idle_since() == at(5)  # when the signing was recorded
    later = updated(state, {"last_exchange_at": at(40), "last_exchange_on": date(2017, 1, 1)})
    assert later.idle_since() == at(40)


def test_effective_clock_idles_from_the_start_of_the_signing_day() -> None:
    state = active(True)  # signed on 15 November, recorded on 6 November
    assert state.idle_since() == datetime(2017, 11, 15, tzinfo=UTC)


def test_effective_clock_idles_from_the_exchange_as_recorded_that_day() -> None:
    recorded = datetime(2018, 3, 1, 14, 30, tzinfo=UTC)
    state = active(True, last_exchange_at=recorded, last_exchange_on=date(2018, 3, 1))
    assert state.idle_since() == recorded  # sent as it happened: from that instant


def test_effective_clock_idles_from_the_latest_date_of_exchange_and_signing() -> None:
    # an exchange dated after the signing, recorded later still
    state = active(True, last_exchange_at=at(200), last_exchange_on=date(2018, 1, 10))
    assert state.idle_since() == datetime(2018, 1, 10, tzinfo=UTC)
    # an exchange dated before the signing (recorded afterwards): the signing counts
    early = active(True, last_exchange_at=at(200), last_exchange_on=date(2017, 11, 2))
    assert early.idle_since() == datetime(2017, 11, 15, tzinfo=UTC)


def test_a_signing_without_its_recording_time_idles_from_its_day() -> None:
    state = active(True, signed_at=None)
    assert state.idle_since() == datetime(2017, 11, 15, tzinfo=UTC)


def test_nothing_signed_nothing_exchanged_no_idle_clock() -> None:
    state = updated(given(proposed()), {"effective_clock": True})
    assert state.idle_since() is None
    assert updated(state, {"effective_clock": False}).idle_since() is None


def with_proposal(effective: bool, proposed_on: date | None) -> PartnershipState:
    state = given(proposed())  # recorded at T0, 1 November 2017 09:00
    return updated(state, {"effective_clock": effective, "proposed_on": proposed_on})


def test_talks_deadline_runs_from_the_proposal_date() -> None:
    state = with_proposal(True, date(2017, 10, 1))
    assert state.talks_deadline_at() == datetime(2017, 10, 1, tzinfo=UTC) + DEADLINE
    # dated the day it was recorded: from the instant it was recorded
    assert with_proposal(True, T0.date()).talks_deadline_at() == T0 + DEADLINE


def test_talks_deadline_runs_from_the_recording_without_a_date_or_the_clock() -> None:
    assert with_proposal(True, None).talks_deadline_at() == T0 + DEADLINE
    assert with_proposal(False, date(2017, 10, 1)).talks_deadline_at() == T0 + DEADLINE


def test_no_talks_deadline_without_one_in_the_policy() -> None:
    state = given(proposed(policy={"dormant_after": "P365D"}))
    assert state.talks_deadline_at() is None


def test_status_carries_every_field_of_the_state() -> None:
    state = updated(
        given(*ACTIVE),
        {
            "proposed_on": date(2017, 10, 1),
            "talks_opened_on": date(2017, 10, 20),
            "meeting_count": 31,
            "last_meeting_on": date(2018, 2, 2),
            "draft_count": 32,
            "approval_count": 33,
            "invitation_count": 34,
            "correction_count": 35,
            "exchange_count": 36,
            "exchanges_by_field": {"culture": 36},
            "last_exchange_on": date(2018, 3, 3),
            "closing_reason": "none yet",
        },
    )
    status = to_status(state)
    shown = status.model_dump()
    for name in (
        "partnership_id",
        "stage",
        "stage_since",
        "tier",
        "initiator",
        "partner",
        "proposed_by",
        "proposed_on",
        "talks_opened_on",
        "fields",
        "rationale",
        "required_approvals",
        "policy",
        "meetings",
        "meeting_count",
        "last_meeting_on",
        "drafts",
        "draft_count",
        "approvals",
        "approval_count",
        "signing",
        "exchange_count",
        "last_exchange_on",
        "invitations",
        "invitation_count",
        "corrections",
        "correction_count",
        "rejected",
        "closing_reason",
        "version",
    ):
        assert shown[name] == state.model_dump()[name], name
    assert status.exchanges == {"culture": 36}
    assert status.signed_on == SIGNED_ON
    assert status.expires_on == state.expires_at and status.talks_deadline == T0 + DEADLINE
    assert status.missing_approvals == [] and status.open_invitations == state.open_invitations()
    assert status.recent_exchanges == state.exchanges and status.outcome is None
