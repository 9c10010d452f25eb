"""Payloads between the workflow and its activities (pydantic, through Temporal's converter)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from domain.events import AnyEvent


class RecordRequest(BaseModel):
    """Append one command's events to the store, exactly once."""

    partnership_id: str
    workflow_id: str
    run_id: str
    command: str
    via: str
    actor: str
    request_id: str
    expected_version: int | None = Field(
        description="The version the workflow believes is stored; None for a proposal"
    )
    events: list[AnyEvent] = Field(min_length=1)


class RecordResult(BaseModel):
    """The store's version after the command; `duplicate` when it was stored before."""

    version: int
    duplicate: bool = False
    events: list[AnyEvent] | None = Field(
        default=None,
        description="The events as stored when the store wrote them otherwise than asked:"
        " a forgotten person's name replaced by [forgotten] (the workflow folds these)",
    )


class TargetRequest(BaseModel):
    """Read one earlier event of a partnership (a correction's target) from the store."""

    partnership_id: str
    version: int
