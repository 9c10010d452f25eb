"""The event store, on SQLite and on PostgreSQL (tests/conftest.py BOTH_STORES): optimistic
appends, idempotency, atomic commands, snapshots."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain.decider import fold
from domain.errors import IllegalEvent
from domain.identity import aggregate_id
from domain.slices.correct import Corrected
from domain.slices.mark_dormant import BecameDormant
from domain.slices.record_approval import ProposalRejected
from domain.slices.record_exchange import Reactivated
from domain.slices.withdraw import Withdrawn
from domain.values import Stage
from runtime.settings import open_store
from store.application import (
    AppendResult,
    CommandMeta,
    PartnershipStore,
    RequestReused,
    StoreConflict,
)
from store.options import DEFAULT_SNAPSHOT_INTERVAL

from .scenario import (
    ACTIVE,
    JING,
    PID,
    approved,
    at,
    drafted,
    exchange,
    meeting,
    proposed,
    signed,
    talks_opened,
)


def meta(request_id: str, command: str = "cmd") -> CommandMeta:
    return CommandMeta(
        command=command,
        actor="operator",
        request_id=request_id,
        workflow_id=PID,
        run_id="run-1",
    )


class CountingStore(PartnershipStore):
    """The real store, counting its writes (one transaction per command appended alone,
    never one per event)."""

    @property
    def saves(self):
        return self.group_commit.transactions


@pytest.fixture
def store(store_url):
    opened = CountingStore(store_url)
    yield opened
    opened.close()


def propose(store, request_id="propose-1"):
    return store.append(PID, [proposed()], meta(request_id, "propose"), None)


def test_append_at_the_expected_version(store):
    assert propose(store).version == 1
    result = store.append(PID, [talks_opened()], meta("r-2", "open_talks"), 1)
    assert (result.version, result.duplicate) == (2, False)
    history = store.history(PID)
    assert [h.originator_version for h in history] == [1, 2]
    assert [h.event.type for h in history] == ["proposed", "talks_opened"]
    assert history[1].request_id == "r-2" and history[1].command == "open_talks"
    assert history[1].actor == "operator" and history[1].workflow_id == PID
    assert history[1].timestamp.utcoffset() == timedelta(0)
    assert store.state(PID).stage == Stage.IN_TALKS and store.state(PID).version == 2


def test_the_same_request_again_is_a_duplicate_and_writes_nothing(store):
    propose(store)
    first = store.append(PID, [talks_opened()], meta("r-2"), 1)
    saves = store.saves
    again = store.append(PID, [talks_opened()], meta("r-2"), 1)  # a retried activity
    assert (again.version, again.duplicate) == (first.version, True)
    assert store.saves == saves
    assert len(store.history(PID)) == 2


def test_a_duplicate_is_found_after_later_commands(store):
    propose(store)
    store.append(PID, [talks_opened()], meta("r-2"), 1)
    store.append(PID, [meeting()], meta("r-3"), 2)
    again = store.append(PID, [talks_opened()], meta("r-2"), 1)
    assert (again.version, again.duplicate) == (2, True)
    assert len(store.history(PID)) == 3


def test_a_request_id_reused_for_other_events_or_another_command_is_refused(store):
    propose(store)
    store.append(PID, [talks_opened()], meta("r-2", "open_talks"), 1)
    version = store.state(PID).version
    with pytest.raises(RequestReused, match="r-2 was already used for open_talks"):
        store.append(PID, [talks_opened(at(9))], meta("r-2", "open_talks"), 1)
    with pytest.raises(RequestReused, match="r-2 was already used for open_talks"):
        store.append(PID, [talks_opened()], meta("r-2", "record_meeting"), 1)
    assert store.state(PID).version == version and len(store.history(PID)) == 2


def test_a_duplicate_of_a_multi_event_command_returns_its_last_version(store):
    propose(store)
    events = [
        approved(decision="denied"),
        ProposalRejected(
            at=at(4), side="partner", authority="Cupertino City Council", reason="denied"
        ),
    ]
    assert store.append(PID, events, meta("deny"), 1).version == 3
    saves = store.saves
    assert store.append(PID, events, meta("deny"), 1) == AppendResult(3, True)
    assert store.saves == saves and len(store.history(PID)) == 3


def test_a_different_request_at_a_stale_version_is_a_conflict(store):
    propose(store)
    store.append(PID, [talks_opened()], meta("r-2"), 1)
    with pytest.raises(StoreConflict, match="the store is at version 2, the workflow expected 1"):
        store.append(PID, [Withdrawn(at=at(2), reason="r")], meta("r-other"), 1)
    with pytest.raises(StoreConflict):
        store.append(PID, [meeting()], meta("r-ahead"), 5)  # ahead of the store, too
    assert [h.event.type for h in store.history(PID)] == ["proposed", "talks_opened"]


def test_an_illegal_event_raises_and_writes_nothing(store):
    propose(store)
    saves = store.saves
    with pytest.raises(IllegalEvent, match="memorandum_drafted is not allowed while proposed"):
        store.append(PID, [drafted()], meta("r-2"), 1)
    with pytest.raises(IllegalEvent):
        store.append("partnership-unknown", [talks_opened()], meta("r-3"), None)
    assert store.saves == saves
    assert len(store.history(PID)) == 1 and store.state("partnership-unknown") is None


def test_one_save_per_command_and_all_or_nothing(store):
    propose(store)
    saves = store.saves
    # record_approval denied on a required authority: two events, one save
    two = [
        approved(decision="denied"),
        ProposalRejected(
            at=at(4), side="partner", authority="Cupertino City Council", reason="denied"
        ),
    ]
    assert store.append(PID, two, meta("deny"), 1).version == 3
    assert store.saves == saves + 1
    history = store.history(PID)
    assert [h.originator_version for h in history] == [1, 2, 3]
    assert {h.request_id for h in history[1:]} == {"deny"}
    assert store.state(PID).stage == Stage.REJECTED


def test_a_command_whose_second_event_is_illegal_lands_not_at_all(store):
    propose(store)
    saves = store.saves
    with pytest.raises(IllegalEvent):
        store.append(PID, [talks_opened(), talks_opened(at(2))], meta("r-2"), 1)
    assert store.saves == saves and len(store.history(PID)) == 1
    assert store.state(PID).stage == Stage.PROPOSED
    # the same request_id can then be applied properly (nothing of it was stored)
    assert store.append(PID, [talks_opened()], meta("r-2"), 1).duplicate is False


def test_no_empty_command(store):
    with pytest.raises(ValueError, match="at least one event"):
        store.append(PID, [], meta("r-0"), None)


def test_state_at_an_older_version(store):
    history = [*ACTIVE, exchange(at(20))]
    for version, event in enumerate(history, start=1):
        store.append(PID, [event], meta(f"r-{version}"), None if version == 1 else version - 1)
    for version in range(1, len(history) + 1):
        assert store.state(PID, version) == fold(history[:version])
    assert store.state(PID, 2).stage == Stage.IN_TALKS
    assert store.state(PID, 7).stage == Stage.ACTIVE and store.state(PID, 7).exchanges == []
    assert store.state(PID).version == 8
    assert [h.originator_version for h in store.history(PID, gt=3, lte=5)] == [4, 5]


def test_a_proposal_after_a_terminal_stage_begins_a_new_life(store):
    propose(store)
    store.append(PID, [Withdrawn(at=at(1), by=JING, reason="no budget")], meta("w"), 1)
    assert store.state(PID).stage == Stage.WITHDRAWN
    result = store.append(PID, [proposed(when=at(30), tier="sister_city")], meta("propose-2"), None)
    assert (result.version, result.duplicate) == (3, False)
    state = store.state(PID)
    assert state.stage == Stage.PROPOSED and state.proposed_version == 3
    assert state.tier.value == "sister_city" and state.closing_reason is None
    assert store.state(PID, 2).stage == Stage.WITHDRAWN  # the earlier life is kept
    assert len(store.history(PID)) == 3


def test_a_proposal_while_a_life_is_running_is_refused(store):
    propose(store)
    store.append(PID, [talks_opened()], meta("r-2"), 1)
    with pytest.raises(IllegalEvent, match="proposed while the partnership is in_talks"):
        store.append(PID, [proposed(when=at(3))], meta("propose-2"), None)
    assert len(store.history(PID)) == 2
    # the first proposal's request again is a duplicate, not a second life
    assert propose(store).duplicate is True


def test_partnerships_do_not_see_each_other(store):
    propose(store)
    other = "partnership-mianyang-sunnyvale"
    # the same request_id on another partnership is another command
    assert store.append(other, [proposed()], meta("propose-1"), None) == AppendResult(1, False)
    assert store.state(other).version == 1 and store.state(PID).version == 1


def test_reopened_store_and_snapshots_give_the_same_state(store_url):
    url = store_url
    history = [proposed(), talks_opened(), meeting(), drafted(), approved(), signed()]
    history += [exchange(at(10 + i), "culture") for i in range(6)]
    first = open_store(url, snapshot_interval=4)
    try:
        for version, event in enumerate(history, start=1):
            first.append(PID, [event], meta(f"r-{version}"), None if version == 1 else version - 1)
    finally:
        first.close()
    second = open_store(url, snapshot_interval=4)
    try:
        assert second.state(PID) == fold(history)
        assert second.state(PID, 6) == fold(history[:6])
        assert second.append(PID, [history[-1]], meta("r-12"), 11).duplicate is True
    finally:
        second.close()


def test_two_writers_on_one_store(store_url):
    """Two workers' stores on the same database: the loser of a race gets a conflict, or,
    if it was retrying the same request, the winner's result."""
    url = store_url
    first, second = open_store(url), open_store(url)
    try:
        first.append(PID, [proposed()], meta("propose-1"), None)
        assert second.state(PID).version == 1  # second has it cached at version 1
        first.append(PID, [talks_opened()], meta("r-2"), 1)
        assert second.append(PID, [talks_opened()], meta("r-2"), 1) == AppendResult(2, True)
        with pytest.raises(StoreConflict):
            second.append(PID, [Withdrawn(at=at(2), reason="r")], meta("r-3"), 1)
        assert second.state(PID).stage == Stage.IN_TALKS
        assert [h.request_id for h in first.history(PID)] == ["propose-1", "r-2"]
    finally:
        first.close()
        second.close()


