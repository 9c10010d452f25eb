"""withdraw: before signing, the proposal is withdrawn and the partnership ends."""

from __future__ import annotations

import pytest

from domain.slices.withdraw import Withdrawn
from domain.values import Stage

from ..scenario import JING, NOW, after, command, given, proposed, talks_opened, then_events, when


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_withdraw(history):
    state = given(*history)
    result = when(state, command("withdraw", by=JING, reason="no budget"), NOW)
    then_events(result, [Withdrawn(at=NOW, by=JING, reason="no budget")])
    new = after(state, result)
    assert new.stage == Stage.WITHDRAWN and new.closing_reason == "no budget"
