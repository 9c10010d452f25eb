"""As-of by effective date through the store's effective index gives exactly the full fold's
answer (audit/effective.py `in_effect` over the whole history), on random histories whose
effective order is not their recorded order, at every instant where the answer may change,
on SQLite and PostgreSQL; and where the index cannot answer (a store written before it, an
encrypted store) the full fold does."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from amity import story
from audit.asof import as_of
from audit.effective import in_effect
from audit.effective_index import Incomplete, Unindexed, fast_in_effect, state_in_effect
from domain.decider import decide
from domain.messages import Command
from domain.parsing import parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.expire import Expire
from domain.slices.note_renewal_due import NoteRenewalDue, RenewalDue
from domain.slices.propose import decide_proposal
from store import effective_reads
from store.application import CommandMeta, PartnershipStore
from store.options import StoreOptions
from store.sql import Cursor
from store.time_index import EPOCH
from tests.audit.effective_histories import ENGINE_NOW, PEOPLE_NOW, write_history

pytestmark = pytest.mark.both_stores

#: Small, so the state before the first event not yet in effect comes from a snapshot.
SNAPSHOTS = 4


def moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def instants(
    store: PartnershipStore, pid: str, last: int, rng: random.Random, most: int
) -> list[datetime]:
    """`most` of the instants in the index (a date, a clock, a recording) and of the
    microseconds before them, where the answer may change; and a few random days."""
    reads = store.effective_reads(pid, last)
    assert reads is not None
    with reads:
        rows = reads.all()
    found: set[int] = set()
    for _version, _kind, day, _target, clock, base, recorded, _request in rows:
        for value in (day, clock, base, recorded):
            if value is not None:
                found.update((value - 1, value))
    days = [
        datetime(2016, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(12 * 365)) for _ in range(5)
    ]
    chosen = rng.sample(sorted(found), min(most, len(found)))
    return [moment(us) for us in sorted(chosen)] + days


@pytest.mark.parametrize("probe", [effective_reads.PROBE, 0], ids=["probe", "through-day-index"])
def test_the_index_answers_as_the_full_fold(
    store_url: str, probe: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`probe`: how many versions the first and last dated lookups walk in order before
    using the (kind, day) index; 0 makes these short histories take the index at once."""
    monkeypatch.setattr(effective_reads, "PROBE", probe)
    # every boundary on SQLite; a sample on PostgreSQL (each query is a round trip there)
    most = 1_000 if store_url.startswith("sqlite") else 16
    store = PartnershipStore(store_url, snapshot_interval=SNAPSHOTS)
    compared = stragglers = policy_after = 0
    try:
        for seed in range(6):
            rng = random.Random(seed)
            pid = f"partnership-effective-{seed}"
            last = write_history(store, pid, rng, extra=30)
            history = store.history(pid)
            policy_timed = [
                e.originator_version
                for e in history
                if e.event.type in ("renewal_due", "became_dormant")
            ]
            # what the register knew at a few points in recorded time, and now
            for known in sorted({last, rng.randrange(1, last + 1), rng.randrange(1, last + 1)}):
                for at in instants(store, pid, known, rng, most):
                    folded: list[int] = []
                    expected = in_effect(history[:known], at, folded)
                    assert fast_in_effect(store, pid, at, known) == expected, (seed, known, at)
                    compared += 1
                    prefix = next((i for i, v in enumerate(folded, 1) if v != i), len(folded) + 1)
                    stragglers += any(v > prefix for v in folded)
                    policy_after += any(prefix < v <= known for v in policy_timed)
    finally:
        store.close()
    # the cases that matter were there: events folded after one that is not in effect yet,
    # and policy-timed engine events after it (their clocks then follow the folded state)
    assert compared > 250 and stragglers > 25 and policy_after > 25, (
        compared,
        stragglers,
        policy_after,
    )


def test_a_store_written_before_the_index_is_folded_whole_then_filled_in(
    store_url: str,
) -> None:
    """A history begun before the index existed (its events have no rows), continued by
    this release: the index declines and as-of folds the whole history, as it always did;
    that fold fills the index in, and the next as-of takes it, with the same answers."""
    store = PartnershipStore(store_url, snapshot_interval=SNAPSHOTS)
    pid = "partnership-effective-old"
    days = [datetime(2016, 1, 1, tzinfo=UTC) + timedelta(days=d) for d in range(0, 12 * 365, 61)]
    try:
        before = write_history(store, pid, random.Random(9), extra=20)  # dormant twice
        written = store.effective_reads(pid, before)
        assert written is not None
        with written:
            appended = written.all()  # as the appends wrote them
        with store.recorder.datastore.transaction(commit=True) as raw:  # type: ignore[attr-defined]
            table = store.recorder.effective_table_name  # type: ignore[attr-defined]
            Cursor(raw, postgres="postgres" in store_url).execute(f"DELETE FROM {table}")
        last = append_one_more(store, pid)
        reads = store.effective_reads(pid, last)
        assert reads is not None
        with reads:
            assert reads.all()  # the new event has its row...
            assert not reads.complete()  # ...but not the ones before it
        history = store.history(pid)
        # filled in short of the last events: still a gap before the newest row
        assert store.index_effective(pid, history[: last - 3]) == last - 3
        with reads:
            assert not reads.complete()
        for at in days:
            with pytest.raises(Incomplete):
                fast_in_effect(store, pid, at, last)
        expected = [in_effect(history, at) for at in days]
        answers = [state_in_effect(store, pid, at, last) for at in days[:1]]  # fills it in
        with reads:
            assert reads.complete()
            assert reads.all()[:before] == appended  # the fill says what the appends did
        answers += [fast_in_effect(store, pid, at, last) for at in days[1:]]
        assert answers == expected
        assert [as_of(store, pid, at=at) for at in days if in_effect(history, at)] == [
            state for state in expected if state is not None
        ]
    finally:
        store.close()


