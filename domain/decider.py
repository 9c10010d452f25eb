"""The partnership's rules, in one pure place: `decide` and `evolve`.

The workflow calls `decide` to validate an Update before anything is recorded and to
answer `status` without I/O; the event-sourced aggregate calls `evolve` to rebuild state
and to refuse, at the store, an event the rules do not allow. Both bodies share this brain,
so the rules cannot drift between Temporal and the event store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from domain import commands as c
from domain import events as e
from domain.corrections import CORRECTABLE, correction_model
from domain.errors import one_line, shorten
from domain.registry import COMMANDS, EVENTS, command, evolves
from domain.registry import Rejection as Rejection  # re-exported: callers import it here
from domain.state import (
    MAX_REJECTED_IN_STATE,
    ApprovalRecord,
    CorrectionRecord,
    DraftRecord,
    ExchangeRecord,
    InvitationRecord,
    MeetingRecord,
    PartnershipState,
    RejectedCommand,
    SigningRecord,
)
from domain.values import Decision, Policy, Stage

ACTIVE_STAGES = frozenset({Stage.ACTIVE, Stage.DORMANT})
TALKING = frozenset({Stage.IN_TALKS, Stage.ACTIVE, Stage.DORMANT})
BEFORE_SIGNING = frozenset({Stage.PROPOSED, Stage.IN_TALKS})
NON_TERMINAL = frozenset(s for s in Stage if not s.is_terminal)
EVERY_STAGE = frozenset(Stage)


class IllegalEvent(ValueError):  # noqa: N818 - a public name others import
    """An event the rules do not allow in the current state (refused by the store)."""


EventsOrRejection = list[e.AnyEvent] | Rejection


def _stages(stages: Iterable[Stage]) -> str:
    return ", ".join(sorted(s.value for s in stages))


def decide(state: PartnershipState | None, command: c.Command, now: datetime) -> EventsOrRejection:
    """Return the events `command` causes in `state`, or why it is refused."""
    if isinstance(command, c.Proposal):
        if state is not None and not state.stage.is_terminal:
            return Rejection(
                f"partnership {state.partnership_id} already exists and is {state.stage.value}"
            )
        return Rejection("a proposal needs the partnership id; use decide_proposal")
    if state is None:
        return Rejection("the partnership has not been proposed yet")
    spec = COMMANDS.get(command.name)
    if spec is None or not isinstance(command, spec.model):
        return Rejection(f"unknown command {command.name!r}")
    allowed = spec.stages
    if state.stage not in allowed:
        return Rejection(
            f"{command.name} is not allowed while the partnership is {state.stage.value}"
            f" (allowed in: {_stages(allowed)})"
        )
    decision: EventsOrRejection = spec.decide(state, command, now)
    return decision


def decide_proposal(partnership_id: str, proposal: c.Proposal, now: datetime) -> list[e.AnyEvent]:
    """The first event of a partnership (or of a new life after a terminal stage)."""
    return [
        e.Proposed(
            at=now,
            partnership_id=partnership_id,
            initiator=proposal.initiator,
            partner=proposal.partner,
            tier=proposal.tier,
            proposed_by=proposal.proposed_by,
            fields=proposal.fields,
            rationale=proposal.rationale,
            required_approvals=proposal.required_approvals,
            policy=proposal.policy,
        )
    ]


# -- command handlers: (state, command, now) -> events | Rejection ------------------------


@command(c.OpenTalks, frozenset({Stage.PROPOSED}))
def _open_talks(state: PartnershipState, cmd: c.OpenTalks, now: datetime) -> EventsOrRejection:
    return [e.TalksOpened(at=now, by=cmd.by, note=cmd.note)]


@command(c.RecordMeeting, TALKING)
def _record_meeting(
    state: PartnershipState, cmd: c.RecordMeeting, now: datetime
) -> EventsOrRejection:
    return [
        e.MeetingRecorded(
            at=now,
            date=cmd.date,
            place=cmd.place,
            delegation=cmd.delegation,
            counterparts=cmd.counterparts,
            topics=cmd.topics,
            outcome=cmd.outcome,
        )
    ]


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@command(c.DraftMemorandum, frozenset({Stage.IN_TALKS}))
def _draft(state: PartnershipState, cmd: c.DraftMemorandum, now: datetime) -> EventsOrRejection:
    text = cmd.text if cmd.text and cmd.text.strip() else None
    digest = text_digest(text) if text is not None else (cmd.text_sha256 or "").lower()
    if text is not None and cmd.text_sha256 and cmd.text_sha256.lower() != digest:
        return Rejection("text_sha256 does not match the sha256 of text")
    fields = cmd.fields or state.fields
    return [
        e.MemorandumDrafted(
            at=now,
            draft_version=len(state.drafts) + 1,
            title=cmd.title,
            languages=cmd.languages,
            text_sha256=digest,
            text=text,
            fields=list(dict.fromkeys(fields)),
        )
    ]


@command(c.RecordApproval, BEFORE_SIGNING)
def _approval(state: PartnershipState, cmd: c.RecordApproval, now: datetime) -> EventsOrRejection:
    required = any(
        r.side == cmd.side and r.authority.casefold() == cmd.authority.casefold()
        for r in state.required_approvals
    )
    recorded: list[e.AnyEvent] = [
        e.ApprovalRecorded(
            at=now,
            side=cmd.side,
            authority=cmd.authority,
            decision=cmd.decision,
            required=required,
            reference=cmd.reference,
            date=cmd.date,
        )
    ]
    if required and cmd.decision == Decision.DENIED:
        recorded.append(
            e.ProposalRejected(
                at=now,
                side=cmd.side,
                authority=cmd.authority,
                reason=f"required approval denied by {cmd.authority} ({cmd.side.value})",
            )
        )
    return recorded


@command(c.SignMemorandum, frozenset({Stage.IN_TALKS}))
def _sign(state: PartnershipState, cmd: c.SignMemorandum, now: datetime) -> EventsOrRejection:
    if not state.drafts:
        return Rejection("cannot sign: no memorandum draft exists (send draft_memorandum first)")
    version = cmd.draft_version or state.drafts[-1].draft_version
    if version > len(state.drafts):
        return Rejection(
            f"draft_version {version} does not exist (latest draft is {len(state.drafts)})"
        )
    missing = state.missing_approvals()
    if missing:
        names = "; ".join(f"{m.authority} ({m.side.value})" for m in missing)
        return Rejection(f"cannot sign: required approval missing: {names}")
    expires_at = now + state.policy.term if state.policy.term else None
    return [
        e.MemorandumSigned(
            at=now,
            date=cmd.date,
            place=cmd.place,
            draft_version=version,
            signatories=cmd.signatories,
            expires_at=expires_at,
        )
    ]


@command(c.RecordExchange, ACTIVE_STAGES)
def _exchange(state: PartnershipState, cmd: c.RecordExchange, now: datetime) -> EventsOrRejection:
    result: list[e.AnyEvent] = []
    if state.stage == Stage.DORMANT:
        result.append(e.Reactivated(at=now))
    result.append(
        e.ExchangeRecorded(
            at=now,
            date=cmd.date,
            field=cmd.field,
            kind=cmd.kind,
            title=cmd.title,
            participants=cmd.participants,
            outcome=cmd.outcome,
        )
    )
    return result


@command(c.ExtendInvitation, TALKING)
def _invite(state: PartnershipState, cmd: c.ExtendInvitation, now: datetime) -> EventsOrRejection:
    return [
        e.InvitationExtended(
            at=now,
            invitation_id=f"inv-{len(state.invitations) + 1}",
            event=cmd.event,
            date=cmd.date,
            from_side=cmd.from_side,
            to_side=cmd.to_side,
        )
    ]


@command(c.AnswerInvitation, TALKING)
def _answer(state: PartnershipState, cmd: c.AnswerInvitation, now: datetime) -> EventsOrRejection:
    invitation = state.invitation(cmd.invitation_id)
    if invitation is None:
        known = ", ".join(i.invitation_id for i in state.invitations) or "none"
        return Rejection(f"unknown invitation_id {cmd.invitation_id!r} (known: {known})")
    if invitation.accepted is not None:
        answer = "accepted" if invitation.accepted else "declined"
        return Rejection(f"invitation {cmd.invitation_id} was already {answer}")
    return [
        e.InvitationAnswered(
            at=now, invitation_id=cmd.invitation_id, accepted=cmd.accepted, note=cmd.note
        )
    ]


@command(c.Upgrade, frozenset({Stage.ACTIVE}))
def _upgrade(state: PartnershipState, cmd: c.Upgrade, now: datetime) -> EventsOrRejection:
    if cmd.to_tier.rank <= state.tier.rank:
        return Rejection(
            f"to_tier {cmd.to_tier.value} is not above the current tier {state.tier.value}"
        )
    return [e.Upgraded(at=now, from_tier=state.tier, to_tier=cmd.to_tier, reference=cmd.reference)]


@command(c.Renew, ACTIVE_STAGES)
def _renew(state: PartnershipState, cmd: c.Renew, now: datetime) -> EventsOrRejection:
    term = cmd.term or state.policy.term
    if term is None:
        return Rejection("renew needs a term: the partnership's policy has none")
    return [e.Renewed(at=now, term=term, expires_at=now + term, reference=cmd.reference)]


@command(c.Correct, NON_TERMINAL)
def _correct(state: PartnershipState, cmd: c.Correct, now: datetime) -> EventsOrRejection:
    target = find_correctable(state, cmd.target_version)
    if target is None:
        return Rejection(
            f"target_version {cmd.target_version} is not a correctable event"
            f" (the proposal, meetings, drafts, approvals, the signing, exchanges"
            f" and invitations can be corrected; current version is {state.version})"
        )
    target_type, _ = target
    model = correction_model(target_type)
    try:
        patch = model.model_validate(cmd.correction)
    except ValidationError as error:
        allowed = ", ".join(CORRECTABLE[target_type])
        return Rejection(
            f"correction of {target_type} (version {cmd.target_version}): {one_line(error)}"
            f" (correctable: {allowed})"
        )
    values = patch.model_dump(mode="json", exclude_unset=True)
    if not values:
        return Rejection("correction: give at least one field to correct")
    if target_type == "proposed" and values.get("policy") is not None:
        # A policy correction changes the timers it names; the others stay as they were
        # (the event records the whole corrected policy, so it reads unambiguously).
        merged = {**state.policy.model_dump(mode="json"), **values["policy"]}
        values["policy"] = Policy.model_validate(merged).model_dump(mode="json")
    return [
        e.Corrected(
            at=now,
            target_version=cmd.target_version,
            target_type=target_type,
            reason=cmd.reason,
            correction=values,
        )
    ]


@command(c.Withdraw, BEFORE_SIGNING)
def _withdraw(state: PartnershipState, cmd: c.Withdraw, now: datetime) -> EventsOrRejection:
    return [e.Withdrawn(at=now, by=cmd.by, reason=cmd.reason)]


@command(c.Terminate, ACTIVE_STAGES)
def _terminate(state: PartnershipState, cmd: c.Terminate, now: datetime) -> EventsOrRejection:
    return [e.Terminated(at=now, by=cmd.by, reason=cmd.reason)]


@command(c.NoteTalksDeadline, BEFORE_SIGNING, engine=True)
def _talks_deadline(
    state: PartnershipState, cmd: c.NoteTalksDeadline, now: datetime
) -> EventsOrRejection:
    deadline = state.talks_deadline_at()
    if deadline is None or state.talks_deadline_noted:
        return Rejection("no talks deadline pending")
    if now < deadline:
        return Rejection(f"the talks deadline {deadline.isoformat()} has not passed")
    return [e.TalksDeadlinePassed(at=now, deadline=deadline)]


@command(c.MarkDormant, frozenset({Stage.ACTIVE}), engine=True)
def _dormant(state: PartnershipState, cmd: c.MarkDormant, now: datetime) -> EventsOrRejection:
    idle_since = state.idle_since()
    after = state.policy.dormant_after
    if after is None or idle_since is None:
        return Rejection("no dormancy policy")
    if now - idle_since < after:
        return Rejection("an exchange was recorded recently")
    return [e.BecameDormant(at=now, idle_since=idle_since)]


@command(c.NoteRenewalDue, ACTIVE_STAGES, engine=True)
def _renewal_due(
    state: PartnershipState, cmd: c.NoteRenewalDue, now: datetime
) -> EventsOrRejection:
    notice = state.policy.renewal_notice
    if state.expires_at is None or notice is None or state.renewal_due_noted:
        return Rejection("no renewal reminder pending")
    if now < state.expires_at - notice:
        return Rejection("the renewal notice period has not started")
    return [e.RenewalDue(at=now, expires_at=state.expires_at)]


@command(c.Expire, ACTIVE_STAGES, engine=True)
def _expire(state: PartnershipState, cmd: c.Expire, now: datetime) -> EventsOrRejection:
    if state.expires_at is None or now < state.expires_at:
        return Rejection("the term has not ended")
    return [e.Expired(at=now, expires_at=state.expires_at)]


@command(c.RecordRejectedSignal, EVERY_STAGE, engine=True)
def _rejected_signal(
    state: PartnershipState, cmd: c.RecordRejectedSignal, now: datetime
) -> EventsOrRejection:
    return [
        e.SignalRejected(
            at=now,
            command=cmd.command,
            reason=shorten(cmd.reason),
            request_id=cmd.sender_request_id,
        )
    ]


# -- evolve: (state, event, version) -> state ------------------------------------------


def find_correctable(state: PartnershipState, version: int) -> tuple[str, Any] | None:
    """The entity created by the event at `version`, if that event can be corrected."""
    if version == state.proposed_version:
        return "proposed", state
    groups: list[tuple[str, list[Any]]] = [
        ("meeting_recorded", state.meetings),
        ("memorandum_drafted", state.drafts),
        ("approval_recorded", state.approvals),
        ("exchange_recorded", state.exchanges),
        ("invitation_extended", state.invitations),
    ]
    for target_type, records in groups:
        for record in records:
            if record.version == version:
                return target_type, record
    if state.signing is not None and state.signing.version == version:
        return "memorandum_signed", state.signing
    return None


def _replace(records: list[Any], version: int, patch: dict[str, Any]) -> list[Any]:
    return [
        type(r).model_validate({**r.model_dump(), **patch}) if r.version == version else r
        for r in records
    ]


def _apply_correction(state: PartnershipState, event: e.Corrected) -> dict[str, Any]:
    patch = correction_model(event.target_type).model_validate(event.correction)
    values = {k: getattr(patch, k) for k in event.correction}
    v = event.target_version
    if event.target_type == "proposed":
        policy = values.get("policy")
        if policy is not None and state.term_started_at is not None:
            # A corrected term moves the running term's end (and so its timer).
            values["expires_at"] = state.term_started_at + policy.term if policy.term else None
            values["renewal_due_noted"] = False
        return values
    if event.target_type == "memorandum_signed" and state.signing is not None:
        return {"signing": _replace([state.signing], v, patch.model_dump(include=set(values)))[0]}
    attribute = {
        "meeting_recorded": "meetings",
        "memorandum_drafted": "drafts",
        "approval_recorded": "approvals",
        "exchange_recorded": "exchanges",
        "invitation_extended": "invitations",
    }[event.target_type]
    return {
        attribute: _replace(getattr(state, attribute), v, patch.model_dump(include=set(values)))
    }


def _require(state: PartnershipState | None, event: e.Event) -> PartnershipState:
    if state is None:
        raise IllegalEvent(f"{event.type} before the partnership was proposed")
    if state.stage not in EVENTS[event.type].stages:
        raise IllegalEvent(f"{event.type} is not allowed while {state.stage.value}")
    return state


def _carried_over(event: e.AnyEvent, *leave: str) -> dict[str, Any]:
    """An event's fields for the record it becomes, as the (already valid) objects they are:
    no dump to dicts and no second validation of nested models (the fold's main cost)."""
    names = _RECORD_FIELDS.get((type(event), leave))
    if names is None:
        skip = {"type", "at", *leave}
        names = tuple(name for name in type(event).model_fields if name not in skip)
        _RECORD_FIELDS[(type(event), leave)] = names
    return {name: getattr(event, name) for name in names}


#: (event class, fields left out) -> the field names a record takes over, computed once.
_RECORD_FIELDS: dict[tuple[type, tuple[str, ...]], tuple[str, ...]] = {}


def evolve(state: PartnershipState | None, event: e.AnyEvent, version: int) -> PartnershipState:
    """Apply one event; raise IllegalEvent when the rules forbid it here."""
    if isinstance(event, e.Proposed):
        if state is not None and not state.stage.is_terminal:
            raise IllegalEvent(f"proposed while the partnership is {state.stage.value}")
        return PartnershipState(
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
            proposed_version=version,
            stage_since=event.at,
            version=version,
        )
    spec = EVENTS.get(event.type)
    if spec is None:  # pragma: no cover - every event of the union registers below
        raise IllegalEvent(f"unknown event type {event.type}")
    current = _require(state, event)
    changes: dict[str, Any] = {"version": version}
    stage = e.STAGE_AFTER.get(event.type)
    if stage is not None and stage != current.stage:
        changes["stage"] = stage
        changes["stage_since"] = event.at
    changes.update(spec.evolve(current, event, version))
    return current.model_copy(update=changes)


# -- evolutions: (state, event, version) -> the fields the event changes ------------------


@evolves(e.TalksOpened, frozenset({Stage.PROPOSED}))
@evolves(e.Reactivated, frozenset({Stage.DORMANT}))
@evolves(e.BecameDormant, frozenset({Stage.ACTIVE}))
def _stage_only(state: PartnershipState, event: e.Event, version: int) -> dict[str, Any]:
    return {}  # the stage the event leads to (events.STAGE_AFTER) is all that changes


@evolves(e.MeetingRecorded, TALKING)
def _meeting(state: PartnershipState, event: e.MeetingRecorded, version: int) -> dict[str, Any]:
    record = MeetingRecord(version=version, **_carried_over(event))
    return {"meetings": [*state.meetings, record]}


@evolves(e.MemorandumDrafted, frozenset({Stage.IN_TALKS}))
def _drafted(state: PartnershipState, event: e.MemorandumDrafted, version: int) -> dict[str, Any]:
    if event.draft_version != len(state.drafts) + 1:
        raise IllegalEvent(
            f"draft_version {event.draft_version} out of sequence (next is {len(state.drafts) + 1})"
        )
    draft = DraftRecord(version=version, **_carried_over(event, "text"))
    return {"drafts": [*state.drafts, draft]}


@evolves(e.ApprovalRecorded, BEFORE_SIGNING)
def _approved(state: PartnershipState, event: e.ApprovalRecorded, version: int) -> dict[str, Any]:
    approval = ApprovalRecord(version=version, **_carried_over(event))
    return {"approvals": [*state.approvals, approval]}


@evolves(e.ProposalRejected, BEFORE_SIGNING)
@evolves(e.Withdrawn, BEFORE_SIGNING)
@evolves(e.Terminated, ACTIVE_STAGES)
def _closed(
    state: PartnershipState,
    event: e.ProposalRejected | e.Withdrawn | e.Terminated,
    version: int,
) -> dict[str, Any]:
    return {"closing_reason": event.reason}


@evolves(e.MemorandumSigned, frozenset({Stage.IN_TALKS}))
def _signed(state: PartnershipState, event: e.MemorandumSigned, version: int) -> dict[str, Any]:
    if not 1 <= event.draft_version <= len(state.drafts):
        raise IllegalEvent(f"signing unknown draft {event.draft_version}")
    if state.missing_approvals():
        raise IllegalEvent("signing while a required approval is missing")
    return {
        "signing": SigningRecord(
            version=version,
            date=event.date,
            place=event.place,
            draft_version=event.draft_version,
            signatories=event.signatories,
        ),
        "signed_at": event.at,
        "term_started_at": event.at,
        "expires_at": event.expires_at,
    }


@evolves(e.ExchangeRecorded, frozenset({Stage.ACTIVE}))
def _exchanged(state: PartnershipState, event: e.ExchangeRecorded, version: int) -> dict[str, Any]:
    exchange = ExchangeRecord(version=version, **_carried_over(event))
    return {"exchanges": [*state.exchanges, exchange], "last_exchange_at": event.at}


@evolves(e.InvitationExtended, TALKING)
def _invited(state: PartnershipState, event: e.InvitationExtended, version: int) -> dict[str, Any]:
    if state.invitation(event.invitation_id) is not None:
        raise IllegalEvent(f"invitation {event.invitation_id} extended twice")
    invitation = InvitationRecord(version=version, **_carried_over(event))
    return {"invitations": [*state.invitations, invitation]}


@evolves(e.InvitationAnswered, TALKING)
def _answered(state: PartnershipState, event: e.InvitationAnswered, version: int) -> dict[str, Any]:
    found = state.invitation(event.invitation_id)
    if found is None or found.accepted is not None:
        raise IllegalEvent(f"answer to unknown or answered {event.invitation_id}")
    return {
        "invitations": [
            i.model_copy(update={"accepted": event.accepted, "note": event.note})
            if i.invitation_id == event.invitation_id
            else i
            for i in state.invitations
        ]
    }


@evolves(e.Upgraded, frozenset({Stage.ACTIVE}))
def _upgraded(state: PartnershipState, event: e.Upgraded, version: int) -> dict[str, Any]:
    if event.from_tier != state.tier or event.to_tier.rank <= state.tier.rank:
        raise IllegalEvent(
            f"upgrade from {event.from_tier.value} to {event.to_tier.value}"
            f" while the tier is {state.tier.value}"
        )
    return {"tier": event.to_tier}


@evolves(e.Renewed, ACTIVE_STAGES)
def _renewed(state: PartnershipState, event: e.Renewed, version: int) -> dict[str, Any]:
    return {
        "expires_at": event.expires_at,
        "term_started_at": event.at,
        "renewal_due_noted": False,
        "policy": Policy.model_validate({**state.policy.model_dump(), "term": event.term}),
    }


@evolves(e.Corrected, NON_TERMINAL)
def _corrected(state: PartnershipState, event: e.Corrected, version: int) -> dict[str, Any]:
    target = find_correctable(state, event.target_version)
    if target is None:
        raise IllegalEvent(f"correction of unknown version {event.target_version}")
    if target[0] != event.target_type:
        raise IllegalEvent(
            f"correction of version {event.target_version} as {event.target_type},"
            f" but it is {target[0]}"
        )
    record = CorrectionRecord(
        version=version,
        target_version=event.target_version,
        target_type=event.target_type,
        reason=event.reason,
        correction=event.correction,
    )
    return {**_apply_correction(state, event), "corrections": [*state.corrections, record]}


@evolves(e.TalksDeadlinePassed, BEFORE_SIGNING)
def _deadline_noted(
    state: PartnershipState, event: e.TalksDeadlinePassed, version: int
) -> dict[str, Any]:
    return {"talks_deadline_noted": True}


@evolves(e.RenewalDue, ACTIVE_STAGES)
def _renewal_noted(state: PartnershipState, event: e.RenewalDue, version: int) -> dict[str, Any]:
    return {"renewal_due_noted": True}


@evolves(e.Expired, ACTIVE_STAGES)
def _expired(state: PartnershipState, event: e.Expired, version: int) -> dict[str, Any]:
    return {"closing_reason": "the term ended without renewal"}


@evolves(e.SignalRejected, EVERY_STAGE)
def _signal_rejected(
    state: PartnershipState, event: e.SignalRejected, version: int
) -> dict[str, Any]:
    rejected = RejectedCommand(
        command=event.command, reason=event.reason, at=event.at, request_id=event.request_id
    )
    return {"rejected": [*state.rejected, rejected][-MAX_REJECTED_IN_STATE:]}


def fold(
    events: Iterable[e.AnyEvent], state: PartnershipState | None = None
) -> PartnershipState | None:
    """Replay events from `state` (versions continue from its version)."""
    version = state.version if state is not None else 0
    for event in events:
        version += 1
        state = evolve(state, event, version)
    return state
