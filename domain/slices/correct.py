"""correct: fix fields of an earlier event; the original stays in the history.

What may be corrected in which event, and how each value is validated, is in
`domain/corrections.py`; this slice finds the target, checks the patch and applies it.
"""

from __future__ import annotations

from datetime import date as Day  # noqa: N812 - `date` is also a field name
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, ValidationError

from domain.clock import effective_instant, future
from domain.corrections import CORRECTABLE, correction_model
from domain.errors import IllegalEvent, one_line
from domain.messages import Command, Event
from domain.registry import EventsOrRejection, Rejection, command, evolves
from domain.stages import NON_TERMINAL
from domain.state import CorrectionRecord, PartnershipState
from domain.values import Policy, RequiredText


class Correct(Command):
    """Correct fields of an earlier event; the original stays in the history."""

    name: ClassVar[str] = "correct"

    target_version: Annotated[int, Field(ge=1)]
    reason: RequiredText
    correction: dict[str, Any] = Field(min_length=1)


class Corrected(Event):
    type: Literal["corrected"] = "corrected"
    target_version: int
    target_type: str
    reason: str
    correction: dict[str, Any]

    def summary(self) -> str:
        target = f"version {self.target_version} ({self.target_type})"
        return f"correction of {target}: {', '.join(self.correction)} — {self.reason}"


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


@command(Correct, NON_TERMINAL)
def correct(state: PartnershipState, cmd: Correct, now: datetime) -> EventsOrRejection:
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
    return {
        attribute: _replace(getattr(state, attribute), v, patch.model_dump(include=set(values)))
    }


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