def test_a_request_id_is_only_recognised_after_the_expected_version(store):
    """Documents the store's idempotency window: it looks only at events after the
    expected version (the retried-activity case); a request_id reused at the current
    version is the workflow's to catch, and the store appends it."""
    propose(store)
    store.append(PID, [talks_opened()], meta("r-2"), 1)
    again = store.append(PID, [meeting()], meta("r-2"), 2)
    assert again == AppendResult(3, False)


def snapshot_versions(store: PartnershipStore) -> list[int]:
    assert store.snapshots is not None
    return [s.originator_version for s in store.snapshots.get(aggregate_id(PID))]


def fill(store: PartnershipStore, exchanges: int) -> list:
    """The active partnership (7 events), then `exchanges` one-event commands."""
    history = [*ACTIVE, *(exchange(at(20 + i)) for i in range(exchanges))]
    for version, event in enumerate(history, start=1):
        store.append(PID, [event], meta(f"r-{version}"), None if version == 1 else version - 1)
    return history


def test_snapshot_interval_from_the_environment(store_url, monkeypatch):
    """AMITY_SNAPSHOT_INTERVAL=3: a snapshot at every third version, equal to the fold."""
    monkeypatch.setenv("AMITY_SNAPSHOT_INTERVAL", "3")
    store = open_store(store_url)
    try:
        assert store.snapshot_interval == 3
        history = fill(store, 3)  # versions 1..10
        assert snapshot_versions(store) == [3, 6, 9]
        for snapshot in store.snapshots.get(aggregate_id(PID)):
            assert snapshot.state == fold(history[: snapshot.originator_version])
        # a two-event command (versions 12, 13) snapshots at 12, in its middle
        store.append(PID, [BecameDormant(at=at(400), idle_since=at(22))], meta("r-11"), 10)
        two = [Reactivated(at=at(401)), exchange(at(401))]
        assert store.append(PID, two, meta("r-12"), 11).version == 13
        assert snapshot_versions(store) == [3, 6, 9, 12]
        assert store.snapshots is not None
        twelfth = list(store.snapshots.get(aggregate_id(PID)))[-1]
        assert twelfth.state.stage == Stage.ACTIVE and twelfth.state.version == 12
    finally:
        store.close()


