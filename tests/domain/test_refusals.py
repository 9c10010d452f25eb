"""Every refusal: commands in stages the contract does not allow, and rule violations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as e
from domain.decider import decide
from domain.messages import Command
from domain.parsing import InvalidInput
from domain.registry import USER_COMMANDS, Rejection
from domain.slices.draft_memorandum import text_digest
from domain.slices.expire import Expire
from domain.slices.mark_dormant import MarkDormant
from domain.slices.note_renewal_due import NoteRenewalDue
from domain.slices.note_talks_deadline import NoteTalksDeadline
from domain.slices.propose import Proposal
from domain.slices.record_rejected_signal import RecordRejectedSignal
from domain.values import Stage

from .scenario import (
    ACTIVE,
    HISTORIES,
    IN_TALKS,
    JING,
    LATER,
    T0,
    TEXT,
    ZHANG,
    after,
    approved,
    at,
    command,
    drafted,
    exchange,
    given,
    invited,
    meeting,
    proposed,
    signed,
    talks_opened,
    then_rejected,
    when,
)

P, T, A, D = Stage.PROPOSED, Stage.IN_TALKS, Stage.ACTIVE, Stage.DORMANT
NON_TERMINAL = {P, T, A, D}

#: The contract's table (CONTRACT.md, "Messages"), written out by hand on purpose: if the
#: decider's own table drifts from the contract, the matrix below fails.
CONTRACT_ALLOWED: dict[str, set[Stage]] = {
    "open_talks": {P},
    "record_meeting": {T, A, D},
    "draft_memorandum": {T},
    "record_approval": {P, T},
    "sign_memorandum": {T},
    "record_exchange": {A, D},
    "extend_invitation": {T, A, D},
    "answer_invitation": {T, A, D},
    "upgrade": {A},
    "renew": {A, D},
    "correct": NON_TERMINAL,
    "withdraw": {P, T},
    "terminate": {A, D},
}
#: The engine's own commands (policy timers and the audit of rejected signals).
ENGINE_ALLOWED: dict[str, set[Stage]] = {
    "note_talks_deadline": {P, T},
    "mark_dormant": {A},
    "note_renewal_due": {A, D},
    "expire": {A, D},
    "record_rejected_signal": set(Stage),
}

#: A payload for each user command that succeeds wherever the command is allowed.
VALID: dict[str, dict] = {
    "open_talks": {"by": JING},
    "record_meeting": {"date": "2018-01-02", "place": "Mianyang", "delegation": [ZHANG]},
    "draft_memorandum": {"title": "Memo", "languages": ["en"], "text": TEXT},
    "record_approval": {"side": "initiator", "authority": "Sichuan FAO", "decision": "granted"},
    "sign_memorandum": {"date": "2017-11-15", "place": "Cupertino", "signatories": [JING, ZHANG]},
    "record_exchange": {"date": "2018-04-20", "field": "trade", "kind": "visit", "title": "Trip"},
    "extend_invitation": {"event": "Expo", "from_side": "initiator", "to_side": "partner"},
    "answer_invitation": {"invitation_id": "inv-1", "accepted": True},
    "upgrade": {"to_tier": "sister_city"},
    "renew": {},
    "correct": {"target_version": 1, "reason": "typo", "correction": {"rationale": "Fixed."}},
    "withdraw": {"reason": "no budget"},
    "terminate": {"reason": "no exchanges"},
}
ENGINE: dict[str, Command] = {
    "note_talks_deadline": NoteTalksDeadline(),
    "mark_dormant": MarkDormant(),
    "note_renewal_due": NoteRenewalDue(),
    "expire": Expire(),
    "record_rejected_signal": RecordRejectedSignal(command="upgrade", reason="nope"),
}


def test_the_tables_cover_every_command():
    assert set(CONTRACT_ALLOWED) == set(USER_COMMANDS) == set(VALID)
    assert set(ENGINE_ALLOWED) == set(ENGINE)


MATRIX = [
    (stage, name, stage in allowed)
    for name, allowed in {**CONTRACT_ALLOWED, **ENGINE_ALLOWED}.items()
    for stage in Stage
]


@pytest.mark.parametrize(
    ("stage", "name", "allowed"),
    MATRIX,
    ids=[f"{name}-in-{stage.value}-{'ok' if ok else 'refused'}" for stage, name, ok in MATRIX],
)
def test_stage_matrix(stage, name, allowed):
    state = given(*HISTORIES[stage])
    cmd = ENGINE[name] if name in ENGINE else command(name, **VALID[name])
    result = decide(state, cmd, LATER)
    if allowed:
        assert not isinstance(result, Rejection), result.reason
        assert result, "an applied command records at least one event"
        new = after(state, result)  # evolve accepts what decide emitted
        assert new.version == state.version + len(result)
    else:
        then_rejected(result, name, "not allowed", f"while the partnership is {stage.value}")


def test_no_command_before_a_proposal():
    reason = then_rejected(decide(None, command("open_talks"), T0))
    assert reason == "the partnership has not been proposed yet"


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


# -- signing --------------------------------------------------------------------------


SIGN = {"date": "2017-11-15", "place": "Cupertino", "signatories": [JING, ZHANG]}


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
        e.ApprovalRecorded(
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


# -- drafts -----------------------------------------------------------------------------


def test_draft_refused_when_text_sha256_does_not_match_text():
    state = given(proposed(), talks_opened())
    assert (
        then_rejected(
            when(
                state,
                command(
                    "draft_memorandum", title="T", languages=["en"], text=TEXT, text_sha256="0" * 64
                ),
            ),
            "text_sha256 does not match",
        )
        == "text_sha256 does not match the sha256 of text"
    )


@pytest.mark.parametrize("text", [None, "", "   \n "])
def test_draft_without_text_or_hash_is_invalid_input(text):
    payload = {"title": "T", "languages": ["en"]}
    if text is not None:
        payload["text"] = text
    with pytest.raises(InvalidInput, match="text or its text_sha256"):
        command("draft_memorandum", **payload)


def test_text_of_spaces_with_a_hash_keeps_the_hash():
    state = given(proposed(), talks_opened())
    digest = text_digest(TEXT)
    result = when(
        state,
        command("draft_memorandum", title="T", languages=["en"], text="  ", text_sha256=digest),
    )
    assert result[0].text is None and result[0].text_sha256 == digest


# -- invitations ----------------------------------------------------------------------------


def test_answer_to_an_unknown_invitation():
    state = given(*IN_TALKS)
    then_rejected(
        when(state, command("answer_invitation", invitation_id="inv-9", accepted=True)),
        "unknown invitation_id 'inv-9'",
        "known: inv-1",
    )
    none = given(proposed(), talks_opened())
    then_rejected(
        when(none, command("answer_invitation", invitation_id="inv-1", accepted=True)),
        "known: none",
    )


@pytest.mark.parametrize(("first", "word"), [(True, "accepted"), (False, "declined")])
def test_answer_to_an_answered_invitation(first, word):
    state = given(*IN_TALKS, e.InvitationAnswered(at=at(6), invitation_id="inv-1", accepted=first))
    for again in (True, False):
        then_rejected(
            when(state, command("answer_invitation", invitation_id="inv-1", accepted=again)),
            f"invitation inv-1 was already {word}",
        )


def test_invitation_to_the_same_side_is_invalid_input():
    with pytest.raises(InvalidInput, match="from_side and to_side must differ"):
        command("extend_invitation", event="Expo", from_side="partner", to_side="partner")


# -- upgrade and renew ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tier", "to"),
    [
        ("friendly_relations", "friendly_relations"),
        ("friendship_city", "friendship_city"),
        ("friendship_city", "friendly_relations"),
        ("sister_city", "sister_city"),
        ("sister_city", "friendship_city"),
        ("sister_city", "friendly_relations"),
    ],
)
def test_upgrade_to_the_same_or_a_lower_tier(tier, to):
    state = given(proposed(tier=tier), *ACTIVE[1:])
    then_rejected(
        when(state, command("upgrade", to_tier=to)),
        f"to_tier {to} is not above the current tier {tier}",
    )


def test_renew_without_any_term():
    state = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    reason = then_rejected(when(state, command("renew")))
    assert reason == "renew needs a term: the partnership's policy has none"


@pytest.mark.parametrize("term", ["PT0S", 0, -5, "P300Y"])
def test_renew_with_a_bad_term_is_invalid_input(term):
    with pytest.raises(InvalidInput, match="term") as raised:
        command("renew", term=term)
    assert "\n" not in str(raised.value)


# -- corrections --------------------------------------------------------------------------


def _correct(state, target_version, correction):
    return when(
        state,
        command("correct", target_version=target_version, reason="typo", correction=correction),
    )


@pytest.mark.parametrize(
    "target",
    [
        2,  # talks_opened is a decision, not a mistyped fact
        99,  # beyond the history
    ],
)
def test_correct_a_version_that_is_not_correctable(target):
    state = given(*IN_TALKS)
    then_rejected(
        _correct(state, target, {"place": "x"}),
        f"target_version {target} is not a correctable event",
        f"current version is {state.version}",
    )


def test_correct_a_correction_or_an_engine_event_is_refused():
    state = given(*ACTIVE, e.RenewalDue(at=at(700), expires_at=at(735)))
    renewal_due = state.version
    state = after(state, _correct(state, 3, {"place": "Elsewhere"}))
    for target in (renewal_due, state.version):
        then_rejected(_correct(state, target, {"place": "x"}), "is not a correctable event")


def test_correct_an_event_of_an_earlier_life_is_refused():
    ended = given(proposed(), meeting_free_withdrawn := e.Withdrawn(at=at(1), reason="r"))
    assert meeting_free_withdrawn.type == "withdrawn"
    state = after(ended, [proposed(when=at(2))])
    assert state.proposed_version == 3
    then_rejected(_correct(state, 1, {"rationale": "x"}), "target_version 1 is not a correctable")


@pytest.mark.parametrize(
    ("version", "correction", "field"),
    [
        (1, {"tier": "sister_city"}, "tier"),  # a tier changes by upgrade
        (1, {"stage": "active"}, "stage"),
        (1, {"partnership_id": "x"}, "partnership_id"),
        (3, {"location": "x"}, "location"),
        (5, {"decision": "denied"}, "decision"),  # an approval's decision is not a typo
        (5, {"required": False}, "required"),
        (4, {"text_sha256": "0" * 64}, "text_sha256"),  # a draft's text is a new draft
        (4, {"draft_version": 3}, "draft_version"),
        (6, {"invitation_id": "inv-7"}, "invitation_id"),
        (6, {"accepted": True}, "accepted"),
    ],
)
def test_correct_a_field_that_is_not_correctable(version, correction, field):
    state = given(*IN_TALKS)
    target_type = IN_TALKS[version - 1].type
    then_rejected(
        _correct(state, version, correction),
        f"correction of {target_type} (version {version})",
        f"{field}: unknown field",
        "correctable:",
    )


def test_correct_the_signing_signatories_or_draft_is_refused():
    state = given(*ACTIVE)
    for correction in ({"signatories": [JING, ZHANG]}, {"draft_version": 1}, {"expires_at": None}):
        then_rejected(_correct(state, state.signing.version, correction), "unknown field")


def test_correct_with_an_invalid_value_is_refused():
    state = given(*ACTIVE, exchange(at(20)))
    exchange_version = state.exchanges[0].version
    then_rejected(_correct(state, exchange_version, {"field": "astrology"}), "field:")
    then_rejected(_correct(state, 3, {"date": "1800-01-01"}), "date: date must be between")
    then_rejected(_correct(state, 1, {"policy": {"term": "PT0S"}}), "duration must be positive")
    then_rejected(_correct(state, 1, {"fields": []}), "fields:")


@pytest.mark.parametrize(
    ("version", "field"),
    [
        (1, "policy"),
        (1, "initiator"),
        (1, "partner"),
        (1, "proposed_by"),
        (1, "fields"),
        (1, "required_approvals"),
        (3, "date"),
        (3, "place"),
        (3, "delegation"),
        (3, "topics"),
        (4, "title"),
        (4, "languages"),
        (6, "event"),
        (7, "date"),
        (7, "place"),
    ],
)
def test_correct_to_null_a_value_that_cannot_be_empty_is_refused(version, field):
    state = given(*ACTIVE)
    then_rejected(_correct(state, version, {field: None}), field)


@pytest.mark.parametrize(
    ("version", "field"),
    [(1, "rationale"), (3, "outcome"), (5, "reference"), (5, "date"), (6, "date")],
)
def test_correct_to_null_an_optional_value_clears_it(version, field):
    state = given(*ACTIVE)
    new = after(state, _correct(state, version, {field: None}))
    assert new.version == state.version + 1


def test_an_empty_correction_is_invalid_input():
    with pytest.raises(InvalidInput, match="correction"):
        command("correct", target_version=1, reason="r", correction={})


# -- engine commands that are not due ---------------------------------------------------


def test_talks_deadline_not_passed_not_set_or_already_noted():
    state = given(proposed())
    then_rejected(when(state, NoteTalksDeadline(), at(364)), "has not passed")
    reason = then_rejected(when(given(proposed(policy={})), NoteTalksDeadline(), LATER))
    assert reason == "no talks deadline pending"
    noted = given(proposed(), e.TalksDeadlinePassed(at=at(365), deadline=at(365)))
    assert then_rejected(when(noted, NoteTalksDeadline(), LATER)) == "no talks deadline pending"


def test_mark_dormant_too_early_or_without_policy():
    state = given(*ACTIVE, exchange(at(100)))
    reason = then_rejected(when(state, MarkDormant(), at(100) + timedelta(days=364)))
    assert reason == "an exchange was recorded recently"
    no_policy = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_policy, MarkDormant(), LATER)) == "no dormancy policy"


def test_renewal_due_too_early_without_term_or_already_noted():
    state = given(*ACTIVE)  # expires at day 735, notice 60 days
    reason = then_rejected(when(state, NoteRenewalDue(), at(674)))
    assert reason == "the renewal notice period has not started"
    noted = given(*ACTIVE, e.RenewalDue(at=at(675), expires_at=at(735)))
    assert then_rejected(when(noted, NoteRenewalDue(), LATER)) == "no renewal reminder pending"
    no_term = given(proposed(policy={"renewal_notice": "P30D"}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_term, NoteRenewalDue(), LATER)) == "no renewal reminder pending"


def test_expire_before_the_term_ends_or_without_term():
    state = given(*ACTIVE)
    assert then_rejected(when(state, Expire(), at(734))) == "the term has not ended"
    no_term = given(proposed(policy={}), *ACTIVE[1:-1], signed(term=None))
    assert then_rejected(when(no_term, Expire(), LATER)) == "the term has not ended"
    renewed = given(*ACTIVE, e.Renewed(at=at(700), term=timedelta(days=730), expires_at=at(1430)))
    assert then_rejected(when(renewed, Expire(), at(735))) == "the term has not ended"


def test_refusals_leave_the_state_alone():
    """decide is pure: a refused command changes nothing it was given."""
    state = given(*IN_TALKS, meeting(at(7)), invited(2, at(8)))
    before = state.model_dump()
    for name, payload in VALID.items():
        decide(state, command(name, **payload), LATER)
    assert state.model_dump() == before
