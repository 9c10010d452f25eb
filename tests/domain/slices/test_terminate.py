"""terminate: an active or dormant partnership ends."""

from __future__ import annotations

import pytest

from domain.slices.terminate import Terminated
from domain.values import Stage

from ..scenario import (
    ACTIVE,
    DORMANT,
    JING,
    NOW,
    after,
    command,
    given,
    then_events,
    when,
)


@pytest.mark.parametrize("history", [ACTIVE, DORMANT], ids=["active", "dormant"])
def test_terminate(history):
    state = given(*history)
    result = when(state, command("terminate", reason="no contact for years"), NOW)
    then_events(result, [Terminated(at=NOW, reason="no contact for years")])
    new = after(state, result)
    assert new.stage == Stage.TERMINATED and new.closing_reason == "no contact for years"


def test_termination_records_who_terminated() -> None:
    result = when(given(*ACTIVE), command("terminate", reason="budget", by=JING))
    assert isinstance(result, list)
    (event,) = result
    assert isinstance(event, Terminated)
    assert event.by is not None and event.by.name == JING["name"]
