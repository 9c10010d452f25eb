"""A partnership's current state (what `evolve` builds) and the public `status` view of it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from operator import itemgetter
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, model_validator

from domain.clock import effective_instant, start_of
from domain.values import (
    Decision,
    ExchangeKind,
    FieldOfCooperation,
    Party,
    Person,
    Policy,
    RequiredApproval,
    Side,
    SidedPerson,
    Stage,
    Tier,
)

#: status.rejected keeps the latest signals that were not applied; the store keeps all.
MAX_REJECTED_IN_STATE = 50
#: How many recent records of each kind (meetings, drafts, exchanges, answered invitations,
#: corrections, approvals by authorities not required) the state keeps for people to read
#: in `status`; the counts say how many exist and the event store holds them all. This is
#: what keeps a partnership's working state the same size after fifty years as after one.
RECENT = 20
#: ... and within about this many bytes per kind: a few records of hundreds of
#: participants each would otherwise fill the state that one workflow run hands the next.
RECENT_BYTES = 64_000
#: A record under this size joins a window without measuring the others (the window then
#: holds at most RECENT_BYTES + RECENT * SMALL_RECORD bytes; see `push_recent`).
SMALL_RECORD = 1_000
#: At most this many invitations are open at once (each is kept until it is answered).
MAX_OPEN_INVITATIONS = 100


class Record(BaseModel):
    """An entity inside the state; `version` is the event that created it (for `correct`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    version: int


def carried_over(event: BaseModel, *leave: str) -> dict[str, Any]:
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

RecordT = TypeVar("RecordT", bound="Record")


def record_of(cls: type[RecordT], event: BaseModel, version: int, *leave: str) -> RecordT:
    """`cls(version=version, **carried_over(event, *leave))`: the same record (its fields,
    their order, the fields set, its JSON), without validating again what validating the
    event did: validation made a fifth of `evolve`'s time in a rebuild of the read models.

    Taken only when validating could change nothing (checked once per pair of classes,
    `_carry_plan`): every field carried over has the same type and constraints in the
    record as in the event, the record has no validators and no private attributes.
    Otherwise the record is validated as before. Lists are copied, as validation copies
    them, so a record shares no list with its event."""
    key = (cls, type(event), leave)
    plan = _CARRY_PLANS.get(key)
    if plan is None:
        plan = _CARRY_PLANS[key] = _carry_plan(cls, type(event), leave)
    if plan is _VALIDATE:
        return cls(version=version, **carried_over(event, *leave))
    template, carried, take, copied, fields_set = plan
    values = template.copy()  # the record's fields in its order, defaults filled in
    values["version"] = version
    values.update(zip(carried, take(event.__dict__), strict=True))
    for name in copied:
        value = values[name]
        if type(value) in _COPIED:
            values[name] = value.copy()
    record = _new_object(cls)
    _set_attribute(record, "__dict__", values)
    _set_attribute(record, "__pydantic_fields_set__", set(fields_set))
    _set_attribute(record, "__pydantic_extra__", None)
    _set_attribute(record, "__pydantic_private__", None)
    return record


#: Containers validation rebuilds (so a record gets its own, not its event's).
_COPIED = (list, dict)
#: How `record_of` makes a record: its fields in order with the defaults (a template), the
#: names carried over from the event and a getter of their values (as a tuple), those
#: whose value may be a list or dict (copied), and the fields set; or _VALIDATE.
CarryPlan = tuple[
    dict[str, Any],
    tuple[str, ...],
    Callable[[dict[str, Any]], tuple[Any, ...]],
    tuple[str, ...],
    frozenset[str],
]
_VALIDATE: CarryPlan = ({}, (), tuple, (), frozenset())
_CARRY_PLANS: dict[tuple[type, type, tuple[str, ...]], CarryPlan] = {}


def _carry_plan(cls: type[BaseModel], event: type[BaseModel], leave: tuple[str, ...]) -> CarryPlan:
    """How to build `cls` from `event` without validation, or _VALIDATE when validating
    could change or refuse something."""
    skip = {"type", "at", *leave}
    carried = [name for name in event.model_fields if name not in skip]
    fields = cls.model_fields
    decorators = cls.__pydantic_decorators__
    if (
        cls.__private_attributes__
        or cls.model_config.get("extra") != "forbid"
        or set(cls.model_config) - {"frozen", "extra"}
        or any(
            (decorators.validators, decorators.field_validators, decorators.root_validators),
        )
        or decorators.model_validators
        or decorators.field_serializers
        or decorators.model_serializers
        or fields.get("version") is None
        or fields["version"].annotation is not int
        or "version" in carried
    ):
        return _VALIDATE
    for name in carried:
        if name not in fields:
            return _VALIDATE  # validation would refuse the extra field
        mine, theirs = fields[name], event.model_fields[name]
        if mine.annotation != theirs.annotation or mine.metadata != theirs.metadata:
            return _VALIDATE
    template: dict[str, Any] = {}
    copied: list[str] = []
    for name, info in fields.items():
        if name != "version" and name not in carried:
            if info.is_required() or info.default_factory is not None:
                return _VALIDATE
            template[name] = info.default
        else:
            template[name] = None
        if _may_hold_containers(info.annotation):
            copied.append(name)
    if not carried:
        return _VALIDATE
    take = itemgetter(*carried) if len(carried) > 1 else _one(carried[0])
    return template, tuple(carried), take, tuple(copied), frozenset({"version", *carried})


def _one(name: str) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A getter of one field's value as a tuple (itemgetter of one name gives the value)."""
    get = itemgetter(name)
    return lambda values: (get(values),)


def _may_hold_containers(annotation: Any) -> bool:
    """Whether a field of this type may hold a list or a dict (validation makes a new one)."""
    origin = get_origin(annotation)
    if annotation in _COPIED or origin in _COPIED:
        return True
    return origin is not None and any(_may_hold_containers(arg) for arg in get_args(annotation))


class MeetingRecord(Record):
    date: Day
    place: str
    delegation: list[SidedPerson]
    counterparts: list[Person] = []
    topics: list[str] = []
    outcome: str | None = None


class DraftRecord(Record):
    draft_version: int
    title: str
    languages: list[str]
    text_sha256: str
    fields: list[FieldOfCooperation]
    date: Day | None = None


class ApprovalRecord(Record):
    side: Side
    authority: str
    decision: Decision
    required: bool
    reference: str | None = None
    date: Day | None = None


class SigningRecord(Record):
    date: Day
    place: str
    draft_version: int
    signatories: list[SidedPerson]


class ExchangeRecord(Record):
    date: Day
    field: FieldOfCooperation
    kind: ExchangeKind
    title: str
    participants: list[Person] = []
    outcome: str | None = None


class InvitationRecord(Record):
    invitation_id: str
    event: str
    date: Day | None = None
    from_side: Side
    to_side: Side
    accepted: bool | None = None
    note: str | None = None


class RejectedCommand(BaseModel):
    model_config = ConfigDict(frozen=True)
    command: str
    reason: str
    at: datetime
    request_id: str | None = None


class CorrectionRecord(Record):
    target_version: int
    target_type: str
    reason: str
    correction: dict[str, Any]


class PartnershipState(BaseModel):
    """Everything the rules need, rebuilt by folding events with `evolve`.

    Its size does not depend on how many records the partnership has: counts, the latest
    dates, the latest decision of each authority, the open invitations and short windows
    of recent records (RECENT). Whatever needs a full record reads it from the event store.
    A state carried in the older shape (every record in lists) is folded into this one as
    it is read (`_fold_old_lists`), so runs and snapshots from before keep loading.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    partnership_id: str
    stage: Stage
    tier: Tier
    initiator: Party
    partner: Party
    proposed_by: SidedPerson
    fields: list[FieldOfCooperation]
    rationale: str | None = None
    required_approvals: list[RequiredApproval] = []
    policy: Policy = Policy()
    proposed_at: datetime
    #: The effective dates of the first steps, where the commands gave them.
    proposed_on: Day | None = None
    talks_opened_on: Day | None = None
    #: The business clock (domain/clock.py): timers run from effective dates. False for
    #: partnerships proposed before it, whose timers run from recording times.
    effective_clock: bool = False
    proposed_version: int
    stage_since: datetime
    #: The latest RECENT meetings; `meeting_count` of them exist.
    meetings: list[MeetingRecord] = []
    meeting_count: int = 0
    last_meeting_on: Day | None = None
    #: The latest RECENT drafts; drafts are numbered 1..`draft_count`.
    drafts: list[DraftRecord] = []
    draft_count: int = 0
    #: The latest decision of each authority (`approval_count` decisions recorded).
    approvals: list[ApprovalRecord] = []
    approval_count: int = 0
    signing: SigningRecord | None = None
    signed_at: datetime | None = None
    #: The latest RECENT exchanges; the counts cover all of them.
    exchanges: list[ExchangeRecord] = []
    exchange_count: int = 0
    exchanges_by_field: dict[str, int] = {}
    last_exchange_at: datetime | None = None
    last_exchange_on: Day | None = None
    #: Every open invitation and the latest RECENT answered ones, in the order extended.
    invitations: list[InvitationRecord] = []
    invitation_count: int = 0
    term_started_at: datetime | None = None
    expires_at: datetime | None = None
    talks_deadline_noted: bool = False
    renewal_due_noted: bool = False
    rejected: list[RejectedCommand] = []
    #: The latest RECENT corrections; `correction_count` of them exist.
    corrections: list[CorrectionRecord] = []
    correction_count: int = 0
    closing_reason: str | None = None
    version: int = 0

    #: Keep every record, as states did before they were bounded: only for a workflow run
    #: from before (replayed, it must decide exactly as it did then). Never serialised.
    _keep_all: bool = PrivateAttr(default=False)

    @model_validator(mode="before")
    @classmethod
    def _fold_old_lists(cls, data: Any, info: ValidationInfo) -> Any:
        """A state in the older shape (no counts, every record listed) as the bounded one
        (with the context {KEEP_ALL: True}: counted, but every record kept)."""
        if not isinstance(data, dict) or "exchange_count" in data:
            return data
        return fold_old_lists(data, keep_all=bool(info.context and info.context.get(KEEP_ALL)))

    @property
    def keeps_all(self) -> bool:
        # Read from the private dict directly: pydantic's attribute lookup for private
        # attributes costs more than the rest of an exchange's evolution.
        private = self.__pydantic_private__
        return bool(private and private.get("_keep_all"))

    def keeping_all(self) -> PartnershipState:
        """This state, keeping every record from now on (a run from before, replayed)."""
        if self._keep_all:
            return self
        copy = self.model_copy()
        copy._keep_all = True
        return copy

    def size(self) -> int:
        """The bytes of this state's JSON (a run from before: as it measured it then)."""
        exclude = set(COUNTS) if self._keep_all else None
        return len(self.model_dump_json(exclude=exclude))

    def bounded(self) -> PartnershipState:
        """This state with only the records a bounded state keeps (the counts stay)."""
        approvals: list[ApprovalRecord] = []
        for approval in self.approvals:
            approvals = with_approval(self.required_approvals, approvals, approval, False)
        invitations: list[InvitationRecord] = []
        for invitation in self.invitations:
            invitations = with_invitation(invitations, invitation, False)
        return self.model_copy(
            update={
                "meetings": trim_to_budget(self.meetings[-RECENT:]),
                "drafts": trim_to_budget(self.drafts[-RECENT:]),
                "approvals": approvals,
                "exchanges": trim_to_budget(self.exchanges[-RECENT:]),
                "invitations": invitations,
                "corrections": trim_to_budget(self.corrections[-RECENT:]),
            }
        )

    def approval_for(self, side: Side, authority: str) -> ApprovalRecord | None:
        """The latest recorded decision of one authority."""
        key = authority.casefold()
        for approval in reversed(self.approvals):
            if approval.side == side and approval.authority.casefold() == key:
                return approval
        return None

    def missing_approvals(self) -> list[RequiredApproval]:
        return [
            required
            for required in self.required_approvals
            if (found := self.approval_for(required.side, required.authority)) is None
            or found.decision != Decision.GRANTED
        ]

    def invitation(self, invitation_id: str) -> InvitationRecord | None:
        for invitation in self.invitations:
            if invitation.invitation_id == invitation_id:
                return invitation
        return None

    def open_invitations(self) -> list[InvitationRecord]:
        return [i for i in self.invitations if i.accepted is None]

    def idle_since(self) -> datetime | None:
        """When the dormancy clock started: the last exchange, else the signing (by their
        dates under the effective clock, by when they were recorded before it)."""
        if not self.effective_clock:
            return self.last_exchange_at or self.signed_at
        # The latest exchange date over all of them (the state keeps only recent records).
        days = [self.last_exchange_on] if self.last_exchange_on is not None else []
        days += [self.signing.date] if self.signing is not None else []
        if not days:
            return None
        recorded = self.last_exchange_at or self.signed_at
        return effective_instant(max(days), recorded) if recorded else start_of(max(days))

    def talks_deadline_at(self) -> datetime | None:
        if self.policy.talks_deadline is None:
            return None
        if self.effective_clock and self.proposed_on is not None:
            began = effective_instant(self.proposed_on, self.proposed_at)
            return began + self.policy.talks_deadline
        return self.proposed_at + self.policy.talks_deadline


_new_object = object.__new__
_set_attribute = object.__setattr__


def updated(state: PartnershipState, changes: dict[str, Any]) -> PartnershipState:
    """`state.model_copy(update=changes)`, the same object to the attribute (fields, the
    fields set, private attributes; like it, no validation of `changes`), without going
    through `copy.copy` three times per call: `evolve` makes one per event, and pydantic's
    generic copy was a tenth of rebuilding the read models."""
    cls = type(state)
    copied = _new_object(cls)
    fields = state.__dict__.copy()
    fields.update(changes)
    _set_attribute(copied, "__dict__", fields)
    _set_attribute(copied, "__pydantic_extra__", None)  # extra="forbid": never any
    _set_attribute(
        copied, "__pydantic_fields_set__", state.__pydantic_fields_set__ | changes.keys()
    )
    # pydantic's copy leaves out private attributes never set; every one of this model's
    # has a default, so none is ever unset (tests/domain/test_state_copy.py holds to it).
    private = state.__pydantic_private__
    _set_attribute(copied, "__pydantic_private__", None if private is None else private.copy())
    return copied


R = TypeVar("R", bound=BaseModel)


def _size(record: BaseModel) -> int:
    return len(record.__pydantic_serializer__.to_json(record))


#: The fields a bounded state added to the earlier shape.
COUNTS = frozenset(
    {
        "meeting_count",
        "last_meeting_on",
        "draft_count",
        "approval_count",
        "exchange_count",
        "exchanges_by_field",
        "last_exchange_on",
        "invitation_count",
        "correction_count",
    }
)

#: Validation context key: fold an older state's lists into counts but keep every record.
KEEP_ALL = "keep_all"


def push_recent(records: list[R], record: R, keep_all: bool = False) -> list[R]:
    """`records` with `record` appended, keeping the latest RECENT within RECENT_BYTES.

    Only a large record makes the window measure itself: small ones add at most
    RECENT * SMALL_RECORD bytes between two measures, which bounds the window anyway.
    """
    if keep_all:
        return [*records, record]
    window = [*records[-(RECENT - 1) :], record]
    if _size(record) <= SMALL_RECORD:
        return window
    return trim_to_budget(window)


def trim_to_budget(window: list[R], budget: int = RECENT_BYTES) -> list[R]:
    """The newest records of `window` whose sizes add up to `budget` (the newest always)."""
    kept: list[R] = []
    total = 0
    for record in reversed(window):
        total += _size(record)
        if kept and total > budget:
            break
        kept.append(record)
    return kept[::-1]


def with_invitation(
    invitations: list[InvitationRecord], changed: InvitationRecord, keep_all: bool
) -> list[InvitationRecord]:
    """Every open invitation and the latest RECENT answered ones, in the order extended."""
    others = [i for i in invitations if i.invitation_id != changed.invitation_id]
    open_ones = [i for i in others if i.accepted is None]
    answered = [i for i in others if i.accepted is not None]
    if changed.accepted is None:
        open_ones.append(changed)
    else:
        answered = push_recent(answered, changed, keep_all)
    return sorted([*open_ones, *answered], key=lambda i: i.version)


def with_approval(
    required_approvals: list[RequiredApproval],
    approvals: list[ApprovalRecord],
    approval: ApprovalRecord,
    keep_all: bool,
) -> list[ApprovalRecord]:
    """The latest decision per (side, authority): required authorities always kept, the
    others only the latest RECENT."""
    if keep_all:
        return [*approvals, approval]
    key = (approval.side, approval.authority.casefold())
    kept = [a for a in approvals if (a.side, a.authority.casefold()) != key]
    kept.append(approval)
    required = {(r.side, r.authority.casefold()) for r in required_approvals}
    others = [a for a in kept if (a.side, a.authority.casefold()) not in required]
    drop = {id(a) for a in others[: max(0, len(others) - RECENT)]}
    return [a for a in kept if id(a) not in drop]


def _value(item: Any, name: str) -> Any:
    return item.get(name) if isinstance(item, dict) else getattr(item, name, None)


def _day(value: Any) -> Day | None:
    if value is None or isinstance(value, Day):
        return value
    return Day.fromisoformat(str(value))


def fold_old_lists(data: dict[str, Any], keep_all: bool = False) -> dict[str, Any]:
    """The older state shape (every record in a list) folded into counts and windows
    (`keep_all`: counted, every record kept)."""
    data = dict(data)
    meetings = list(data.get("meetings") or [])
    drafts = list(data.get("drafts") or [])
    approvals = list(data.get("approvals") or [])
    exchanges = list(data.get("exchanges") or [])
    invitations = list(data.get("invitations") or [])
    corrections = list(data.get("corrections") or [])
    meeting_days = [d for m in meetings if (d := _day(_value(m, "date"))) is not None]
    exchange_days = [d for e in exchanges if (d := _day(_value(e, "date"))) is not None]
    by_field: dict[str, int] = {}
    for exchange in exchanges:
        field = _value(exchange, "field")
        name = str(getattr(field, "value", field))
        by_field[name] = by_field.get(name, 0) + 1
    latest: dict[tuple[str, str], Any] = {}
    for approval in approvals:
        side = _value(approval, "side")
        key = (str(getattr(side, "value", side)), str(_value(approval, "authority")).casefold())
        latest.pop(key, None)
        latest[key] = approval
    answered = [i for i in invitations if _value(i, "accepted") is not None]
    recent_answers = {id(i) for i in answered[-RECENT:]}
    counts = {
        "meeting_count": len(meetings),
        "last_meeting_on": max(meeting_days, default=None),
        "draft_count": len(drafts),
        "approval_count": len(approvals),
        "exchange_count": len(exchanges),
        "exchanges_by_field": by_field,
        "last_exchange_on": max(exchange_days, default=None),
        "invitation_count": len(invitations),
        "correction_count": len(corrections),
    }
    data.update(counts)
    if keep_all:
        return data
    data.update(
        meetings=meetings[-RECENT:],
        drafts=drafts[-RECENT:],
        approvals=list(latest.values()),
        exchanges=exchanges[-RECENT:],
        invitations=[
            i for i in invitations if _value(i, "accepted") is None or id(i) in recent_answers
        ],
        corrections=corrections[-RECENT:],
    )
    return data


class CommandOutcome(BaseModel):
    """What one command did: returned inside `status` by every Update."""

    command: str
    request_id: str
    version: int = Field(description="The aggregate version after this command")
    duplicate: bool = Field(
        default=False, description="True when this request_id had already been applied"
    )
    draft_version: int | None = None
    invitation_id: str | None = None


class Status(BaseModel):
    """The public `status` object (query result and Update result)."""

    partnership_id: str
    stage: Stage
    stage_since: datetime
    tier: Tier
    initiator: Party
    partner: Party
    proposed_by: SidedPerson
    proposed_on: Day | None = None
    talks_opened_on: Day | None = None
    fields: list[FieldOfCooperation]
    rationale: str | None
    required_approvals: list[RequiredApproval]
    missing_approvals: list[RequiredApproval]
    policy: Policy
    meetings: list[MeetingRecord] = Field(description="The latest meetings (at most RECENT)")
    meeting_count: int = 0
    last_meeting_on: Day | None = None
    drafts: list[DraftRecord] = Field(description="The latest drafts (at most RECENT)")
    draft_count: int = 0
    approvals: list[ApprovalRecord] = Field(description="The latest decision of each authority")
    approval_count: int = 0
    signed_on: Day | None
    signing: SigningRecord | None
    exchanges: dict[str, int]
    exchange_count: int
    recent_exchanges: list[ExchangeRecord] = []
    last_exchange_on: Day | None
    invitations: list[InvitationRecord] = Field(
        description="Open invitations and the latest answered ones"
    )
    invitation_count: int = 0
    open_invitations: list[InvitationRecord]
    expires_on: datetime | None
    talks_deadline: datetime | None
    corrections: list[CorrectionRecord] = Field(description="The latest corrections")
    correction_count: int = 0
    rejected: list[RejectedCommand]
    closing_reason: str | None
    version: int
    outcome: CommandOutcome | None = None


def to_status(state: PartnershipState, outcome: CommandOutcome | None = None) -> Status:
    """Render the public view; counts instead of long lists where the contract says so."""
    return Status(
        partnership_id=state.partnership_id,
        stage=state.stage,
        stage_since=state.stage_since,
        tier=state.tier,
        initiator=state.initiator,
        partner=state.partner,
        proposed_by=state.proposed_by,
        proposed_on=state.proposed_on,
        talks_opened_on=state.talks_opened_on,
        fields=state.fields,
        rationale=state.rationale,
        required_approvals=state.required_approvals,
        missing_approvals=state.missing_approvals(),
        policy=state.policy,
        meetings=state.meetings,
        meeting_count=state.meeting_count,
        last_meeting_on=state.last_meeting_on,
        drafts=state.drafts,
        draft_count=state.draft_count,
        approvals=state.approvals,
        approval_count=state.approval_count,
        signed_on=state.signing.date if state.signing else None,
        signing=state.signing,
        exchanges=dict(state.exchanges_by_field),
        exchange_count=state.exchange_count,
        recent_exchanges=state.exchanges,
        last_exchange_on=state.last_exchange_on,
        invitations=state.invitations,
        invitation_count=state.invitation_count,
        open_invitations=state.open_invitations(),
        expires_on=state.expires_at,
        talks_deadline=state.talks_deadline_at(),
        corrections=state.corrections,
        correction_count=state.correction_count,
        rejected=state.rejected,
        closing_reason=state.closing_reason,
        version=state.version,
        outcome=outcome,
    )
