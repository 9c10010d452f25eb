"""The event store: an `eventsourcing` application over SQLite (default) or PostgreSQL.

One save per command (never one per event): a command's events land together or not
at all. Appends are optimistic: the caller says which version it expects, and a repeat
of a command already stored (same `request_id`) returns the earlier result instead of
writing again. That is what makes Temporal's at-least-once activities exactly-once here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    Notification,
    RecordConflictError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic, resolve_topic

from domain.aggregate import Partnership, PartnershipEvent
from domain.decider import IllegalEvent, evolve
from domain.events import AnyEvent
from domain.identity import aggregate_id
from domain.state import PartnershipState

DEFAULT_STORE_URL = "sqlite:///var/events.db"


class StoreConfigError(ValueError):
    """AMITY_EVENT_STORE_URL cannot be used; the message says why in one line."""


class StoreConflict(RuntimeError):
    """The store holds other events where this command expected to append (a real error)."""


def store_env(url: str) -> dict[str, str]:
    """Translate AMITY_EVENT_STORE_URL into the library's environment."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory:
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreConfigError(f"sqlite URL needs a file path, e.g. {DEFAULT_STORE_URL}")
        if path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path if path == ":memory:" else str(Path(path).expanduser()),
            "SQLITE_LOCK_TIMEOUT": "30",
        }
    if parsed.scheme in {"postgresql", "postgres", "postgresql+psycopg"}:
        if not parsed.path.strip("/"):
            raise StoreConfigError(
                "postgresql URL needs a database name: postgresql://user:password@host:port/dbname"
            )
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")),
            "POSTGRES_HOST": parsed.hostname or "localhost",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_POOL_SIZE": "10",
            "POSTGRES_MAX_OVERFLOW": "20",
            "POSTGRES_CONNECT_TIMEOUT": "10",
        }
    raise StoreConfigError(
        f"unsupported event store URL scheme {parsed.scheme!r}:"
        " use sqlite:///<path> or postgresql://user:password@host:port/dbname"
    )


class CanonicalJSON(Transcoder):
    """Sorted keys, no spaces, UTF-8: the same event always has the same bytes (for hashing)."""

    def encode(self, obj: Any) -> bytes:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


class PydanticMapper(Mapper[UUID]):
    """Stores pydantic events as canonical JSON; pydantic rebuilds them on the way back."""

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        model = cast(PartnershipEvent, domain_event)
        state = model.model_dump(mode="json", exclude={"originator_id", "originator_version"})
        data = self.transcoder.encode(state)
        if self.compressor:
            data = self.compressor.compress(data)
        if self.cipher:
            data = self.cipher.encrypt(data)
        return StoredEvent(
            originator_id=model.originator_id,
            originator_version=model.originator_version,
            topic=get_topic(type(model)),
            state=data,
        )

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        data = stored_event.state
        if self.cipher:
            data = self.cipher.decrypt(data)
        if self.compressor:
            data = self.compressor.decompress(data)
        state = self.transcoder.decode(data)
        cls = resolve_topic(stored_event.topic)
        originator_id = stored_event.originator_id
        if not isinstance(originator_id, UUID):
            originator_id = UUID(str(originator_id))
        return cls.model_validate(
            {
                **state,
                "originator_id": originator_id,
                "originator_version": stored_event.originator_version,
            }
        )


@dataclass(frozen=True)
class AppendResult:
    """Where a command's events landed; `duplicate` when they were already there."""

    version: int
    duplicate: bool


@dataclass(frozen=True)
class CommandMeta:
    """Who and what caused the events of one command."""

    command: str
    actor: str
    request_id: str
    workflow_id: str
    run_id: str
    via: str = "update"


