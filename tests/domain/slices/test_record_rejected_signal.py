"""record_rejected_signal (engine): a signal that was not applied is kept, in every stage."""

from __future__ import annotations

import pytest

from domain.slices.record_rejected_signal import RecordRejectedSignal, SignalRejected
from domain.state import MAX_REJECTED_IN_STATE
from domain.values import Stage

from ..scenario import HISTORIES, NOW, after, at, given, proposed, then_events, when


@pytest.mark.parametrize("stage", list(Stage))
def test_record_rejected_signal_in_every_stage(stage):
    state = given(*HISTORIES[stage])
    result = when(
        state,
        RecordRejectedSignal(
            command="upgrade", reason="not allowed\nnow  really", sender_request_id="r-1"
        ),
        NOW,
    )
    then_events(
        result,
        [
            SignalRejected(
                at=NOW, command="upgrade", reason="not allowed now really", request_id="r-1"
            )
        ],
    )
    new = after(state, result)
    assert new.stage == stage
    assert new.rejected[-1].command == "upgrade" and new.rejected[-1].request_id == "r-1"


def test_rejected_signals_in_state_are_capped():
    signals = [
        SignalRejected(at=at(i), command=f"c{i}", reason="r")
        for i in range(MAX_REJECTED_IN_STATE + 5)
    ]
    state = given(proposed(), *signals)
    assert len(state.rejected) == MAX_REJECTED_IN_STATE
    assert state.rejected[-1].command == f"c{MAX_REJECTED_IN_STATE + 4}"
    assert state.version == 1 + MAX_REJECTED_IN_STATE + 5
