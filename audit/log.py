"""The event log as the Merkle tree sees it: entries in notification order, and their leaves.

A leaf commits to the record exactly as stored: notification id, aggregate id, version,
topic and the state bytes (the envelope's timestamps, actor and request id are inside the
state). The encoding is length-prefixed, so no two records share a leaf's input.
"""

from __future__ import annotations

import struct
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from hashlib import sha256
from itertools import chain, repeat
from operator import itemgetter
from typing import Any
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


@dataclass(frozen=True, slots=True)
class Leaves:
    """One batch of the log, column by column: what `verify` needs of each entry."""

    notification_ids: Sequence[int]
    originators: Sequence[bytes]  # each aggregate id's 16 bytes
    versions: Sequence[int]
    hashes: bytes  # the leaf hashes, concatenated
    #: Without `hashed`: the leaf inputs, concatenated, and their sizes (array "I").
    inputs: bytes = b""
    sizes: bytes = b""


def leaves(
    store: PartnershipStore, batch: int = BATCH, after: int = 0, *, hashed: bool = True
) -> Iterator[Leaves]:
    """Every entry after notification `after`, with its leaf hash, in notification order, a
    batch at a time. Rows are taken apart into columns and each column is converted by a C
    loop (`map`): no Python code runs per entry, which is what made verifying slower than
    reading and hashing the log. Not `hashed`: with the leaf inputs (what is hashed)
    instead, for a helper process to hash (audit/tree_helper.py)."""
    prefix = b"\x00" + LEAF_PREFIX
    originators: dict[object, bytes] = {}
    topics: dict[str, bytes] = {}
    for rows in _row_batches(store, batch, after):
        if not rows:
            return
        if len(originators) > ORIGINATOR_CACHE:
            originators.clear()
        ids, owners, versions, names, states = (tuple(map(column, rows)) for column in _COLUMNS)
        for owner in set(owners).difference(originators):
            originators[owner] = _originator_bytes(owner)
        distinct = set(names)
        for name in distinct.difference(topics):
            data = name.encode()
            topics[name] = _LENGTH.pack(len(data)) + data
        raw = tuple(map(originators.__getitem__, owners))
        inputs: Iterable[bytes]
        if not hashed and len(distinct) == 1:
            # Each input's fixed part and its state joined straight into one buffer (the
            # state bytes copied once, no input object per entry).
            fixed = _head(len(prefix), len(topics[names[0]]))
            heads = map(fixed.pack, repeat(prefix), ids, raw, versions, repeat(topics[names[0]]))
            yield Leaves(
                ids,
                raw,
                versions,
                b"",
                b"".join(chain.from_iterable(zip(heads, states, strict=True))),
                array("I", map(fixed.size.__add__, map(len, states))).tobytes(),
            )
            continue
        if len(distinct) == 1:  # the usual batch: every entry has the same topic
            topic = topics[names[0]]
            head = _head(len(prefix), len(topic)).pack
            inputs = map(
                bytes.__add__,
                map(head, repeat(prefix), ids, raw, versions, repeat(topic)),
                states,
            )
        else:
            inputs = map(
                b"".join,
                zip(
                    map(_HEAD.pack, repeat(prefix), ids, raw, versions),
                    map(topics.__getitem__, names),
                    states,
                    strict=True,
                ),
            )
        if hashed:
            yield Leaves(ids, raw, versions, b"".join([sha256(data).digest() for data in inputs]))
        else:
            data = list(inputs)
            yield Leaves(
                ids, raw, versions, b"", b"".join(data), array("I", map(len, data)).tobytes()
            )


@cache
def _head(prefix: int, topic: int) -> struct.Struct:
    """A leaf input's fixed part when the topic is known: prefix, ids, version, topic."""
    return struct.Struct(f">{prefix}sQ16sQ{topic}s")


_HEAD = struct.Struct(f">{len(LEAF_PREFIX) + 1}sQ16sQ")
_COLUMNS = tuple(itemgetter(i) for i in range(5))
_STATE = itemgetter(4)
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


def rows_after(store: PartnershipStore, after: int, limit: int) -> list[Row]:
    """The next `limit` rows of the log after notification `after`, in notification order
    (notification id, aggregate id, version, topic, state bytes)."""
    for rows in _row_batches(store, limit, after):
        return rows
    return []


def _row_batches(store: PartnershipStore, batch: int, after: int = 0) -> Iterator[list[Row]]:
    """The log's rows after notification `after` in notification order, `batch` at a time."""
    if isinstance(store.recorder, SQLiteApplicationRecorder):
        yield from _sqlite_batches(store.recorder, batch, after)
        return
    start = after + 1
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


def _sqlite_batches(
    recorder: SQLiteApplicationRecorder, batch: int, after: int = 0
) -> Iterator[list[Row]]:
    """The same rows as `select_notifications`, as plain tuples (no Row/Notification/UUID
    objects per row)."""
    statement = (
        "SELECT rowid, originator_id, originator_version, topic, state"  # noqa: S608
        f" FROM {recorder.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    )
    while True:
        with recorder.datastore.transaction(commit=False) as cursor:
            raw = cursor.sqlite_cursor
            raw.row_factory = None
            raw.execute(statement, (after, batch))
            rows = raw.fetchall()
        if set(map(type, map(_STATE, rows))) <= {bytes}:
            yield rows
        else:  # a tampered cell read back as TEXT
            yield [row if type(row[4]) is bytes else (*row[:4], _as_bytes(row[4])) for row in rows]
        if len(rows) < batch:
            return
        after = rows[-1][0]


def versions_before(
    store: PartnershipStore, originators: set[bytes], upto: int
) -> dict[bytes, int]:
    """The last version of each of these aggregates among entries up to notification `upto`
    (absent: none there). One indexed query per chunk of aggregates: what lets a verify
    resumed from a saved tree state check the new entries' versions without the old log."""
    recorder = store.recorder
    found: dict[bytes, int] = {}
    ordered = sorted(originators)
    for first in range(0, len(ordered), 500):
        chunk = ordered[first : first + 500]
        if isinstance(recorder, SQLiteApplicationRecorder):
            statement = (
                "SELECT originator_id, MAX(originator_version)"  # noqa: S608 - constant name
                f" FROM {recorder.events_table_name} WHERE rowid <= ?"
                f" AND originator_id IN ({', '.join('?' * len(chunk))}) GROUP BY originator_id"
            )
            with recorder.datastore.transaction(commit=False) as cursor:
                raw = cursor.sqlite_cursor
                raw.row_factory = None
                raw.execute(statement, (upto, *(o.hex() for o in chunk)))
                rows = raw.fetchall()
        else:
            rows = _postgres_versions(recorder, chunk, upto)
        for owner, version in rows:
            found[_originator_bytes(owner)] = int(version)
    return found


def _postgres_versions(recorder: Any, chunk: list[bytes], upto: int) -> list[tuple[Any, Any]]:
    from psycopg.sql import SQL, Identifier

    datastore = recorder.datastore
    ids: list[Any] = [UUID(bytes=o) for o in chunk]
    if datastore.originator_id_type == "text":
        ids = [str(i) for i in ids]
    statement = SQL(
        "SELECT originator_id, MAX(originator_version) AS version FROM {schema}.{table}"
        " WHERE notification_id <= %s AND originator_id = ANY(%s) GROUP BY originator_id"
    ).format(schema=Identifier(datastore.schema), table=Identifier(recorder.events_table_name))
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, (upto, ids))
        return [(row["originator_id"], row["version"]) for row in cursor.fetchall()]
