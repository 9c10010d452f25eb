"""record_exchange: an exchange is recorded; a dormant partnership is reactivated first."""

from __future__ import annotations

from datetime import date

from domain.slices.record_exchange import ExchangeRecorded, Reactivated
from domain.values import Stage

from ..scenario import ACTIVE, DORMANT, NOW, after, at, command, given, then_events, when


def test_record_exchange_when_active():
    state = given(*ACTIVE)
    payload = {
        "date": "2018-04-20",
        "field": "science_technology",
        "kind": "event",
        "title": "Smart City Summit",
        "participants": [{"name": "Mianyang delegation", "side": "initiator"}],
        "outcome": "contacts",
    }
    result = when(state, command("record_exchange", **payload), NOW)
    then_events(
        result,
        [
            ExchangeRecorded(
                at=NOW,
                date=date(2018, 4, 20),
                field="science_technology",
                kind="event",
                title="Smart City Summit",
                participants=[{"name": "Mianyang delegation", "side": "initiator"}],
                outcome="contacts",
            )
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE and new.last_exchange_at == NOW


def test_record_exchange_when_dormant_reactivates_first():
    state = given(*DORMANT)
    later = at(500)
    result = when(
        state,
        command(
            "record_exchange", date="2019-03-01", field="sport", kind="visit", title="Youth games"
        ),
        later,
    )
    then_events(
        result,
        [
            Reactivated(at=later),
            ExchangeRecorded(
                at=later, date=date(2019, 3, 1), field="sport", kind="visit", title="Youth games"
            ),
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE and new.stage_since == later
    assert new.exchanges[0].version == new.version  # the exchange is the second event
