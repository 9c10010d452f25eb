"""Read models: incremental equals rebuilt from scratch; a stopped rebuild resumes exactly."""

from __future__ import annotations

import json

import pytest

from audit.projections import ReadModels
from store.application import PartnershipStore
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
