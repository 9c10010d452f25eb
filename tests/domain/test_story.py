"""The Mianyang–Cupertino story of examples/*.json, told to the decider from start to end."""

from __future__ import annotations

from amity import story
from domain.decider import decide
from domain.parsing import parse_command, parse_proposal
from domain.slices.propose import decide_proposal
from domain.values import Stage

from .scenario import T0, after, at, given


def test_the_story_from_examples():
    """The Mianyang–Cupertino story (examples/*.json) runs through the decider."""
    state = given(*decide_proposal(story.PARTNERSHIP_ID, parse_proposal(story.proposal()), T0))
    for offset, (name, payload) in enumerate(story.steps(), start=1):
        state = after(state, decide(state, parse_command(name, payload), at(offset)))
    assert state.stage == Stage.ACTIVE
    assert [i.invitation_id for i in state.invitations] == ["inv-1", "inv-2"]
    assert state.invitation("inv-1").accepted is True
    assert len(state.exchanges) == 2 and state.signing.draft_version == 1
