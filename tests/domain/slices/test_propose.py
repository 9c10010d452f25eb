"""propose: the start input becomes a partnership's first event; it is no command."""

from __future__ import annotations

from domain.decider import decide
from domain.parsing import parse_proposal
from domain.slices.propose import Proposal, decide_proposal
from domain.values import Stage

from ..scenario import CUPERTINO, HISTORIES, JING, MIANYANG, T0, given, proposed, then_rejected


def test_decide_proposal_starts_a_life():
    proposal = parse_proposal(
        {
            "initiator": MIANYANG,
            "partner": CUPERTINO,
            "tier": "friendly_relations",
            "proposed_by": JING,
            "fields": ["economy", "trade", "economy"],
        }
    )
    events = decide_proposal("p-1", proposal, T0)
    assert len(events) == 1
    state = given(*events)
    assert (state.stage, state.version, state.proposed_version) == (Stage.PROPOSED, 1, 1)
    assert [f.value for f in state.fields] == ["economy", "trade"]  # duplicates dropped
    assert state.required_approvals == [] and state.policy.term is None


def test_a_proposal_is_not_a_command():
    proposal = Proposal.model_validate(
        {
            "initiator": {"name": "A", "country": "CN"},
            "partner": {"name": "B", "country": "US"},
            "tier": "sister_city",
            "proposed_by": JING,
            "fields": ["trade"],
        }
    )
    then_rejected(decide(given(proposed()), proposal, T0), "already exists", "proposed")
    reason = then_rejected(decide(given(*HISTORIES[Stage.WITHDRAWN]), proposal, T0))
    assert reason == "a proposal needs the partnership id; use decide_proposal"