def append_one_more(store: PartnershipStore, pid: str) -> int:
    """One more command on `pid` (a correction of its rationale): the last version."""
    state = store.state(pid)
    assert state is not None
    command = parse_command(
        "correct",
        {"target_version": 1, "reason": "typo", "correction": {"rationale": "Friendship."}},
    )
    decision = decide(state, command, datetime.now(UTC))
    assert not isinstance(decision, Rejection), decision
    meta = CommandMeta("correct", "tester", f"{pid}:more", pid, "run-1")
    return store.append(pid, decision, meta, state.version).version


def test_an_encrypted_store_keeps_no_index_of_its_dates(store_url: str) -> None:
    """The dates are the events' content: encrypted at rest, none is written in clear."""
    key = SecretStr(base64.b64encode(bytes(range(32))).decode())
    store = PartnershipStore(StoreOptions(url=SecretStr(store_url), store_key=key))
    pid = "partnership-effective-sealed"
    try:
        last = write_history(store, pid, random.Random(3), extra=10)
        with store.recorder.datastore.transaction(commit=False) as raw:  # type: ignore[attr-defined]
            cursor = Cursor(raw, postgres="postgres" in store_url)
            table = store.recorder.effective_table_name  # type: ignore[attr-defined]
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            assert cursor.fetchone() == (0,)
        at = datetime(2019, 1, 1, tzinfo=UTC)
        with pytest.raises(Unindexed):
            fast_in_effect(store, pid, at, last)
        assert state_in_effect(store, pid, at, last) == in_effect(store.history(pid), at)
    finally:
        store.close()


def test_a_policy_clock_counts_with_the_policy_folded_not_the_one_recorded(
    store_url: str,
) -> None:
    """A second life recorded while the first, in effect, had not ended yet: on a date
    between, the second life's renewal notice is folded onto the first life's state, so its
    clock runs with the first life's notice (30 days), not the second's (330 days) that the
    index recorded with it; the index must then count it anew, as the full fold does."""
    store = PartnershipStore(store_url, snapshot_interval=SNAPSHOTS)
    pid = "partnership-effective-two-lives"
    try:
        live(store, pid, "2017-06-01", "P30D", "2018-01-01")
        first = store.state(pid)
        assert first is not None
        command(store, pid, Expire(), ENGINE_NOW, first.version)
        live(store, pid, "2018-06-01", "P330D", "2018-07-01")
        second = store.state(pid)
        assert second is not None
        last = command(store, pid, NoteRenewalDue(), ENGINE_NOW, second.version)
        history = store.history(pid)
        notice = history[-1].event
        assert isinstance(notice, RenewalDue)
        # both terms end at the same instant (the term runs from when the signing was
        # recorded): half a year before it, the first life has not expired, and the
        # second's notice is due by its own policy but not by the first life's
        at = notice.expires_at - timedelta(days=180)
        expected = in_effect(history, at)
        assert expected is not None and expected.stage == "active"
        assert expected.proposed_version == 1 and not expected.renewal_due_noted
        assert fast_in_effect(store, pid, at, last) == expected
        for day in range(0, 10 * 365, 15):
            on = datetime(2017, 6, 1, tzinfo=UTC) + timedelta(days=day)
            assert fast_in_effect(store, pid, on, last) == in_effect(history, on), on
    finally:
        store.close()


def live(store: PartnershipStore, pid: str, proposed: str, notice: str, signed: str) -> None:
    """One life of `pid`: proposed, talks, a meeting, a draft, the approval, the signing."""
    proposal = {
        **story.proposal(),
        "date": proposed,
        "policy": {"term": "P365D", "renewal_notice": notice},
    }
    events = decide_proposal(pid, parse_proposal(proposal), PEOPLE_NOW)
    meta = CommandMeta("propose", "tester", f"{pid}:propose:{proposed}", pid, "run-1")
    store.append(pid, events, meta, None)
    for name, payload in story.steps()[:5]:
        if "date" in payload or name in ("open_talks", "draft_memorandum"):
            payload["date"] = signed if name == "sign_memorandum" else proposed
        state = store.state(pid)
        assert state is not None
        command(store, pid, parse_command(name, payload), PEOPLE_NOW, state.version)


def command(store: PartnershipStore, pid: str, cmd: Command, now: datetime, version: int) -> int:
    state = store.state(pid)
    decision = decide(state, cmd, now)  # type: ignore[arg-type]
    assert not isinstance(decision, Rejection), decision
    meta = CommandMeta(cmd.name, "tester", f"{pid}:{version}", pid, "run-1")
    return store.append(pid, decision, meta, version).version
