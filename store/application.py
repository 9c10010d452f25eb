"""The event store: an `eventsourcing` application over SQLite (default) or PostgreSQL.

One save per command (never one per event): a command's events land together or not
at all. Appends are optimistic: the caller says which version it expects, and a repeat
of a command already stored (same `request_id`) returns the earlier result instead of
writing again. That is what makes Temporal's at-least-once activities exactly-once here.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast
from urllib.parse import unquote, urlparse
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.persistence import (
    IntegrityError,
    Mapper,
    Notification,
    PersistenceError,
    RecordConflictError,
    Recording,
    StoredEvent,
)
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.sqlite import SQLiteDatastore
from eventsourcing.utils import get_topic
from pydantic import SecretStr

from domain.aggregate import Partnership, PartnershipEvent, PartnershipSnapshot
from domain.corrections import CORRECTABLE
from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.events import AnyEvent
from domain.forgetting import replace_names
from domain.identity import aggregate_id
from domain.slices.correct import Corrected, CorrectionTarget, find_correctable
from domain.state import PartnershipState
from store.digest_key import DigestKeyError, digest_key
from store.effective_index import effective_row
from store.effective_reads import EffectiveReads
from store.group_commit import GroupCommit
from store.key_text import key_bytes
from store.mapper import CanonicalJSON, PydanticMapper
from store.options import DEFAULT_STORE_URL, StoreOptions
from store.personal_keys import (
    DigestKeyMismatch,
    PersonalKeys,
)
from store.postgres import PostgresTimeIndexedRecorder, schema_lock
from store.sqlite import SQLiteTimeIndexedRecorder
from store.time_index import (
    EVENT_TIMES,
    CommandRows,
    EffectiveRow,
    EventTime,
    recorded_micros,
)

logger = logging.getLogger(__name__)

#: Partnership ids whose aggregate ids are remembered (a few MB at most).
ID_CACHE = 20_000

#: The library's AES-GCM cipher on the `cryptography` package (a dependency already).
CIPHER_TOPIC = "eventsourcing.cryptography:AESCipher"


class StoreConfigError(ValueError):
    """AMITY_EVENT_STORE_URL cannot be used; the message says why in one line."""


class StoreConflict(RuntimeError):  # noqa: N818 - a public name others import
    """The store holds other events where this command expected to append (a real error)."""


class RequestReused(RuntimeError):  # noqa: N818 - reads as the situation it names
    """The request_id is stored already, for another command or other events: a resend
    must repeat the command it resends, so this is a mistake, never a duplicate."""


def store_env(url: str, *, create_folder: bool = True) -> dict[str, str]:
    """Translate AMITY_EVENT_STORE_URL into the library's environment (making a SQLite
    file's folder unless `create_folder` is off: a reader makes nothing)."""
    parsed = urlparse(url)
    if parsed.scheme == "sqlite":
        # sqlite:///relative/path, sqlite:////absolute/path, sqlite:///:memory:
        path = unquote(url[len("sqlite:///") :]) if url.startswith("sqlite:///") else ""
        if not path:
            raise StoreConfigError(f"sqlite URL needs a file path, e.g. {DEFAULT_STORE_URL}")
        if path != ":memory:" and create_folder:
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path if path == ":memory:" else str(Path(path).expanduser()),
            "SQLITE_LOCK_TIMEOUT": "30",
            "APPLICATION_RECORDER_TOPIC": get_topic(SQLiteTimeIndexedRecorder),
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
            "APPLICATION_RECORDER_TOPIC": get_topic(PostgresTimeIndexedRecorder),
        }
    raise StoreConfigError(
        f"unsupported event store URL scheme {parsed.scheme!r}:"
        " use sqlite:///<path> or postgresql://user:password@host:port/dbname"
    )


def store_key(value: str | None) -> bytes | None:
    """AMITY_STORE_KEY (base64 of 16, 24 or 32 bytes) as bytes; the key is never echoed."""
    if not value:
        return None
    key = key_bytes(value, (16, 24, 32))
    if key is None:
        raise StoreConfigError("AMITY_STORE_KEY must be base64 of 16, 24 or 32 random bytes")
    return key


