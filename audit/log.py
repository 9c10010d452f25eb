"""The event log as the Merkle tree sees it: entries in notification order, and their leaves.

A leaf commits to the record exactly as stored: notification id, aggregate id, version,
topic and the state bytes (the envelope's timestamps, actor and request id are inside the
state). The encoding is length-prefixed, so no two records share a leaf's input.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder

from audit.merkle import leaf_hash
from domain.store import PartnershipStore

LEAF_PREFIX = b"amity-log-entry/1\x00"
BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored event at its place in the log (`position` counts from 0)."""

    position: int
    notification_id: int
    originator: bytes  # the aggregate id's 16 bytes
    originator_version: int
    topic: str
    state: bytes

    @property
    def originator_id(self) -> UUID:
        return UUID(bytes=self.originator)

    @property
    def leaf(self) -> bytes:
        return leaf_hash(
            leaf_data(
                self.notification_id,
                self.originator,
                self.originator_version,
                self.topic,
                self.state,
            )
        )


def leaf_data(
    notification_id: int, originator: UUID | bytes, version: int, topic: str, state: bytes
) -> bytes:
    encoded_topic = topic.encode()
    return b"".join(
        (
            LEAF_PREFIX,
            struct.pack(">Q", notification_id),
            originator.bytes if isinstance(originator, UUID) else originator,
            struct.pack(">QI", version, len(encoded_topic)),
            encoded_topic,
            state,
        )
    )


def entries(store: PartnershipStore, batch: int = BATCH) -> Iterator[Entry]:
    """Every stored event in notification order, read in batches."""
    if isinstance(store.recorder, SQLiteApplicationRecorder):
        yield from _sqlite_entries(store.recorder, batch)
        return
    position, start = 0, 1
    while True:
        found = store.recorder.select_notifications(start=start, limit=batch)
        for notification in found:
            originator = notification.originator_id
            yield Entry(
                position,
                notification.id,
                (originator if isinstance(originator, UUID) else UUID(str(originator))).bytes,
                notification.originator_version,
                notification.topic,
                _as_bytes(notification.state),
            )
            position += 1
        if len(found) < batch:
            return
        start = found[-1].id + 1


def _as_bytes(state: bytes | str) -> bytes:
    """State as stored; a tampered SQLite cell may come back as TEXT."""
    return state.encode() if isinstance(state, str) else bytes(state)


def _sqlite_entries(recorder: SQLiteApplicationRecorder, batch: int) -> Iterator[Entry]:
    """The same rows as `select_notifications`, without building objects we do not need."""
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state"  # noqa: S608
        f" FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    position, after = 0, 0
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            cursor.execute(statement, (after, batch))
            rows = cursor.fetchall()
        for notification_id, originator, version, topic, state in rows:
            yield Entry(
                position,
                notification_id,
                bytes.fromhex(originator.replace("-", "")),
                version,
                topic,
                _as_bytes(state),
            )
            position += 1
        if len(rows) < batch:
            return
        after = rows[-1][0]
