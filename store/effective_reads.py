"""The effective index's queries for one partnership's versions 1..`last`, on either database.

Most events are dated and nothing else decides when they took effect, so the index is read
without bringing those rows into Python (100,000 rows as Python tuples take longer than
the whole answer may): SQL finds the first not yet in effect on a date, the last in
effect, and those in effect after a version, each through the index on (kind, day); only
the other rows (no date, a correction, an engine clock) and the dated events of their
commands come back whole. Rows of versions up to `last` never change once written, so the
queries need not share a transaction.
"""

# The SQL below is built from the recorder's table name and constants only; every value
# (ids, versions, instants) is a parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any
from uuid import UUID

from store.effective_index import COLUMNS, DATED_KIND, KINDS, IndexedEvent
from store.sql import Cursor

#: The recorders' indexes on the effective table (its name, then this).
BY_DAY = "by_day"
BY_REQUEST = "by_request"

#: Versions looked through in order before asking the (kind, day) index instead.
PROBE = 4096

#: A dated row's day, compared so that neither planner takes the (kind, day) index for it
#: (`+ 0` makes the terms no index's): the probes walk the versions in order, by the key.
BY_VERSION = f"kind + 0 = {DATED_KIND} AND day_us + 0"

#: Most parameters in one statement (SQLite's oldest limit is 999).
CHUNK = 500


class EffectiveReads:
    """One partnership's effective-index rows of versions 1..`last`."""

    def __init__(
        self, datastore: Any, postgres: bool, table: str, originator_id: str | UUID, last: int
    ) -> None:
        """`table` as the recorder names it (schema included); `originator_id` as the
        recorder stores it."""
        self.datastore = datastore
        self.postgres = postgres
        self.table = table
        self.originator_id = originator_id
        self.last = last
        self._open = ExitStack()
        self._cursor: Cursor | None = None

    def __enter__(self) -> EffectiveReads:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the one read transaction every query of this object shares (a round trip
        or two on PostgreSQL per transaction, against several queries)."""
        self._cursor = None
        self._open.close()

    def _cursor_now(self) -> Cursor:
        if self._cursor is None:
            raw = self._open.enter_context(self.datastore.transaction(commit=False))
            self._cursor = Cursor(raw, self.postgres)
        return self._cursor

    def _fetch(
        self,
        where: str,
        params: Sequence[Any],
        columns: str = COLUMNS,
        index: str = "",
        upto: int | None = None,
    ) -> list[Any]:
        """Rows of versions 1..last matching `where`. `index`: the one SQLite must use.
        Without statistics of how kinds and days are spread, its planner walks every row
        of the partnership by version rather than the few a (kind, day) or request lookup
        finds; PostgreSQL's planner has those statistics, and no such hint. `upto`: a
        lower last version (one bound, which SQLite's planner then scans to)."""
        hint = f" INDEXED BY {self.table}_{index}" if index and not self.postgres else ""
        statement = (
            f"SELECT {columns} FROM {self.table}{hint}"
            f" WHERE originator_id = ? AND originator_version <= ? AND {where}"
        )
        cursor = self._cursor_now()
        upto = self.last if upto is None else min(upto, self.last)
        cursor.execute(statement, (self.originator_id, upto, *params))
        return cursor.fetchall()

    def complete(self) -> bool:
        """Whether every version 1..last has its row (the last one's `chained` says)."""
        found = self._fetch("originator_version = ?", (self.last,), "chained")
        return bool(found and found[0][0])

    def all(self) -> list[IndexedEvent]:
        """Every row, in order (for checks and tests: the fast path never reads them all)."""
        return sorted(self._fetch("1 = 1", ()))

    def special(self) -> list[IndexedEvent]:
        """The rows that are not simply dated: no date, a correction, an engine clock."""
        others = ", ".join(str(kind) for kind in KINDS if kind != DATED_KIND)
        rows = self._fetch(f"kind IN ({others})", (), index=BY_DAY)
        rows += self._fetch(f"kind = {DATED_KIND} AND day_us IS NULL", (), index=BY_DAY)
        return sorted(rows)

    def versions(self, versions: Sequence[int]) -> list[IndexedEvent]:
        """The rows of these versions."""
        rows: list[IndexedEvent] = []
        for chunk in _chunks(list(versions)):
            rows += self._fetch(f"originator_version IN ({_marks(chunk)})", chunk)
        return sorted(rows)

    def commands(self, request_ids: Sequence[str]) -> list[IndexedEvent]:
        """The dated rows of these commands (by request id)."""
        rows: list[IndexedEvent] = []
        for chunk in _chunks(sorted(set(request_ids))):
            where = f"request_id IN ({_marks(chunk)}) AND kind = {DATED_KIND}"
            rows += self._fetch(where, chunk, index=BY_REQUEST)
        return sorted(rows)

    def first_dated_after(self, limit: int, excluded: Sequence[int]) -> int | None:
        """The first version whose own day is after `limit` (`excluded` left out): among
        the first PROBE versions by version (an early date finds it there), else through
        the (kind, day) index, which walks only the days after `limit` (few, for a late
        date)."""
        where = f"kind = {DATED_KIND} AND day_us > ?" + _excluding(excluded)
        params = (limit, *excluded)
        early = self._fetch(
            f"{BY_VERSION} > ?{_excluding(excluded)} ORDER BY originator_version LIMIT 1",
            params,
            "originator_version",
            upto=PROBE,
        )
        if early or self.last <= PROBE:
            return _one(early)
        return _one(self._fetch(where, params, "MIN(originator_version)", BY_DAY))

    def last_dated_by(self, limit: int, excluded: Sequence[int]) -> int | None:
        """The last version whose own day is not after `limit` (`excluded` left out): among
        the last PROBE versions from the last (a late date finds it there), else through
        the (kind, day) index, which walks only the days up to `limit` (few, for an early
        date)."""
        where = f"kind = {DATED_KIND} AND day_us <= ?" + _excluding(excluded)
        params = (limit, *excluded)
        late = self._fetch(
            f"{BY_VERSION} <= ?{_excluding(excluded)}"
            f" AND originator_version > {self.last - PROBE}"
            " ORDER BY originator_version DESC LIMIT 1",
            params,
            "originator_version",
        )
        if late or self.last <= PROBE:
            return _one(late)
        return _one(self._fetch(where, params, "MAX(originator_version)", BY_DAY))

    def dated_by_after(self, version: int, limit: int, excluded: Sequence[int]) -> list[int]:
        """The versions after `version` whose own day is not after `limit`."""
        where = f"originator_version > ? AND kind = {DATED_KIND} AND day_us <= ?"
        where += _excluding(excluded)
        found = self._fetch(where, (version, limit, *excluded), "originator_version")
        return sorted(int(row[0]) for row in found)


def _excluding(versions: Sequence[int]) -> str:
    return f" AND originator_version NOT IN ({_marks(versions)})" if versions else ""


def _marks(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def _one(rows: list[Any]) -> int | None:
    return None if not rows or rows[0][0] is None else int(rows[0][0])
