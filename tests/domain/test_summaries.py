"""How each event reads in the audit's history, in reminders and in the UI: one sentence."""

from __future__ import annotations

import pytest

from domain.catalogue import EVENTS
from domain.events import AnyEvent
from domain.slices.answer_invitation import InvitationAnswered
from domain.slices.correct import Corrected
from domain.slices.open_talks import TalksOpened
from domain.slices.propose import Proposed
from domain.slices.record_approval import ApprovalRecorded
from domain.slices.record_meeting import MeetingRecorded

from .scenario import at, proposed
from .test_evolve import SAMPLES

SENTENCES = {
    "proposed": "Mianyang (CN) proposes friendly relations with Cupertino (US);"
    " fields: economy, trade, science_technology, culture",
    "talks_opened": "talks opened by Jing Dazhong",
    "meeting_recorded": "meeting on 2017-11-15 at Cupertino City Hall:"
    " Jing Dazhong (Vice Mayor) with Zhang Zhaofu (Councilman)",
    "memorandum_drafted": "draft 2: Memorandum draft 2 (zh, en)",
    "approval_recorded": "approval granted by FAO (initiator)",
    "proposal_rejected": "rejected: r",
    "memorandum_signed": "memorandum (draft 1) signed on 2017-11-15 at Cupertino, California"
    " by Jing Dazhong (Vice Mayor), Zhang Zhaofu (Councilman)",
    "exchange_recorded": "visit in culture on 2017-11-11: culture visit",
    "reactivated": "active again after dormancy",
    "invitation_extended": "inv-2: initiator invites partner to High-Tech Expo",
    "invitation_answered": "inv-1 accepted",
    "upgraded": "upgraded from friendly relations to sister city",
    "renewed": "renewed until 2019-11-11 09:00:00 UTC",
    "corrected": "correction of version 1 (proposed): rationale — typo",
    "withdrawn": "withdrawn: r",
    "terminated": "terminated: r",
    "talks_deadline_passed": "talks deadline 2017-11-11 09:00:00 UTC passed without a signature",
    "became_dormant": "dormant: no exchange since 2017-11-01 09:00:00 UTC",
    "renewal_due": "renewal due: the term ends 2017-11-11 09:00:00 UTC",
    "expired": "expired: the term ended without renewal",
    "signal_rejected": "signal upgrade not applied: r",
}
EXAMPLES: dict[str, AnyEvent] = {"proposed": proposed(), **SAMPLES}


@pytest.mark.parametrize("kind", list(SENTENCES))
def test_each_event_reads_as_one_sentence(kind: str) -> None:
    assert EXAMPLES[kind].summary() == SENTENCES[kind]


def test_every_event_writes_its_own_sentence() -> None:
    assert set(SENTENCES) == set(EVENTS) | {"proposed"}
    for model in [Proposed, *(spec.model for spec in EVENTS.values())]:
        assert "summary" in vars(model), model.__name__


def test_the_sentence_names_each_person_with_a_title_only_when_there_is_one() -> None:
    met = MeetingRecorded.model_validate(
        {**SAMPLES["meeting_recorded"].model_dump(), "counterparts": [{"name": "Liu"}]}
    )
    assert met.summary().endswith("Jing Dazhong (Vice Mayor) with Liu")


def test_the_other_branch_of_each_conditional_sentence() -> None:
    """A talk opened by nobody named, a declined invitation, a required approval and a
    correction of several fields read as such (the samples above take the other branch)."""
    assert TalksOpened(at=at(1)).summary() == "talks opened"
    answered = InvitationAnswered(at=at(2), invitation_id="inv-1", accepted=False)
    assert answered.summary() == "inv-1 declined"
    approval = ApprovalRecorded(
        at=at(3), side="partner", authority="Council", decision="granted", required=True
    )
    assert approval.summary() == "required approval granted by Council (partner)"
    corrected = Corrected(
        at=at(4),
        target_version=1,
        target_type="proposed",
        reason="typo",
        correction={"rationale": "r", "fields": ["trade"]},
    )
    assert corrected.summary() == "correction of version 1 (proposed): rationale, fields — typo"
