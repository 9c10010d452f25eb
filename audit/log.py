"""The event log as the Merkle tree sees it: entries in notification order, and their leaves.

A leaf commits to the record exactly as stored: notification id, aggregate id, version,
topic and the state bytes (the envelope's timestamps, actor and request id are inside the
state). The encoding is length-prefixed, so no two records share a leaf's input.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from hashlib import sha256
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder

from store.application import PartnershipStore
from tlog.merkle import leaf_hash

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
    position = 0
    for rows in _row_batches(store, batch):
        for notification_id, originator, version, topic, state in rows:
            yield Entry(
                position, notification_id, _originator_bytes(originator), version, topic, state
            )
            position += 1


#: (notification id, aggregate id's 16 bytes, version, leaf hash)
Leaf = tuple[int, bytes, int, bytes]


def leaves(store: PartnershipStore, batch: int = BATCH) -> Iterator[list[Leaf]]:
    """Every entry's leaf hash in notification order, a batch at a time: what `verify`
    needs, in one tight loop (no Entry objects; ids and topics converted once each)."""
    prefix = b"\x00" + LEAF_PREFIX
    pack_id, pack_version = _ID.pack, _VERSION.pack
    join = b"".join
    originators: dict[object, bytes] = {}
    topics: dict[str, tuple[bytes, bytes]] = {}
    for rows in _row_batches(store, batch):
        out: list[Leaf] = []
        add = out.append
        for notification_id, originator, version, topic, state in rows:
            raw = originators.get(originator)
            if raw is None:
                raw = originators[originator] = _originator_bytes(originator)
            encoded = topics.get(topic)
            if encoded is None:
                data = topic.encode()
                encoded = topics[topic] = (_LENGTH.pack(len(data)), data)
            data = join(
                (prefix, pack_id(notification_id), raw, pack_version(version), *encoded, state)
            )
            add((notification_id, raw, version, sha256(data).digest()))
        yield out
        if len(originators) > ORIGINATOR_CACHE:
            originators.clear()


_ID = struct.Struct(">Q")
_VERSION = struct.Struct(">Q")
_LENGTH = struct.Struct(">I")
#: Aggregate ids remembered while walking the log (each appears in many rows).
ORIGINATOR_CACHE = 100_000

Row = tuple[int, object, int, str, bytes]


def _originator_bytes(originator: object) -> bytes:
    if isinstance(originator, UUID):
        return originator.bytes
    return bytes.fromhex(str(originator).replace("-", ""))


def _row_batches(store: PartnershipStore, batch: int) -> Iterator[list[Row]]:
    """The log's rows in notification order, `batch` at a time."""
    if isinstance(store.recorder, SQLiteApplicationRecorder):
        yield from _sqlite_batches(store.recorder, batch)
        return
    start = 1
    while True:
        found = store.recorder.select_notifications(start=start, limit=batch)
        yield [
            (n.id, n.originator_id, n.originator_version, n.topic, _as_bytes(n.state))
            for n in found
        ]
        if len(found) < batch:
            return
        start = found[-1].id + 1


def _as_bytes(state: bytes | str) -> bytes:
    """State as stored; a tampered SQLite cell may come back as TEXT."""
    return state.encode() if isinstance(state, str) else bytes(state)


def _sqlite_batches(recorder: SQLiteApplicationRecorder, batch: int) -> Iterator[list[Row]]:
    """The same rows as `select_notifications`, as plain tuples (no Row/Notification/UUID
    objects per row)."""
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state"  # noqa: S608
        f" FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    after = 0
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            raw = cursor.sqlite_cursor
            raw.row_factory = None
            raw.execute(statement, (after, batch))
            rows = raw.fetchall()
        yield [row if type(row[4]) is bytes else (*row[:4], _as_bytes(row[4])) for row in rows]
        if len(rows) < batch:
            return
        after = rows[-1][0]
