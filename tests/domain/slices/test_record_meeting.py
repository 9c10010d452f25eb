"""record_meeting: given talks (or an active or dormant partnership), a meeting is recorded."""

from __future__ import annotations

from datetime import date

import pytest

from domain.slices.record_meeting import MeetingRecorded

from ..scenario import (
    ACTIVE,
    DORMANT,
    IN_TALKS,
    NOW,
    ZHANG,
    after,
    command,
    given,
    then_events,
    when,
)


@pytest.mark.parametrize(
    "history", [IN_TALKS, ACTIVE, DORMANT], ids=["in_talks", "active", "dormant"]
)
def test_record_meeting(history):
    state = given(*history)
    payload = {
        "date": "2018-04-20",
        "place": "Mianyang",
        "delegation": [ZHANG],
        "counterparts": [{"name": "Liu"}],
        "topics": ["expo"],
        "outcome": "agreed",
    }
    result = when(state, command("record_meeting", **payload), NOW)
    then_events(
        result,
        [
            MeetingRecorded(
                at=NOW,
                date=date(2018, 4, 20),
                place="Mianyang",
                delegation=[ZHANG],
                counterparts=[{"name": "Liu"}],
                topics=["expo"],
                outcome="agreed",
            )
        ],
    )
    new = after(state, result)
    assert new.stage == state.stage  # a meeting does not wake a dormant partnership
    assert new.meetings[-1].version == new.version and new.meetings[-1].place == "Mianyang"
