"""record_approval: an authority's decision; a required one denied rejects the proposal."""

from __future__ import annotations

from datetime import date

import pytest

from domain.slices.record_approval import ApprovalRecorded, ProposalRejected
from domain.values import Stage

from ..scenario import NOW, after, command, given, proposed, talks_opened, then_events, when


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
@pytest.mark.parametrize("decision", ["granted", "denied"])
def test_record_approval_not_required(history, decision):
    state = given(*history)
    result = when(
        state,
        command("record_approval", side="initiator", authority="Sichuan FAO", decision=decision),
        NOW,
    )
    then_events(
        result,
        [
            ApprovalRecorded(
                at=NOW, side="initiator", authority="Sichuan FAO", decision=decision, required=False
            )
        ],
    )
    new = after(state, result)
    assert new.stage == state.stage  # not required: even a denial does not end the proposal
    assert new.missing_approvals() == state.missing_approvals()


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_record_approval_required_granted(history):
    state = given(*history)
    assert len(state.missing_approvals()) == 1
    # the authority is matched case-insensitively
    result = when(
        state,
        command(
            "record_approval",
            side="partner",
            authority="cupertino city council",
            decision="granted",
            reference="R-1",
            date="2017-11-07",
        ),
        NOW,
    )
    then_events(
        result,
        [
            ApprovalRecorded(
                at=NOW,
                side="partner",
                authority="cupertino city council",
                decision="granted",
                required=True,
                reference="R-1",
                date=date(2017, 11, 7),
            )
        ],
    )
    new = after(state, result)
    assert new.missing_approvals() == [] and new.stage == state.stage


@pytest.mark.parametrize(
    "history", [[proposed()], [proposed(), talks_opened()]], ids=["proposed", "in_talks"]
)
def test_record_approval_required_denied_rejects_the_proposal(history):
    state = given(*history)
    result = when(
        state,
        command(
            "record_approval", side="partner", authority="Cupertino City Council", decision="denied"
        ),
        NOW,
    )
    then_events(
        result,
        [
            ApprovalRecorded(
                at=NOW,
                side="partner",
                authority="Cupertino City Council",
                decision="denied",
                required=True,
            ),
            ProposalRejected(
                at=NOW,
                side="partner",
                authority="Cupertino City Council",
                reason="required approval denied by Cupertino City Council (partner)",
            ),
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.REJECTED and new.stage.is_terminal
    assert new.closing_reason == "required approval denied by Cupertino City Council (partner)"


def test_same_authority_on_the_other_side_is_not_the_required_one():
    state = given(proposed())
    result = when(
        state,
        command(
            "record_approval",
            side="initiator",
            authority="Cupertino City Council",
            decision="denied",
        ),
        NOW,
    )
    assert [ev.type for ev in result] == ["approval_recorded"]
    assert result[0].required is False