def cipher_env(key: bytes | None) -> dict[str, str]:
    """The library's env that encrypts every stored event and snapshot at rest."""
    if key is None:
        return {}
    return {"CIPHER_TOPIC": CIPHER_TOPIC, "CIPHER_KEY": base64.b64encode(key).decode()}


@dataclass(frozen=True)
class AppendResult:
    """Where a command's events landed; `duplicate` when they were already there.

    `events` is set when the store wrote them otherwise than given: a forgotten person's
    name replaced by FORGOTTEN (the caller should fold these, not its own)."""

    version: int
    duplicate: bool
    events: list[AnyEvent] | None = None


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
    env: ClassVar[dict[str, str]] = {
        "AGGREGATE_CACHE_MAXSIZE": "2000",
        # Aggregates and their states are frozen pydantic models (never mutated), so the
        # cache may hand out the cached object itself: a deep copy of a long history's
        # state cost more than the rest of an append (bench/, docs/performance.md).
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    is_snapshotting_enabled = True

    def __init__(
        self,
        options: StoreOptions | str | SecretStr | None = None,
        env: dict[str, str] | None = None,
        snapshot_interval: int | None = None,
    ) -> None:
        """`options` as built from the settings; a bare URL opens a store without keys.
        `env` adds library settings (eventsourcing's own variables)."""
        if not isinstance(options, StoreOptions):
            options = StoreOptions() if options is None else StoreOptions(url=options)
        self.options = options
        self.url = options.url.get_secret_value()
        self.snapshot_interval = snapshot_interval or options.snapshot_interval
        self._store_key = store_key(
            options.store_key.get_secret_value() if options.store_key else None
        )
        self.personal_data_keys = options.personal_data_keys
        self._personal_keys: PersonalKeys | None = None
        self._ids: dict[str, UUID] = {}
        self._tombstones_seen: int | None = None
        # Our variables win over stray PERSISTENCE_MODULE & co. in the process environment.
        library_env = {
            **store_env(self.url),
            **cipher_env(self._store_key),
            **(env or {}),
        }
        with schema_lock(library_env):
            super().__init__(library_env)
            recorder = cast(SQLiteTimeIndexedRecorder | PostgresTimeIndexedRecorder, self.recorder)
            #: Every append goes through here: concurrent ones share a transaction.
            self.group_commit: GroupCommit[CommandRows] = GroupCommit(recorder.insert_commands)
            if self.personal_data_keys:
                keys = self.personal_keys()
                keys.ensure_table()
                try:
                    keys.digest_key()  # checked, and an older store's digests re-keyed, now
                except (DigestKeyError, DigestKeyMismatch) as error:
                    self.close()
                    raise StoreConfigError(str(error)) from None

    def _record(self, processing_event: ProcessingEvent[UUID]) -> list[Recording[UUID]]:
        """Hand each event's recorded time to the recorder, for the time index."""
        processing_event.saved_kwargs[EVENT_TIMES] = [
            (e.originator_id, e.originator_version, recorded_micros(e.timestamp))
            for e in processing_event.events
            if isinstance(e, PartnershipEvent)
        ]
        return super()._record(processing_event)

    def construct_mapper(self) -> Mapper[UUID]:
        return PydanticMapper(
            transcoder=CanonicalJSON(),
            cipher=self.factory.cipher(),
            compressor=self.factory.compressor(),
            personal_keys=self.personal_keys,
            seal=self.personal_data_keys,
        )

    def personal_keys(self) -> PersonalKeys:
        """The per-person key table in the store's database (made on first use)."""
        if self._personal_keys is None:
            datastore = getattr(self.recorder, "datastore", None)
            if not isinstance(datastore, SQLiteDatastore | PostgresDatastore):
                raise StoreConfigError("personal data keys need a SQLite or PostgreSQL store")
            self._personal_keys = PersonalKeys(datastore, self._store_key, self._digest_key)
        return self._personal_keys

    def _digest_key(self) -> bytes:
        library = store_env(self.url)
        given = self.options.person_digest_key
        return digest_key(
            given.get_secret_value() if given else None,
            self.options.person_digest_key_file,
            library.get("SQLITE_DBNAME"),
            self._store_key,
        )

    def forget(self, person: str) -> str:
        """Crypto-shred one person: their key becomes a tombstone. Returns what it found
        (store.personal_keys: FORGOTTEN_NOW, ALREADY_FORGOTTEN or UNKNOWN)."""
        try:
            outcome = self.personal_keys().forget(person)
        except (DigestKeyError, DigestKeyMismatch) as error:
            raise StoreConfigError(str(error)) from None
        _empty(self.repository.cache)  # cached aggregates hold the name in clear
        return outcome

    def _drop_cache_after_forget(self) -> None:
        """A person forgotten by another process since the last look: the cached aggregates
        may hold their name in clear; drop them (they reload with the name forgotten)."""
        if self._personal_keys is None and not self.personal_data_keys:
            return
        seen = self.personal_keys().tombstones()
        if self._tombstones_seen is not None and seen != self._tombstones_seen:
            _empty(self.repository.cache)
        self._tombstones_seen = seen

    def _without_forgotten(self, events: Sequence[AnyEvent]) -> list[AnyEvent] | None:
        """The events with forgotten persons' names replaced, or None if none was named."""
        if not self.personal_data_keys:
            return None
        keys = self.personal_keys()
        changed = False
        result: list[AnyEvent] = []
        for event in events:
            data = event.model_dump(mode="json")
            redacted = replace_names(data, keys.is_forgotten)
            if redacted is data:
                result.append(event)
            else:
                changed = True
                result.append(type(event).model_validate(redacted))
        return result if changed else None

    def readable(self, state: bytes) -> dict[str, Any]:
        """A stored record's JSON (decrypted, decompressed; persons' names left sealed)."""
        mapper = self.mapper
        if mapper.cipher:
            state = mapper.cipher.decrypt(state)
        if mapper.compressor:
            state = mapper.compressor.decompress(state)
        decoded = json.loads(state)
        if not isinstance(decoded, dict):
            raise ValueError("a stored record is not a JSON object")
        return decoded

    # -- reading -----------------------------------------------------------------------

    def aggregate(self, partnership_id: str, version: int | None = None) -> Partnership | None:
        self._drop_cache_after_forget()
        try:
            found: Any = self.repository.get(self._aggregate_id(partnership_id), version=version)
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
        found = self.events.get(self._aggregate_id(partnership_id), gt=gt, lte=lte)
        return cast(list[PartnershipEvent], list(found))

    def notifications(self, start: int = 1, limit: int = 1000) -> Sequence[Notification]:
        return self.recorder.select_notifications(start=start, limit=limit)

    def version_at(self, partnership_id: str, moment: datetime) -> int | None:
        """The partnership's version as recorded at `moment` (None: it did not exist yet)."""
        recorder = cast(SQLiteTimeIndexedRecorder | PostgresTimeIndexedRecorder, self.recorder)
        return recorder.version_at(aggregate_id(partnership_id), recorded_micros(moment))

    def effective_reads(self, partnership_id: str, last: int) -> EffectiveReads | None:
        """The effective index's queries for versions 1..`last` (store/effective_reads.py),
        or None if this store keeps no such index (encrypted at rest). Whether every one of
        those versions has its row is for the caller to check (a store written before the
        index existed, or by another writer, may lack some)."""
        if self.mapper.cipher is not None:
            return None
        recorder = cast(SQLiteTimeIndexedRecorder | PostgresTimeIndexedRecorder, self.recorder)
        return recorder.effective_reads(self._aggregate_id(partnership_id), last)

    def index_effective(self, partnership_id: str, events: Sequence[PartnershipEvent]) -> int:
        """Backfill the effective index from `events` (versions 1..n as just read; see
        store/effective_fill.py): the last version indexed without a gap, 0 if none could
        be (encrypted at rest; or a history the rules refuse in recorded order, where the
        policy each engine clock ran under cannot be told)."""
        if self.mapper.cipher is not None:
            return 0
        originator_id = self._aggregate_id(partnership_id)
        rows: list[EffectiveRow] = []
        state: PartnershipState | None = None
        for stored in events:
            version = stored.originator_version
            policy = state.policy if state is not None else None
            row = effective_row(
                originator_id,
                version,
                stored.event,
                stored.timestamp,
                stored.request_id,
                policy,
                version,
            )
            rows.append(row)
            try:
                state = evolve(state, stored.event, version)
            except IllegalEvent:
                return 0
        recorder = cast(SQLiteTimeIndexedRecorder | PostgresTimeIndexedRecorder, self.recorder)
        return recorder.fill_effective(originator_id, rows)

    def state_at(self, partnership_id: str, moment: datetime) -> PartnershipState | None:
        """The partnership's state as it was at `moment`, through the time index."""
        version = self.version_at(partnership_id, moment)
        return None if version is None else self.state(partnership_id, version)

    def correction_target(self, partnership_id: str, version: int) -> CorrectionTarget | None:
        """The event at `version` as it reads now (every correction of it applied), for a
        correction whose target the working state no longer keeps; None if there is none."""
        found = self.history(partnership_id, gt=version - 1, lte=version)
        if not found:
            return None
        event = found[0].event
        if event.type not in CORRECTABLE:
            return CorrectionTarget(version=version, event_type=event.type)
        names = set(CORRECTABLE[event.type])
        values = {k: v for k, v in event.model_dump(mode="json").items() if k in names}
        for later in self._corrections_of(partnership_id, version):
            values.update(later.correction)
        return CorrectionTarget(
            version=version, event_type=event.type, target_type=event.type, values=values
        )

    def _corrections_of(self, partnership_id: str, version: int) -> list[Corrected]:
        """The corrections of the event at `version`, in order. Only events that may be
        corrections are decoded (a plain stored record names its type in clear)."""
        plain = self.mapper.cipher is None and self.mapper.compressor is None
        found: list[Corrected] = []
        for stored in self.recorder.select_events(aggregate_id(partnership_id), gt=version):
            if plain and b'"type":"corrected"' not in stored.state:
                continue
            event = cast(PartnershipEvent, self.mapper.to_domain_event(stored)).event
            if isinstance(event, Corrected) and event.target_version == version:
                found.append(event)
        return found

    def _check_correction(
        self, partnership_id: str, state: PartnershipState | None, event: Corrected
    ) -> None:
        """A correction of a record the state no longer keeps is checked against the
        stored event itself: it must exist in this life and be of the type corrected."""
        if state is None or find_correctable(state, event.target_version) is not None:
            return  # the state holds it (or there is no state): evolve checks it
        if event.target_version <= state.proposed_version:
            return  # an earlier life: evolve refuses it
        target = self.correction_target(partnership_id, event.target_version)
        if target is None or target.target_type != event.target_type:
            found = target.event_type if target else "nothing"
            raise IllegalEvent(
                f"correction of version {event.target_version} as {event.target_type},"
                f" but the store holds {found} there"
            )

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
        self._drop_cache_after_forget()
        redacted = self._without_forgotten(events)
        if redacted is not None:
            events = redacted
        current = self._cached_at(partnership_id, expected_version) or self.aggregate(
            partnership_id
        )
        current_version = current.version if current else 0
        earlier = self._find_request(
            partnership_id, meta, events, expected_version, current_version
        )
        if earlier is not None:
            return earlier
        if expected_version is not None and current_version != expected_version:
            raise StoreConflict(
                f"{partnership_id}: the store is at version {current_version},"
                f" the workflow expected {expected_version}"
            )
        state = current.state if current else None
        now = datetime.now(UTC)
        originator_id = self._aggregate_id(partnership_id)
        micros = recorded_micros(now)
        to_stored = self.mapper.to_stored_event
        stored: list[StoredEvent] = []
        times: list[EventTime] = []
        effective: list[EffectiveRow] = []
        # The dates are the events' content: a store encrypted at rest keeps no index of them.
        indexed = self.mapper.cipher is None
        snapshots: list[PartnershipSnapshot] = []
        for offset, event in enumerate(events, start=1):
            version = current_version + offset
            if indexed:
                policy = state.policy if state is not None else None
                effective.append(
                    effective_row(
                        originator_id,
                        version,
                        event,
                        now,
                        meta.request_id,
                        policy,
                        current_version + 1,
                    )
                )
            if isinstance(event, Corrected):
                self._check_correction(partnership_id, state, event)
            state = evolve(state, event, version)  # raises IllegalEvent
            if version % self.snapshot_interval == 0:
                snapshots.append(
                    PartnershipSnapshot(
                        originator_id=originator_id,
                        originator_version=version,
                        timestamp=now,
                        created_on=current.created_on if current else now,
                        state=state,
                    )
                )
            stored.append(
                to_stored(
                    PartnershipEvent(
                        originator_id=originator_id,
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
            )
            times.append((originator_id, version, micros))
        try:
            # Waits for the transaction that holds these rows to commit (store.group_commit).
            self.group_commit.submit((stored, times, effective))
        except (IntegrityError, RecordConflictError):
            # Someone appended first: maybe our own earlier attempt (a retried activity).
            earlier = self._find_request(partnership_id, meta, events, current_version, None)
            if earlier is not None:
                return earlier
            raise StoreConflict(
                f"{partnership_id}: another writer appended after version {current_version}"
            ) from None
        self._put_snapshots(snapshots)
        if self.repository.cache is not None and state is not None:
            # The next command starts from here: without this, the cache would be
            # fast-forwarded by reading back and decoding the events just written.
            self.repository.cache.put(
                originator_id,
                Partnership(
                    id=originator_id,
                    version=current_version + len(events),
                    created_on=current.created_on if current else now,
                    modified_on=now,
                    state=state,
                ),
            )
        return AppendResult(version=current_version + len(events), duplicate=False, events=redacted)

    def close(self) -> None:
        close_writer = getattr(self.recorder, "close_writer", None)
        if close_writer is not None:
            close_writer()
        super().close()

    def _put_snapshots(self, snapshots: list[PartnershipSnapshot]) -> None:
        """Snapshots only speed up reads: one that cannot be written is skipped."""
        if not snapshots or self.snapshots is None:
            return
        try:
            self.snapshots.put(snapshots)
        except PersistenceError as error:
            logger.warning("snapshot not stored: %s", error)

    def _cached_at(self, partnership_id: str, version: int | None) -> Partnership | None:
        """The cached aggregate if it is at exactly the version the caller expects: then
        the append needs no read first (a writer that got there before us makes the insert
        conflict, and the conflict is resolved below as always)."""
        if self.repository.cache is None or version is None:
            return None
        try:
            cached = cast(
                Partnership, self.repository.cache.get(self._aggregate_id(partnership_id))
            )
        except KeyError:
            return None
        return cached if cached.version == version else None

    def _aggregate_id(self, partnership_id: str) -> UUID:
        """`aggregate_id` (a uuid5: a SHA-1 each time), remembered for the partnerships
        this process appends to."""
        found = self._ids.get(partnership_id)
        if found is None:
            if len(self._ids) >= ID_CACHE:
                self._ids.clear()
            found = self._ids[partnership_id] = aggregate_id(partnership_id)
        return found

    def _find_request(
        self,
        partnership_id: str,
        meta: CommandMeta,
        events: Sequence[AnyEvent],
        after_version: int | None,
        known_version: int | None,
    ) -> AppendResult | None:
        """If events after `after_version` carry the request_id, that command was stored:
        the same command with the same events is a duplicate, anything else RequestReused
        (the events follow from the command's payload, so other events mean another one)."""
        if known_version == 0 or (
            after_version is not None
            and known_version is not None
            and known_version <= after_version
        ):
            # Nothing after `after_version` was there when the caller read the aggregate
            # (version 0: nothing at all): no request to find, and no read for it. A writer
            # that got in since makes the insert conflict, and the conflict path looks again.
            return None
        found = [
            stored
            for stored in self.history(partnership_id, gt=after_version)
            if stored.request_id == meta.request_id
        ]
        if not found:
            return None
        if found[0].command != meta.command or [s.event for s in found] != list(events):
            raise RequestReused(
                f"request_id {meta.request_id} was already used for {found[0].command} with a"
                " different payload; use a new request_id"
            )
        return AppendResult(version=max(s.originator_version for s in found), duplicate=True)


def _empty(cache: Any) -> None:
    """Drop every cached aggregate (the library's LRUCache.clear() only resets its
    recency list and leaves the entries themselves in place)."""
    if cache is None:
        return
    lock = getattr(cache, "lock", None)
    if lock is None:
        cache.cache.clear()
        return
    with lock:
        cache.cache.clear()
        cache.clear()
        cache.full = False


__all__ = [
    "AppendResult",
    "CommandMeta",
    "IllegalEvent",
    "PartnershipStore",
    "RequestReused",
    "StoreConfigError",
    "StoreConflict",
    "store_env",
]