class PartnershipStore(Application[UUID]):
    """All partnerships' histories; the only writer is the `record_events` activity."""

    name = "Amity"
    env = {"AGGREGATE_CACHE_MAXSIZE": "2000"}

    def __init__(self, url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.url = url or os.environ.get("AMITY_EVENT_STORE_URL") or DEFAULT_STORE_URL
        # Our variables win over stray PERSISTENCE_MODULE & co. in the process environment.
        super().__init__({**store_env(self.url), **(env or {})})

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(
            transcoder=CanonicalJSON(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
        )

    # -- reading -----------------------------------------------------------------------

    def aggregate(self, partnership_id: str, version: int | None = None) -> Partnership | None:
        try:
            found = self.repository.get(aggregate_id(partnership_id), version=version)
        except AggregateNotFoundError:
            return None
        return cast(Partnership, found)

    def state(self, partnership_id: str, version: int | None = None) -> PartnershipState | None:
        found = self.aggregate(partnership_id, version)
        return found.state if found else None

    def history(
        self, partnership_id: str, *, gt: int | None = None, lte: int | None = None
    ) -> list[PartnershipEvent]:
        """The stored events of one partnership, in version order."""
        found = self.events.get(aggregate_id(partnership_id), gt=gt, lte=lte)
        return cast(list[PartnershipEvent], list(found))

    def notifications(self, start: int = 1, limit: int = 1000) -> Sequence[Notification]:
        return self.recorder.select_notifications(start=start, limit=limit)

    # -- writing -----------------------------------------------------------------------

    def append(
        self,
        partnership_id: str,
        events: Sequence[AnyEvent],
        meta: CommandMeta,
        expected_version: int | None,
    ) -> AppendResult:
        """Append one command's events at `expected_version` + 1..n, exactly once.

        `expected_version=None` appends after whatever is stored (a proposal, which may
        begin a new life of a partnership whose earlier life ended).
        """
        if not events:
            raise ValueError("a command must record at least one event")
        current = self.aggregate(partnership_id)
        current_version = current.version if current else 0
        earlier = self._find_request(partnership_id, meta.request_id, expected_version, current_version)
        if earlier is not None:
            return earlier
        if expected_version is not None and current_version != expected_version:
            raise StoreConflict(
                f"{partnership_id}: the store is at version {current_version},"
                f" the workflow expected {expected_version}"
            )
        state = current.state if current else None
        now = datetime.now(UTC)
        stored: list[PartnershipEvent] = []
        for offset, event in enumerate(events, start=1):
            version = current_version + offset
            state = evolve(state, event, version)  # raises IllegalEvent
            stored.append(
                PartnershipEvent(
                    originator_id=aggregate_id(partnership_id),
                    originator_version=version,
                    timestamp=now,
                    command=meta.command,
                    via=meta.via,
                    actor=meta.actor,
                    request_id=meta.request_id,
                    workflow_id=meta.workflow_id,
                    run_id=meta.run_id,
                    event=event,
                )
            )
        try:
            self.save(*stored)
        except (IntegrityError, RecordConflictError):
            # Someone appended first: maybe our own earlier attempt (a retried activity).
            earlier = self._find_request(partnership_id, meta.request_id, current_version, None)
            if earlier is not None:
                return earlier
            raise StoreConflict(
                f"{partnership_id}: another writer appended after version {current_version}"
            ) from None
        return AppendResult(version=current_version + len(events), duplicate=False)

    def _find_request(
        self,
        partnership_id: str,
        request_id: str,
        after_version: int | None,
        known_version: int | None,
    ) -> AppendResult | None:
        """If events after `after_version` carry `request_id`, that command was stored."""
        if after_version is not None and known_version is not None and known_version <= after_version:
            return None
        found = [
            stored.originator_version
            for stored in self.history(partnership_id, gt=after_version)
            if stored.request_id == request_id
        ]
        if not found:
            return None
        return AppendResult(version=max(found), duplicate=True)


__all__ = [
    "AppendResult",
    "CommandMeta",
    "IllegalEvent",
    "PartnershipStore",
    "StoreConfigError",
    "StoreConflict",
    "store_env",
]
