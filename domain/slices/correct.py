"""correct: fix fields of an earlier event; the original stays in the history.

What may be corrected in which event, and how each value is validated, is in
`domain/corrections.py`; this slice finds the target, checks the patch and applies it.

The state keeps only recent records (domain/state.py), so an older target is read from
the event store (`CorrectionTarget`, given to the command by the workflow, which asks the
store in an activity; the store checks its own copy again when it appends). Such a
correction carries `before`: the corrected values the state counts by (an exchange's field
and date), so the counts follow it without the record.
"""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from domain.clock import effective_instant, future
from domain.corrections import CORRECTABLE, correction_model
from domain.errors import IllegalEvent, one_line
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import NON_TERMINAL
from domain.state import CorrectionRecord, PartnershipState, push_recent
from domain.values import Policy, RequiredText


class CorrectionTarget(BaseModel):
    """An earlier event as the event store holds it, for a correction of a record the state
    no longer keeps: its type, and its correctable fields' values with every correction
    made since applied (JSON). `target_type` is None when that event cannot be corrected."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int
    event_type: str
    target_type: str | None = None
    values: dict[str, Any] = {}


class Correct(Command):
    """Correct fields of an earlier event; the original stays in the history."""

    name: ClassVar[str] = "correct"

    target_version: Annotated[int, Field(ge=1)]
    reason: RequiredText
    correction: dict[str, Any] = Field(min_length=1)

    #: The target read from the event store (never from the sender: a private attribute).
    _stored_target: CorrectionTarget | None = PrivateAttr(default=None)

    def with_target(self, target: CorrectionTarget) -> Correct:
        """This command with its target as the event store holds it."""
        copy = self.model_copy()
        copy._stored_target = target
        return copy


class Corrected(Event):
    type: Literal["corrected"] = "corrected"
    target_version: int
    target_type: str
    reason: str
    correction: dict[str, Any]
    #: The corrected values the state counts by, as they were, for a target outside the
    #: state's recent records (None when the state held the target).
    before: dict[str, Any] | None = None

    def summary(self) -> str:
        target = f"version {self.target_version} ({self.target_type})"
        return f"correction of {target}: {', '.join(self.correction)} — {self.reason}"


#: The fields of a record the state counts by (domain/state.py), per target type.
COUNTED: dict[str, tuple[str, ...]] = {
    "exchange_recorded": ("field", "date"),
    "meeting_recorded": ("date",),
}

#: The state's list of records each correctable event type adds to (the proposal and the
#: signing, one each, are found apart).
RECORDS = {
    "meeting_recorded": "meetings",
    "memorandum_drafted": "drafts",
    "approval_recorded": "approvals",
    "exchange_recorded": "exchanges",
    "invitation_extended": "invitations",
}


def find_correctable(state: PartnershipState, version: int) -> tuple[str, Any] | None:
    """The entity created by the event at `version`, if that event can be corrected."""
    if version == state.proposed_version:
        return "proposed", state
    for target_type, attribute in RECORDS.items():
        for record in getattr(state, attribute):
            if record.version == version:
                return target_type, record
    if state.signing is not None and state.signing.version == version:
        return "memorandum_signed", state.signing
    return None


def needs_stored_target(state: PartnershipState, cmd: Correct) -> bool:
    """Whether the target is an earlier event of this life that the state no longer keeps
    (so it must be read from the event store before deciding)."""
    version = cmd.target_version
    return (
        state.proposed_version < version <= state.version
        and find_correctable(state, version) is None
    )


def _not_correctable(state: PartnershipState, version: int) -> Rejection:
    return Rejection(
        f"target_version {version} is not a correctable event"
        f" (the proposal, meetings, drafts, approvals, the signing, exchanges"
        f" and invitations can be corrected; current version is {state.version})"
    )


@command(Correct, NON_TERMINAL)
def correct(state: PartnershipState, cmd: Correct, now: datetime) -> EventsOrRejection:
    before: dict[str, Any] | None = None
    target = find_correctable(state, cmd.target_version)
    if target is not None:
        target_type = target[0]
    else:
        stored = cmd._stored_target  # set by with_target, never by senders
        if (
            stored is None
            or stored.version != cmd.target_version
            or stored.target_type is None
            or not needs_stored_target(state, cmd)
        ):
            return _not_correctable(state, cmd.target_version)
        target_type = stored.target_type
        counted = COUNTED.get(target_type, ())
        before = {k: stored.values.get(k) for k in counted if k in cmd.correction}
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
    if state.effective_clock and target_type != "invitation_extended":
        day = getattr(patch, "date", None)
        refused = future(f"the corrected date of {target_type}", day, now)
        if refused is not None:
            return Rejection(refused)
    if target_type == "proposed" and values.get("policy") is not None:
        # A policy correction changes the timers it names; the others stay as they were
        # (the event records the whole corrected policy, so it reads unambiguously).
        merged = {**state.policy.model_dump(mode="json"), **values["policy"]}
        values["policy"] = Policy.model_validate(merged).model_dump(mode="json")
    return [
        Corrected(
            at=now,
            target_version=cmd.target_version,
            target_type=target_type,
            reason=cmd.reason,
            correction=values,
            before=before,
        )
    ]


def _replace(records: list[Any], version: int, patch: dict[str, Any]) -> list[Any]:
    return [
        type(r).model_validate({**r.model_dump(), **patch}) if r.version == version else r
        for r in records
    ]


def _apply_correction(state: PartnershipState, event: Corrected) -> dict[str, Any]:
    patch = correction_model(event.target_type).model_validate(event.correction)
    values = {k: getattr(patch, k) for k in event.correction}
    v = event.target_version
    if event.target_type == "proposed":
        if "date" in values:
            values["proposed_on"] = values.pop("date")  # the state's name for it
        policy = values.get("policy")
        if policy is not None and state.term_started_at is not None:
            # A corrected term moves the running term's end (and so its timer).
            values["expires_at"] = state.term_started_at + policy.term if policy.term else None
            values["renewal_due_noted"] = False
        return values
    if event.target_type == "memorandum_signed" and state.signing is not None:
        signing = _replace([state.signing], v, patch.model_dump(include=set(values)))[0]
        return {"signing": signing, **_moved_term(state, signing.date)}
    attribute = RECORDS[event.target_type]
    records = getattr(state, attribute)
    old = next((r for r in records if r.version == v), None)
    changes: dict[str, Any] = {}
    if old is not None:
        changes[attribute] = _replace(records, v, patch.model_dump(include=set(values)))
    before = (
        {k: getattr(old, k) for k in COUNTED.get(event.target_type, ())}
        if old is not None
        else _parsed_before(event)
    )
    changes.update(_recounted(state, event.target_type, before, values, changes.get(attribute)))
    return changes


def _parsed_before(event: Corrected) -> dict[str, Any]:
    """The counted values a correction of a record outside the state carried, parsed."""
    if not event.before:
        return {}
    model = correction_model(event.target_type)
    known = {k: v for k, v in event.before.items() if v is not None and k in model.model_fields}
    try:
        patch = model.model_validate(known)
    except ValidationError:
        return {}
    return {k: getattr(patch, k) for k in known}


def _recounted(
    state: PartnershipState,
    target_type: str,
    before: dict[str, Any],
    after: dict[str, Any],
    window: list[Any] | None,
) -> dict[str, Any]:
    """The counts and latest dates after a correction of a counted field."""
    changes: dict[str, Any] = {}
    if target_type == "exchange_recorded":
        old_field, new_field = before.get("field"), after.get("field")
        if old_field is not None and new_field is not None and old_field != new_field:
            by_field = dict(state.exchanges_by_field)
            by_field[old_field.value] = by_field.get(old_field.value, 0) - 1
            if by_field[old_field.value] <= 0:
                del by_field[old_field.value]
            by_field[new_field.value] = by_field.get(new_field.value, 0) + 1
            changes["exchanges_by_field"] = by_field
        latest = _latest_day(state.last_exchange_on, before.get("date"), after.get("date"), window)
        if latest != state.last_exchange_on:
            changes["last_exchange_on"] = latest
    if target_type == "meeting_recorded":
        latest = _latest_day(state.last_meeting_on, before.get("date"), after.get("date"), window)
        if latest != state.last_meeting_on:
            changes["last_meeting_on"] = latest
    return changes


def _latest_day(current: Any, old: Any, new: Any, window: list[Any] | None) -> Any:
    """The latest date after one record's date moved from `old` to `new`. When the latest
    one moved earlier, the latest of the records the state still keeps (the recent ones:
    where the latest date is, unless an old record was dated later than every recent one)."""
    if new is None or current is None:
        return current
    if new >= current:
        return new
    if old is not None and old == current and window is not None:
        return max((r.date for r in window), default=new)
    if old is not None and old == current:
        return new
    return current


def some_dropped(state: PartnershipState, target_type: str) -> bool:
    """Whether the state let go of some records of this kind (so a target it does not
    hold may still be one of them)."""
    kept = {
        "meeting_recorded": (state.meeting_count, len(state.meetings)),
        "memorandum_drafted": (state.draft_count, len(state.drafts)),
        "approval_recorded": (state.approval_count, len(state.approvals)),
        "exchange_recorded": (state.exchange_count, len(state.exchanges)),
        "invitation_extended": (state.invitation_count, len(state.invitations)),
    }.get(target_type)
    return kept is not None and kept[0] > kept[1]


def _moved_term(state: PartnershipState, signed: Day) -> dict[str, Any]:
    """Under the effective clock a corrected signing date moves the term it started (not a
    term a renewal started since): its end, and so the renewal notice and expiry timers."""
    if not state.effective_clock or state.signing is None or state.term_started_at is None:
        return {}
    recorded = state.signed_at or state.term_started_at
    if state.term_started_at != effective_instant(state.signing.date, recorded):
        return {}  # renewed since: the running term did not start at the signing
    start = effective_instant(signed, recorded)
    term = state.policy.term
    return {
        "term_started_at": start,
        "expires_at": start + term if term else state.expires_at,
        "renewal_due_noted": False if term else state.renewal_due_noted,
    }


@evolves(Corrected, NON_TERMINAL)
def corrected(state: PartnershipState, event: Corrected, version: int) -> dict[str, Any]:
    target = find_correctable(state, event.target_version)
    if target is None:
        # Not a record the state keeps: an earlier event of this life is accepted as the
        # store found it when it appended this one (store/application.py checks the type).
        if not (
            state.proposed_version < event.target_version < version
            and some_dropped(state, event.target_type)
        ):
            raise IllegalEvent(f"correction of unknown version {event.target_version}")
    elif target[0] != event.target_type:
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
    return {
        **_apply_correction(state, event),
        "corrections": push_recent(state.corrections, record, state.keeps_all),
        "correction_count": state.correction_count + 1,
    }
