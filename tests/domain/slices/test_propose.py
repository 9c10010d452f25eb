"""propose: the start input becomes a partnership's first event; it is no command."""

from __future__ import annotations

from datetime import timedelta

from domain.decider import decide, evolve
from domain.parsing import parse_proposal
from domain.slices.propose import Proposal, Proposed, decide_proposal
from domain.values import Stage

from ..scenario import (
    COUNCIL,
    CUPERTINO,
    HISTORIES,
    JING,
    MIANYANG,
    PID,
    T0,
    given,
    proposed,
    then_rejected,
)


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


def test_a_proposal_carries_every_field_into_its_event_and_state() -> None:
    proposal = parse_proposal(
        {
            "initiator": {"name": "A", "country": "CN"},
            "partner": {"name": "B", "country": "US"},
            "tier": "sister_city",
            "proposed_by": JING,
            "fields": ["trade"],
            "rationale": "ports on one river",
            "required_approvals": [COUNCIL],
            "policy": {"term": "P3Y", "dormant_after": "P90D"},
        }
    )
    (event,) = decide_proposal(PID, proposal, T0)
    assert isinstance(event, Proposed)
    assert event.rationale == "ports on one river"
    assert [a.authority for a in event.required_approvals] == ["Cupertino City Council"]
    assert event.policy.term is not None and event.policy.term > timedelta(days=3 * 364)
    assert event.policy.dormant_after == timedelta(days=90)
    state = evolve(None, event, 1)
    assert state.rationale == "ports on one river"
    assert state.policy == event.policy
    assert [a.authority for a in state.required_approvals] == ["Cupertino City Council"]
