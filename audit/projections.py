"""Read models built from the log, with tracking: they resume where they stopped.

Each batch of notifications is applied in ONE transaction together with the position
it reached (our tracking record), so a crash or Ctrl-C never counts an event twice and
never skips one. The per-partnership rows keep the decider's state (folded with the same
`evolve` as everywhere else), so stages and tiers are exactly what the store says.

- in force (active or dormant) partnerships per city and tier;
- the pipeline by stage;
- exchanges by field and year;
- the pipeline in the provincial report's form (audit/pipeline.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from uuid import UUID

from audit.gc import paused_gc
from audit.log import Row as LogRow
from audit.log import rows_after
from audit.pipeline import pipeline_form
from audit.sql import Database
from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.state import PartnershipState
from store.application import PartnershipStore
from store.mapper import PydanticMapper
from store.sql import Cursor

NAME = "read_models"
IN_FORCE = ("active", "dormant")
TABLES = ("amity_rm_partnerships", "amity_rm_exchanges", "amity_rm_position")
#: Events per transaction: each commit is a sync to disk, so fewer, bigger batches
#: rebuild faster; a crash still loses at most one uncommitted batch.
BATCH = 5_000
#: Partnership rows loaded per query (under every database's parameter limit).
LOAD_CHUNK = 500

Progress = Callable[[int, int], None]  # (events applied so far, position reached)
_OWNER = itemgetter(1)


class ReadModels:
    def __init__(self, store: PartnershipStore) -> None:
        self.store = store
        self.db = Database(store)
        self.db.create(
            "CREATE TABLE IF NOT EXISTS amity_rm_position ("
            "name TEXT PRIMARY KEY, position INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS amity_rm_partnerships ("
            "originator_id TEXT PRIMARY KEY, partnership_id TEXT NOT NULL, "
            "stage TEXT NOT NULL, tier TEXT NOT NULL, "
            "initiator TEXT NOT NULL, initiator_country TEXT NOT NULL, "
            "partner TEXT NOT NULL, partner_country TEXT NOT NULL, "
            "version INTEGER NOT NULL, state TEXT NOT NULL)",
            "CREATE TABLE IF NOT EXISTS amity_rm_exchanges ("
            "field TEXT NOT NULL, year INTEGER NOT NULL, count INTEGER NOT NULL, "
            "PRIMARY KEY (field, year))",
        )

    # -- tracking ----------------------------------------------------------------------

    def position(self) -> int:
        with self.db.transaction(commit=False) as cursor:
            return self._position(cursor)

    @staticmethod
    def _position(cursor: Cursor) -> int:
        cursor.execute("SELECT position FROM amity_rm_position WHERE name = ?", (NAME,))
        row = cursor.fetchone()
        return int(row[0]) if row else 0

    def pending(self) -> int:
        """About how many events are not applied yet (for a progress bar's total)."""
        latest = self.store.recorder.max_notification_id() or 0
        return max(0, latest - self.position())

    # -- applying the log --------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: the next `catch_up` rebuilds from the first event."""
        with self.db.transaction(commit=True) as cursor:
            for table in TABLES:
                cursor.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names

    def catch_up(self, batch: int = BATCH, progress: Progress | None = None) -> int:
        """Apply every event after the tracked position; returns how many were applied."""
        applied = 0
        while True:
            start = self.position()
            rows = rows_after(self.store, start, batch)
            if not rows:
                return applied
            self._apply(start, rows)
            applied += len(rows)
            if progress:
                progress(applied, rows[-1][0])

    def _apply(self, start: int, rows: list[LogRow]) -> None:
        with paused_gc():
            self._apply_batch(start, rows)

    def _apply_batch(self, start: int, rows: list[LogRow]) -> None:
        exchanges: dict[tuple[str, int], int] = {}
        keyed = decode_rows(self.store, rows)
        with self.db.transaction(commit=True) as cursor:
            if self._position(cursor) != start:
                return  # another runner applied this batch first
            loaded = self._load_many(cursor, {name for name, _ in keyed})
            states = {name: loaded.get(name) for name, _ in keyed}
            for name, event in keyed:
                states[name] = evolve(states[name], event.event, event.originator_version)
                if event.event.type == "exchange_recorded":
                    slot = (event.event.field.value, event.event.date.year)
                    exchanges[slot] = exchanges.get(slot, 0) + 1
            cursor.executemany(
                "INSERT INTO amity_rm_partnerships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (originator_id) DO UPDATE SET stage = excluded.stage,"
                " tier = excluded.tier, version = excluded.version, state = excluded.state",
                [_row(name, state) for name, state in states.items() if state is not None],
            )
            cursor.executemany(
                "INSERT INTO amity_rm_exchanges VALUES (?, ?, ?) ON CONFLICT (field, year)"
                " DO UPDATE SET count = amity_rm_exchanges.count + excluded.count",
                [(f, year, count) for (f, year), count in exchanges.items()],
            )
            cursor.execute(
                "INSERT INTO amity_rm_position VALUES (?, ?) ON CONFLICT (name)"
                " DO UPDATE SET position = excluded.position",
                (NAME, rows[-1][0]),
            )

    @staticmethod
    def _load_many(cursor: Cursor, keys: set[str]) -> dict[str, PartnershipState | None]:
        """The stored states of these partnerships (one query per LOAD_CHUNK keys)."""
        states: dict[str, PartnershipState | None] = {}
        ordered = sorted(keys)
        for first in range(0, len(ordered), LOAD_CHUNK):
            chunk = ordered[first : first + LOAD_CHUNK]
            cursor.execute(
                "SELECT originator_id, state FROM amity_rm_partnerships"  # noqa: S608
                f" WHERE originator_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )
            for key, state in cursor.fetchall():
                states[key] = PartnershipState.model_validate_json(state)
        return states

    # -- reading -----------------------------------------------------------------------

    def stats(self) -> Stats:
        stats = Stats(position=self.position())
        with self.db.transaction(commit=False) as cursor:
            cursor.execute(
                "SELECT city, country, tier, COUNT(*) AS n FROM ("
                " SELECT initiator AS city, initiator_country AS country, tier"
                " FROM amity_rm_partnerships WHERE stage IN (?, ?)"
                " UNION ALL"
                " SELECT partner, partner_country, tier"
                " FROM amity_rm_partnerships WHERE stage IN (?, ?)"
                ") AS sides GROUP BY city, country, tier ORDER BY n DESC, city, tier",
                (*IN_FORCE, *IN_FORCE),
            )
            stats.in_force = [
                {"city": city, "country": country, "tier": tier, "count": int(n)}
                for city, country, tier, n in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT stage, COUNT(*) FROM amity_rm_partnerships GROUP BY stage ORDER BY stage"
            )
            stats.pipeline = {stage: int(n) for stage, n in cursor.fetchall()}
            cursor.execute("SELECT field, year, count FROM amity_rm_exchanges ORDER BY year, field")
            stats.exchanges = [
                {"field": f, "year": int(year), "count": int(count)}
                for f, year, count in cursor.fetchall()
            ]
            cursor.execute(
                "SELECT state FROM amity_rm_partnerships WHERE stage IN (?, ?, ?, ?)",
                ("proposed", "in_talks", *IN_FORCE),
            )
            stats.form = pipeline_form(
                [PartnershipState.model_validate_json(state) for (state,) in cursor.fetchall()]
            )
        return stats

    def partnership_ids(self) -> list[str]:
        """Every partnership the read models know, by id."""
        with self.db.transaction(commit=False) as cursor:
            cursor.execute("SELECT partnership_id FROM amity_rm_partnerships ORDER BY 1")
            return [str(pid) for (pid,) in cursor.fetchall()]

    def rows(self) -> list[tuple[Any, ...]]:
        """Every partnership row (for comparing two builds)."""
        with self.db.transaction(commit=False) as cursor:
            cursor.execute("SELECT * FROM amity_rm_partnerships ORDER BY originator_id")
            return cursor.fetchall()


@dataclass
class Stats:
    position: int = 0
    in_force: list[dict[str, Any]] = field(default_factory=list)
    pipeline: dict[str, int] = field(default_factory=dict)
    exchanges: list[dict[str, Any]] = field(default_factory=list)
    form: dict[str, int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "in_force_by_city_and_tier": self.in_force,
            "pipeline_by_stage": self.pipeline,
            "exchanges_by_field_and_year": self.exchanges,
            "pipeline_form": self.form,
        }


def decode_rows(store: PartnershipStore, rows: list[LogRow]) -> list[tuple[str, PartnershipEvent]]:
    """The partnership events of these log rows, each with its partnership's aggregate id
    (text), decoded from their columns: no Notification, StoredEvent or UUID object per
    event, each partnership's id parsed and named once (a batch holds ~11 events each)."""
    owners = {
        owner: owner if isinstance(owner, UUID) else UUID(str(owner))
        for owner in set(map(_OWNER, rows))
    }
    names = {owner: str(uuid) for owner, uuid in owners.items()}
    mapper = store.mapper
    if not isinstance(mapper, PydanticMapper):  # pragma: no cover - the store makes one
        raise TypeError(f"the read models need a PydanticMapper, not {type(mapper)}")
    decode = mapper.decode
    return [
        (names[owner], event)
        for _, owner, version, topic, state in rows
        if isinstance(
            event := decode(owners[owner], version, topic, state, names[owner]),
            PartnershipEvent,
        )
    ]


def _row(key: str, state: PartnershipState) -> tuple[Any, ...]:
    return (
        key,
        state.partnership_id,
        state.stage.value,
        state.tier.value,
        state.initiator.name,
        state.initiator.country,
        state.partner.name,
        state.partner.country,
        state.version,
        state.model_dump_json(),
    )