def test_snapshot_interval_argument_wins_and_default_is_100(store_url, monkeypatch):
    monkeypatch.setenv("AMITY_SNAPSHOT_INTERVAL", "3")
    store = open_store(store_url, snapshot_interval=4)
    try:
        fill(store, 2)  # versions 1..9
        assert snapshot_versions(store) == [4, 8]
    finally:
        store.close()
    monkeypatch.delenv("AMITY_SNAPSHOT_INTERVAL")
    default = open_store(store_url)
    try:
        assert default.snapshot_interval == DEFAULT_SNAPSHOT_INTERVAL == 100
        default.append(PID, [exchange(at(50))], meta("r-10"), 9)
        assert snapshot_versions(default) == [4, 8]
    finally:
        default.close()


def test_a_correction_of_an_old_record_is_checked_against_the_stored_event(store):
    """The state keeps recent exchanges only; the store reads an older target itself."""
    for n, event in enumerate([*ACTIVE, *(exchange(at(10 + n)) for n in range(25))]):
        store.append(PID, [event], meta(f"r-{n}"), n or None)
    first = len(ACTIVE) + 1
    assert first not in {x.version for x in store.state(PID).exchanges}
    target = store.correction_target(PID, first)
    assert target is not None and target.target_type == "exchange_recorded"
    assert target.values["field"] == "culture" and target.values["date"] == str(at(10).date())
    assert store.correction_target(PID, 2).target_type is None  # talks_opened
    assert store.correction_target(PID, 999) is None

    def corrected(target_type, field, _n):
        return Corrected(
            at=at(90),
            target_version=first,
            target_type=target_type,
            reason="r",
            correction={"field": field},
            before={"field": "culture"},
        )

    version = store.state(PID).version
    with pytest.raises(IllegalEvent, match="the store holds exchange_recorded"):
        store.append(PID, [corrected("invitation_extended", "trade", 1)], meta("bad"), version)
    store.append(PID, [corrected("exchange_recorded", "trade", 1)], meta("fix"), version)
    # a later look at the target sees the correction applied
    assert store.correction_target(PID, first).values["field"] == "trade"
    assert store.state(PID).exchanges_by_field == {"culture": 24, "trade": 1}
