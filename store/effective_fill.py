"""Backfill of the effective index for one partnership, on either database.

Events appended before the index existed (or by an older release during an upgrade) have
no rows, and the rows appended after such a gap are not `chained`; as-of by effective date
then folds the whole history. Once it has read that history anyway, it hands the rows the
events say to `fill`, which adds the missing ones and marks chained every row whose earlier
versions all have theirs, so the next as-of of that partnership takes the index.

Rows are never deleted and a row's facts never change, so adding the missing ones cannot
disagree with an append running meanwhile; an append that computed its `chained` from a
row this fill had not committed yet stays unchained, which only sends the next as-of
through the full fold (and this fill) again.
"""

# The SQL below is built from the recorder's table name only; every value is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from store.sql import Cursor
from store.time_index import EffectiveRow


def fill(
    datastore: Any,
    postgres: bool,
    table: str,
    originator_id: str | UUID,
    rows: Sequence[EffectiveRow],
) -> int:
    """Add the rows an aggregate lacks (`rows`: versions 1..n as its events say) and chain
    those now unbroken from version 1; returns the last version chained."""
    with datastore.transaction(commit=True) as raw:
        cursor = Cursor(raw, postgres)
        cursor.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE) ON CONFLICT DO NOTHING",
            [(originator_id, *row[1:9]) for row in rows],
        )
        cursor.execute(
            f"SELECT originator_version FROM {table} WHERE originator_id = ?"
            " ORDER BY originator_version",
            (originator_id,),
        )
        unbroken = 0
        for (version,) in cursor.fetchall():
            if version != unbroken + 1:
                break
            unbroken = version
        cursor.execute(
            f"UPDATE {table} SET chained = TRUE WHERE originator_id = ?"
            " AND originator_version <= ? AND NOT chained",
            (originator_id, unbroken),
        )
    return unbroken
