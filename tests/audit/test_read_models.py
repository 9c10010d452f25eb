"""Read models: incremental equals rebuilt from scratch; a stopped rebuild resumes exactly."""

from __future__ import annotations

import json
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from audit.projections import ReadModels
from domain.identity import aggregate_id
from domain.state import PartnershipState
from store.application import PartnershipStore
from store.mapper import PydanticMapper
from tests.audit.conftest import AuditCli, tell_story

IDS = ["partnership-a-b", "partnership-c-d", "partnership-e-f"]


def test_incremental_equals_rebuilt_and_a_stopped_rebuild_resumes(
    store: PartnershipStore, audit_cli: AuditCli
) -> None:
    models = ReadModels(store)
    for pid in IDS:  # maintained incrementally, a little after each story
        tell_story(store, pid)
        models.catch_up(batch=4)
    incremental = (models.stats(), models.rows())
    assert incremental[0].position == 33
    assert incremental[0].pipeline == {"active": 3}
    assert {(r["city"], r["tier"], r["count"]) for r in incremental[0].in_force} == {
        ("Mianyang", "friendly_relations", 3),
        ("Cupertino", "friendly_relations", 3),
    }
    assert {(r["field"], r["year"], r["count"]) for r in incremental[0].exchanges} == {
        ("science_technology", 2018, 3),
        ("trade", 2018, 3),
    }

    models.reset()
    assert models.stats().pipeline == {}
    models.catch_up(batch=7)
    assert (models.stats(), models.rows()) == incremental

    # a rebuild interrupted after two batches keeps what it committed, then resumes
    models.reset()

    def stop_after_two(done: int, position: int) -> None:
        if done >= 10:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        models.catch_up(batch=5, progress=stop_after_two)
    assert models.position() == 10
    assert models.catch_up(batch=5) == 23
    assert (models.stats(), models.rows()) == incremental

    # the command line: stats resumes and prints; replay rebuilds with a progress bar
    tell_story(store, "partnership-g-h")
    stats = audit_cli("stats", "--json")
    assert stats.exit_code == 0, stats.stderr
    assert json.loads(stats.stdout)["pipeline_by_stage"] == {"active": 4}
    rebuilt = audit_cli("replay", "--projections")
    assert rebuilt.exit_code == 0, rebuilt.stderr
    assert "read models rebuilt from 44 events" in rebuilt.stdout
    assert "Mianyang" in audit_cli("stats").stdout
    assert audit_cli("replay").exit_code == 2


def test_the_read_models_hold_the_states_the_store_folds(store: PartnershipStore) -> None:
    """A rebuild reads the log's rows and decodes them itself (no StoredEvent per event):
    each partnership's row is the state the store folds through its own mapper."""
    for pid in IDS:
        tell_story(store, pid)
    models = ReadModels(store)
    models.catch_up(batch=6)  # batches that cut stories in the middle
    rows = {row[1]: row for row in models.rows()}
    assert sorted(rows) == IDS
    for pid in IDS:
        folded = store.state(pid)
        assert folded is not None
        originator, _, stage, tier, *_, version, state = rows[pid]
        assert originator == str(aggregate_id(pid))
        assert (stage, tier, version) == (folded.stage.value, folded.tier.value, folded.version)
        assert PartnershipState.model_validate_json(state) == folded
        assert state == folded.model_dump_json()


def test_decoding_columns_is_decoding_a_stored_event(store: PartnershipStore) -> None:
    tell_story(store, IDS[0])
    mapper = store.mapper
    assert isinstance(mapper, PydanticMapper)
    found = store.recorder.select_notifications(start=1, limit=100)
    assert len(found) == 11
    for n in found:
        stored = StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
        expected = mapper.to_domain_event(stored)
        owner = UUID(str(n.originator_id))
        for text in (None, str(owner)):
            got = mapper.decode(owner, n.originator_version, n.topic, n.state, text)
            assert got == expected
            assert (got.originator_id, got.originator_version) == (owner, n.originator_version)
