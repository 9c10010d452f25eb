"""Under the business clock (domain/clock.py) a dated command is refused while its date is
yet to come (a day of slack for time zones ahead of UTC), and the term of a signing or a
renewal runs from its date; before it (histories started without the clock) dates are
recorded as given and terms run from when they are recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.events import AnyEvent
from domain.state import PartnershipState

from .scenario import ACTIVE, IN_TALKS, JING, NOW, ZHANG, after, at, command, given, proposed, when

#: NOW is 2017-11-11 09:00 UTC: the 12th may already have begun east of UTC, the 13th not.
TOO_LATE = "2017-11-13"
SLACK_DAY = "2017-11-12"


def clocked(history: list[AnyEvent]) -> list[AnyEvent]:
    """The same history, proposed under the business clock."""
    first = proposed().model_copy(update={"effective_clock": True})
    return [first, *history[1:]]


DATED: list[tuple[str, list[AnyEvent], dict[str, Any], str]] = [
    ("open_talks", [proposed()], {"by": JING}, "the date talks opened"),
    (
        "record_meeting",
        IN_TALKS,
        {"place": "Mianyang", "delegation": [ZHANG]},
        "the meeting date",
    ),
    (
        "draft_memorandum",
        IN_TALKS,
        {"title": "T", "languages": ["en"], "text": "Text."},
        "the draft's date",
    ),
    (
        "record_approval",
        IN_TALKS,
        {"side": "initiator", "authority": "Sichuan FAO", "decision": "granted"},
        "the approval date",
    ),
    (
        "sign_memorandum",
        IN_TALKS,
        {"place": "Cupertino", "signatories": [JING, ZHANG]},
        "the signing date",
    ),
    (
        "record_exchange",
        ACTIVE,
        {"field": "culture", "kind": "visit", "title": "Visit"},
        "the exchange date",
    ),
]
IDS = [name for name, *_ in DATED]


@pytest.mark.parametrize(("name", "history", "payload", "what"), DATED, ids=IDS)
def test_a_date_yet_to_come_is_refused_under_the_clock(
    name: str, history: list[AnyEvent], payload: dict[str, Any], what: str
) -> None:
    state = given(*clocked(history))
    result = when(state, command(name, **payload, date=TOO_LATE), NOW)
    assert not isinstance(result, list)
    assert result.reason == f"{what} {TOO_LATE} is in the future; record it once it has happened"


@pytest.mark.parametrize(("name", "history", "payload", "what"), DATED, ids=IDS)
def test_tomorrow_in_utc_is_accepted_under_the_clock(
    name: str, history: list[AnyEvent], payload: dict[str, Any], what: str
) -> None:
    state = given(*clocked(history))
    result = when(state, command(name, **payload, date=SLACK_DAY), NOW)
    assert isinstance(result, list), result
    assert result[0].date == date(2017, 11, 12)  # type: ignore[union-attr]


@pytest.mark.parametrize(("name", "history", "payload", "what"), DATED, ids=IDS)
def test_without_the_clock_any_date_is_recorded(
    name: str, history: list[AnyEvent], payload: dict[str, Any], what: str
) -> None:
    state = given(*history)
    result = when(state, command(name, **payload, date=TOO_LATE), NOW)
    assert isinstance(result, list), result
    assert result[0].date == date(2017, 11, 13)  # type: ignore[union-attr]


def sign(state: PartnershipState, day: str) -> PartnershipState:
    ask = command("sign_memorandum", place="Cupertino", signatories=[JING, ZHANG], date=day)
    return after(state, when(state, ask, NOW))


def test_the_term_runs_from_the_signing_date_under_the_clock() -> None:
    state = given(*clocked(IN_TALKS))
    term = state.policy.term
    assert term is not None
    signed = sign(state, "2017-11-01")  # signed ten days ago, recorded now
    began = datetime(2017, 11, 1, tzinfo=UTC)
    assert signed.term_started_at == began and signed.expires_at == began + term
    today = sign(state, "2017-11-11")  # signed as it is recorded: from this instant
    assert today.term_started_at == NOW and today.expires_at == NOW + term
    # without the clock: from when it is recorded, whatever its date
    old = sign(given(*IN_TALKS), "2017-11-01")
    assert old.term_started_at == NOW and old.expires_at == NOW + term
    assert old.signing is not None and old.signing.date == date(2017, 11, 1)


def renew(state: PartnershipState, **payload: Any) -> PartnershipState:
    return after(state, when(state, command("renew", **payload), at(100)))


def test_a_renewal_runs_from_its_date_under_the_clock() -> None:
    state = given(*clocked(ACTIVE))
    term = state.policy.term
    assert term is not None
    renewed = renew(state, date="2018-01-01")
    began = datetime(2018, 1, 1, tzinfo=UTC)
    assert renewed.term_started_at == began and renewed.expires_at == began + term
    # undated, or dated the day it is recorded: from when it is recorded
    assert renew(state).expires_at == at(100) + term
    assert renew(state).term_started_at == at(100)
    same_day = renew(state, date=str(at(100).date()))
    assert same_day.term_started_at == at(100) and same_day.expires_at == at(100) + term
    # without the clock: from when it is recorded
    old = renew(given(*ACTIVE), date="2018-01-01")
    assert old.term_started_at == at(100) and old.expires_at == at(100) + term


def proposal(day: str | None) -> Any:
    from domain.parsing import parse_proposal

    from .scenario import CUPERTINO, MIANYANG

    payload = {
        "initiator": MIANYANG,
        "partner": CUPERTINO,
        "tier": "friendly_relations",
        "proposed_by": JING,
        "fields": ["trade"],
        "policy": {"talks_deadline": "P30D"},
    }
    return parse_proposal(payload if day is None else {**payload, "date": day})


def test_a_proposal_dated_ahead_is_refused() -> None:
    from domain.slices.propose import refuse_proposal

    assert refuse_proposal(proposal(TOO_LATE), NOW) == (
        f"the proposal date {TOO_LATE} is in the future; record it once it has happened"
    )
    assert refuse_proposal(proposal(SLACK_DAY), NOW) is None
    assert refuse_proposal(proposal(None), NOW) is None


def test_a_proposal_under_the_clock_runs_its_talks_deadline_from_its_date() -> None:
    from datetime import timedelta

    from domain.slices.propose import decide_proposal

    (event,) = decide_proposal("p-1", proposal("2017-10-01"), NOW, effective_clock=True)
    assert event.effective_clock and event.date == date(2017, 10, 1)
    state = given(event)
    assert state.effective_clock and state.proposed_on == date(2017, 10, 1)
    assert state.talks_deadline_at() == datetime(2017, 10, 1, tzinfo=UTC) + timedelta(days=30)
    (old,) = decide_proposal("p-1", proposal("2017-10-01"), NOW)
    assert not old.effective_clock and not given(old).effective_clock
    assert given(old).talks_deadline_at() == NOW + timedelta(days=30)
