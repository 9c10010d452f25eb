"""open_talks: given a proposal, talks open and the stage becomes in_talks."""

from __future__ import annotations

from domain.slices.open_talks import TalksOpened
from domain.values import Stage

from ..scenario import JING, NOW, after, command, given, proposed, then_events, when


def test_open_talks():
    state = given(proposed())
    result = when(state, command("open_talks", by=JING, note="visit"), NOW)
    then_events(result, [TalksOpened(at=NOW, by=JING, note="visit")])
    new = after(state, result)
    assert new.stage == Stage.IN_TALKS and new.stage_since == NOW
