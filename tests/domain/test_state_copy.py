"""`evolve` copies the state with `updated` instead of pydantic's `model_copy`: the copy must
be the very object `model_copy(update=...)` makes (fields, the fields set, private
attributes), and a new partnership's state must be what it was when the older shape's fold
filled in its counts."""

from __future__ import annotations

from typing import Any

from pydantic_core import PydanticUndefined

from domain.slices.propose import Proposed, proposed
from domain.state import PartnershipState, updated
from domain.values import Stage

from .scenario import ACTIVE, at, exchange, given


def _same(left: PartnershipState, right: PartnershipState) -> None:
    assert type(left) is type(right)
    assert left.__dict__ == right.__dict__
    assert list(left.__dict__) == list(right.__dict__)
    assert left.model_fields_set == right.model_fields_set
    assert left.__pydantic_private__ == right.__pydantic_private__
    assert left.__pydantic_extra__ == right.__pydantic_extra__
    assert left.model_dump_json() == right.model_dump_json()


def test_updated_is_model_copy_with_an_update() -> None:
    state = given(*ACTIVE, exchange(at(10), "culture"))
    unset = [name for name in PartnershipState.model_fields if name not in state.model_fields_set]
    assert "closing_reason" in unset
    changes: dict[str, Any] = {
        "version": state.version + 1,
        "stage": Stage.DORMANT,
        "closing_reason": "a field the state had not set",
    }
    copied = updated(state, changes)
    _same(copied, state.model_copy(update=changes))
    assert copied.stage == Stage.DORMANT and state.stage == Stage.ACTIVE  # a copy
    assert copied.__dict__ is not state.__dict__
    assert copied.model_fields_set is not state.model_fields_set


def test_updated_keeps_the_private_keep_all() -> None:
    kept = given(*ACTIVE).keeping_all()
    copied = updated(kept, {"version": 99})
    _same(copied, kept.model_copy(update={"version": 99}))
    assert copied.keeps_all
    assert copied.__pydantic_private__ is not kept.__pydantic_private__


def test_a_proposal_starts_the_state_the_old_shape_fold_made() -> None:
    event = ACTIVE[0]
    assert isinstance(event, Proposed)
    # What `proposed` built before it named the counts: the older shape, folded on load.
    before = PartnershipState(
        partnership_id=event.partnership_id,
        stage=Stage.PROPOSED,
        tier=event.tier,
        initiator=event.initiator,
        partner=event.partner,
        proposed_by=event.proposed_by,
        fields=event.fields,
        rationale=event.rationale,
        required_approvals=event.required_approvals,
        policy=event.policy,
        proposed_at=event.at,
        proposed_on=event.date,
        effective_clock=event.effective_clock,
        proposed_version=1,
        stage_since=event.at,
        version=1,
    )
    _same(proposed(event, 1), before)
    _same(given(event), before)


def test_every_private_attribute_has_a_default() -> None:
    """`updated` copies the private attributes whole: pydantic's copy would leave out one
    never set, and only an attribute without a default can be unset."""
    private = PartnershipState.__private_attributes__
    assert private
    assert all(attr.default is not PydanticUndefined for attr in private.values())
