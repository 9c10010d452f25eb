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

from audit.merkle import leaf_hash
from domain.store import PartnershipStore

LEAF_PREFIX = b"amity-log-entry/1\x00"
BATCH = 5_000


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored event at its place in the log (`position` counts from 0)."""

    position: int
    notification_id: int
    originator_id: UUID
    originator_version: int
    topic: str
    state: bytes

    @property
    def leaf(self) -> bytes:
        return leaf_hash(
            leaf_data(
                self.notification_id,
                self.originator_id,
                self.originator_version,
                self.topic,
                self.state,
            )
        )


def leaf_data(
    notification_id: int, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    encoded_topic = topic.encode()
    return b"".join(
        (
            LEAF_PREFIX,
            struct.pack(">Q", notification_id),
            originator_id.bytes,
            struct.pack(">QI", version, len(encoded_topic)),
            encoded_topic,
            state,
        )
    )


def entries(store: PartnershipStore, batch: int = BATCH) -> Iterator[Entry]:
    """Every stored event in notification order, read in batches."""
    position, start = 0, 1
    while True:
        found = store.recorder.select_notifications(start=start, limit=batch)
        for notification in found:
            originator = notification.originator_id
            yield Entry(
                position,
                notification.id,
                originator if isinstance(originator, UUID) else UUID(str(originator)),
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
