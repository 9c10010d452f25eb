"""Synthetic but legal histories, written fast: the story's events through the store's
own mapper (canonical JSON), copied per partnership and inserted with the store's own
recorder in big batches (one transaction per batch), beside the time index the store
keeps. Nothing goes through Temporal, so a million events take seconds, and every byte
has exactly the format `PartnershipStore.append` writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from amity import story
from domain.aggregate import PartnershipEvent
from domain.decider import decide, evolve
from domain.events import AnyEvent
from domain.identity import aggregate_id
from domain.parsing import parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.propose import decide_proposal
from store.application import CommandMeta, PartnershipStore
from store.time_index import EVENT_TIMES, recorded_micros

#: Every id has this width, so swapping ids inside the JSON keeps it canonical.
ID_WIDTH = 8
TEMPLATE_ID = "partnership-bench-" + "0" * ID_WIDTH
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def bench_id(number: int, prefix: str = "partnership-bench-") -> str:
    return f"{prefix}{number:0{ID_WIDTH}d}"


def story_commands(partnership_id: str) -> list[tuple[str, dict[str, Any], list[AnyEvent]]]:
    """(command, payload, events) of the whole story for one partnership, decided here."""
    proposal = parse_proposal(story.proposal())
    proposed = decide_proposal(partnership_id, proposal, NOW)
    out: list[tuple[str, dict[str, Any], list[AnyEvent]]] = [
        ("propose", story.proposal(), proposed)
    ]
    state = evolve(None, proposed[0], 1)
    for name, payload in story.steps():
        decision = decide(state, parse_command(name, payload), NOW)
        assert not isinstance(decision, Rejection), decision.reason
        for event in decision:
            state = evolve(state, event, state.version + 1)
        out.append((name, payload, decision))
    return out


def envelopes(partnership_id: str) -> list[tuple[str, PartnershipEvent]]:
    """The stored envelopes of the story, as `append` would make them (command, event)."""
    out = []
    version = 0
    for command, payload, events in story_commands(partnership_id):
        for event in events:
            version += 1
            out.append(
                (
                    command,
                    PartnershipEvent(
                        originator_id=aggregate_id(partnership_id),
                        originator_version=version,
                        timestamp=NOW,
                        command=command,
                        via="update",
                        actor=str(payload.get("actor") or "bench"),
                        request_id=str(payload.get("request_id") or f"{command}-{version}"),
                        workflow_id=partnership_id,
                        run_id="00000000-0000-4000-8000-000000000000",
                        event=event,
                    ),
                )
            )
    return out


@dataclass(frozen=True)
class Template:
    """The story's stored rows for TEMPLATE_ID: (command, version, topic, state bytes)."""

    rows: list[tuple[str, int, str, bytes]]
    micros: int

    @property
    def events_per_partnership(self) -> int:
        return len(self.rows)


def template(store: PartnershipStore) -> Template:
    rows = []
    for command, envelope in envelopes(TEMPLATE_ID):
        stored = store.mapper.to_stored_event(envelope)
        rows.append((command, stored.originator_version, stored.topic, stored.state))
    return Template(rows, recorded_micros(NOW))


def story_rows(
    tmpl: Template, total: int, first: int = 0
) -> Iterator[tuple[UUID, str, int, str, bytes]]:
    """`total` rows: whole stories of partnerships first, first+1, ... (the last may be cut)."""
    written, number = 0, first
    needle = TEMPLATE_ID.encode()
    while written < total:
        partnership_id = bench_id(number)
        originator = aggregate_id(partnership_id)
        replacement = partnership_id.encode()
        for command, version, topic, state in tmpl.rows:
            if written == total:
                return
            yield originator, command, version, topic, state.replace(needle, replacement)
            written += 1
        number += 1


def write_log(store: PartnershipStore, total: int, batch: int = 20_000) -> int:
    """Append `total` story events (whole partnerships, the last one possibly cut short)."""
    tmpl = template(store)
    pending: list[StoredEvent] = []
    times: list[tuple[UUID, int, int]] = []
    for originator, _command, version, topic, state in story_rows(tmpl, total):
        pending.append(StoredEvent(originator, version, topic, state))
        times.append((originator, version, tmpl.micros))
        if len(pending) >= batch:
            store.recorder.insert_events(pending, **{EVENT_TIMES: times})
            pending, times = [], []
    if pending:
        store.recorder.insert_events(pending, **{EVENT_TIMES: times})
    return total


def write_long_partnership(
    store: PartnershipStore, partnership_id: str, total: int, per_command: int = 500
) -> int:
    """One partnership of `total` events: the story, then exchanges, through `append`
    (so the store takes its snapshots exactly as in production)."""
    commands = story_commands(partnership_id)
    written = 0
    for command, payload, events in commands:
        store.append(
            partnership_id, events, meta(command, payload, partnership_id), written or None
        )
        written += len(events)
    exchange = next(events for command, _p, events in commands if command == "record_exchange")
    number = 0
    while written < total:
        count = min(per_command, total - written)
        number += 1
        store.append(
            partnership_id,
            exchange * count,
            meta("record_exchange", {"request_id": f"bulk-{number}"}, partnership_id),
            written,
        )
        written += count
    return written


def meta(command: str, payload: dict[str, Any], partnership_id: str) -> CommandMeta:
    return CommandMeta(
        command=command,
        actor=str(payload.get("actor") or "bench"),
        request_id=str(payload.get("request_id") or f"{command}-bench"),
        workflow_id=partnership_id,
        run_id="00000000-0000-4000-8000-000000000000",
    )
