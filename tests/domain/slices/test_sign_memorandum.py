"""sign_memorandum: given a draft and every required approval, both sides sign; the term begins."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.parsing import InvalidInput
from domain.slices.record_approval import ApprovalRecorded
from domain.slices.sign_memorandum import MemorandumSigned
from domain.values import Stage

from ..scenario import (
    COUNCIL,
    IN_TALKS,
    JING,
    NOW,
    ZHANG,
    after,
    approved,
    at,
    command,
    drafted,
    given,
    proposed,
    signed,
    talks_opened,
    then_events,
    then_rejected,
    when,
)

SIGN = {"date": "2017-11-15", "place": "Cupertino", "signatories": [JING, ZHANG]}


def test_sign_latest_draft_by_default_and_term_from_policy():
    state = given(*IN_TALKS, drafted(2))
    result = when(
        state,
        command("sign_memorandum", date="2017-11-15", place="Cupertino", signatories=[JING, ZHANG]),
        NOW,
    )
    then_events(
        result,
        [
            MemorandumSigned(
                at=NOW,
                date=date(2017, 11, 15),
                place="Cupertino",
                draft_version=2,
                signatories=[JING, ZHANG],
                expires_at=NOW + timedelta(days=730),  # P2Y = 730 days
            )
        ],
    )
    new = after(state, result)
    assert new.stage == Stage.ACTIVE
    assert new.signing.draft_version == 2 and new.signing.version == new.version
    assert new.signed_at == NOW and new.expires_at == NOW + timedelta(days=730)


def test_sign_an_earlier_draft_explicitly_without_term():
    state = given(
        proposed(policy={}, required_approvals=[]), talks_opened(), drafted(1), drafted(2)
    )
    result = when(
        state,
        command(
            "sign_memorandum",
            date="2017-11-15",
            place="Cupertino",
            draft_version=1,
            signatories=[ZHANG, JING],
        ),
        NOW,
    )
    assert result[0].draft_version == 1 and result[0].expires_at is None
    assert after(state, result).expires_at is None


def test_sign_refused_while_a_required_approval_is_missing():
    state = given(proposed(), talks_opened(), drafted())
    then_rejected(
        when(state, command("sign_memorandum", **SIGN)),
        "required approval missing",
        "Cupertino City Council (partner)",
    )


def test_sign_refused_when_the_required_approval_was_granted_then_denied_elsewhere():
    # a non-required denial does not count, but a granted one on the other side does not either
    state = given(
        proposed(),
        talks_opened(),
        drafted(),
        ApprovalRecorded(
            at=at(3),
            side="initiator",
            authority="Cupertino City Council",
            decision="granted",
            required=False,
        ),
    )
    then_rejected(when(state, command("sign_memorandum", **SIGN)), "required approval missing")


def test_sign_refused_without_a_draft():
    state = given(proposed(), talks_opened(), approved())
    reason = then_rejected(when(state, command("sign_memorandum", **SIGN)))
    assert reason == "cannot sign: no memorandum draft exists (send draft_memorandum first)"


@pytest.mark.parametrize("version", [2, 7])
def test_sign_refused_for_an_unknown_draft_version(version):
    state = given(*IN_TALKS)
    then_rejected(
        when(state, command("sign_memorandum", **SIGN, draft_version=version)),
        f"draft_version {version} does not exist",
        "latest draft is 1",
    )


@pytest.mark.parametrize("side", [JING, ZHANG])
def test_signatories_of_one_side_only_are_invalid_input(side):
    other = {**side, "name": "Someone Else"}
    with pytest.raises(InvalidInput, match="signatories: at least one signatory per side"):
        command("sign_memorandum", **{**SIGN, "signatories": [side, other]})


def test_a_single_signatory_is_invalid_input():
    with pytest.raises(InvalidInput, match="signatories"):
        command("sign_memorandum", **{**SIGN, "signatories": [JING]})


def test_every_missing_approval_is_named() -> None:
    mayor = {"side": "initiator", "authority": "Mianyang People's Congress"}
    state = given(proposed(required_approvals=[COUNCIL, mayor]), talks_opened(), drafted())
    reason = then_rejected(when(state, command("sign_memorandum", **SIGN)))
    assert reason == (
        "cannot sign: required approval missing:"
        " Cupertino City Council (partner); Mianyang People's Congress (initiator)"
    )


# -- what the store refuses to apply: events illegal for what they say ---------------------


def test_signing_an_unknown_draft():
    state = given(proposed(required_approvals=[]), talks_opened())
    with pytest.raises(IllegalEvent, match="unknown draft"):
        evolve(state, signed(NOW), state.version + 1)


def test_signing_while_a_required_approval_is_missing():
    state = given(proposed(), talks_opened(), drafted())
    with pytest.raises(IllegalEvent, match="required approval is missing"):
        evolve(state, signed(NOW), state.version + 1)
