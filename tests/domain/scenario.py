"""Given/when/then helpers for the tests of each command (tests/domain/slices/).

Histories are written out as events (the "given"), commands are parsed from the same JSON
a client would send (the "when"), and the outcome is compared with the exact events or
the rejection expected (the "then"), in the style of eventsourcing's shopvertical tests.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from domain.decider import decide, fold
from domain.events import AnyEvent
from domain.messages import Command
from domain.parsing import parse_command
from domain.registry import Rejection
from domain.slices.draft_memorandum import MemorandumDrafted
from domain.slices.expire import Expired
from domain.slices.extend_invitation import InvitationExtended
from domain.slices.mark_dormant import BecameDormant
from domain.slices.open_talks import TalksOpened
from domain.slices.propose import Proposed
from domain.slices.record_approval import ApprovalRecorded, ProposalRejected
from domain.slices.record_exchange import ExchangeRecorded
from domain.slices.record_meeting import MeetingRecorded
from domain.slices.sign_memorandum import MemorandumSigned
from domain.slices.terminate import Terminated
from domain.slices.withdraw import Withdrawn
from domain.state import PartnershipState
from domain.values import Stage

PID = "partnership-mianyang-cupertino"
T0 = datetime(2017, 11, 1, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
#: Far after every deadline, dormancy, notice and term of the default policy.
LATER = T0 + timedelta(days=3650)

MIANYANG = {"name": "Mianyang", "country": "CN", "region": "Sichuan"}
CUPERTINO = {"name": "Cupertino", "country": "US", "region": "California"}
JING = {"name": "Jing Dazhong", "title": "Vice Mayor", "side": "initiator"}
ZHANG = {"name": "Zhang Zhaofu", "title": "Councilman", "side": "partner"}
COUNCIL = {"side": "partner", "authority": "Cupertino City Council"}
POLICY = {
    "talks_deadline": "P365D",
    "dormant_after": "P365D",
    "term": "P2Y",
    "renewal_notice": "P60D",
}
FIELDS = ["economy", "trade", "science_technology", "culture"]
TEXT = "Mianyang and Cupertino establish friendly relations."


def at(days: int) -> datetime:
    return T0 + days * DAY


#: When the command under test is decided: after the signing of the histories below.
NOW = at(10)


def proposed(
    *,
    policy: dict[str, Any] | None = None,
    required_approvals: list[dict[str, Any]] | None = None,
    tier: str = "friendly_relations",
    when: datetime = T0,
) -> Proposed:
    return Proposed(
        at=when,
        partnership_id=PID,
        initiator=MIANYANG,
        partner=CUPERTINO,
        tier=tier,
        proposed_by=JING,
        fields=FIELDS,
        rationale="Both are science and technology cities.",
        required_approvals=[COUNCIL] if required_approvals is None else required_approvals,
        policy=POLICY if policy is None else policy,
    )


def talks_opened(when: datetime = T0 + DAY) -> TalksOpened:
    return TalksOpened(at=when, by=JING, note="Delegation to Cupertino")


def meeting(when: datetime = T0 + 2 * DAY) -> MeetingRecorded:
    return MeetingRecorded(
        at=when,
        date=date(2017, 11, 15),
        place="Cupertino City Hall",
        delegation=[JING],
        counterparts=[ZHANG],
        topics=["science and technology"],
    )


def drafted(version: int = 1, when: datetime = T0 + 3 * DAY) -> MemorandumDrafted:
    from domain.slices.draft_memorandum import text_digest

    return MemorandumDrafted(
        at=when,
        draft_version=version,
        title=f"Memorandum draft {version}",
        languages=["zh", "en"],
        text_sha256=text_digest(TEXT),
        text=TEXT,
        fields=FIELDS,
    )


def approved(when: datetime = T0 + 4 * DAY, decision: str = "granted") -> ApprovalRecorded:
    return ApprovalRecorded(
        at=when,
        side="partner",
        authority="Cupertino City Council",
        decision=decision,
        required=True,
        reference="Resolution 17-123",
        date=date(2017, 11, 7),
    )


def invited(number: int = 1, when: datetime = T0 + 4 * DAY) -> InvitationExtended:
    return InvitationExtended(
        at=when,
        invitation_id=f"inv-{number}",
        event="High-Tech Expo",
        date=date(2018, 11, 15),
        from_side="initiator",
        to_side="partner",
    )


def signed(when: datetime = T0 + 5 * DAY, term: timedelta | None = timedelta(days=730)):
    return MemorandumSigned(
        at=when,
        date=date(2017, 11, 15),
        place="Cupertino, California",
        draft_version=1,
        signatories=[JING, ZHANG],
        expires_at=when + term if term else None,
    )


def exchange(when: datetime, field: str = "culture") -> ExchangeRecorded:
    return ExchangeRecorded(
        at=when, date=when.date(), field=field, kind="visit", title=f"{field} visit"
    )


# -- histories leading to each stage (every allowed command can succeed from these) ----

IN_TALKS = [proposed(), talks_opened(), meeting(), drafted(), approved(), invited()]
ACTIVE = [*IN_TALKS, signed()]
DORMANT = [*ACTIVE, BecameDormant(at=at(400), idle_since=at(5))]

HISTORIES: dict[Stage, list[AnyEvent]] = {
    Stage.PROPOSED: [proposed()],
    Stage.IN_TALKS: IN_TALKS,
    Stage.ACTIVE: ACTIVE,
    Stage.DORMANT: DORMANT,
    Stage.WITHDRAWN: [proposed(), Withdrawn(at=at(1), reason="no budget")],
    Stage.REJECTED: [
        proposed(),
        approved(when=at(1), decision="denied"),
        ProposalRejected(
            at=at(1), side="partner", authority="Cupertino City Council", reason="denied"
        ),
    ],
    Stage.EXPIRED: [*ACTIVE, Expired(at=at(800), expires_at=at(735))],
    Stage.TERMINATED: [*ACTIVE, Terminated(at=at(30), reason="no exchanges")],
}


def given(*events: AnyEvent) -> PartnershipState:
    state = fold(events)
    assert state is not None
    return state


def command(name: str, **payload: Any) -> Command:
    return parse_command(name, payload)


def when(
    state: PartnershipState, cmd: Command, now: datetime = LATER
) -> list[AnyEvent] | Rejection:
    return decide(state, cmd, now)


def then_events(result: list[AnyEvent] | Rejection, expected: list[AnyEvent]) -> list[AnyEvent]:
    assert not isinstance(result, Rejection), result.reason
    assert result == expected
    return result


def then_rejected(result: list[AnyEvent] | Rejection, *fragments: str) -> str:
    assert isinstance(result, Rejection), f"expected a rejection, got {result}"
    reason = result.reason
    assert "\n" not in reason and reason.strip() == reason and reason
    for fragment in fragments:
        assert fragment in reason, (fragment, reason)
    return reason


def after(state: PartnershipState, result: list[AnyEvent] | Rejection) -> PartnershipState:
    """The state once `result`'s events are applied (the fold the store would do)."""
    assert not isinstance(result, Rejection), result.reason
    new = fold(result, state)
    assert new is not None
    assert new.version == state.version + len(result)
    return new
