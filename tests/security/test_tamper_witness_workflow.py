"""The CheckpointWitness workflow itself, through the Temporal client: it refuses a
checkpoint that is not consistent with the last one it holds (or not signed by the key it
pinned) with a one-line reason and records nothing; it accepts a consistent one."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateFailedError
from temporalio.common import WorkflowIDConflictPolicy

from tests.conftest import Engine
from tlog import note
from tlog.merkle import Tree, leaf_hash
from tlog.witness import (
    QUERY,
    UPDATE,
    WORKFLOW_TYPE,
    AddCheckpoint,
    WitnessStart,
    WitnessState,
    witness_id,
)


def tree_of(*records: bytes) -> Tree:
    return Tree(leaf_hash(record) for record in records)


def request(
    origin: str, key: Ed25519PrivateKey, tree: Tree, old_size: int, first: bool = False
) -> AddCheckpoint:
    signed = note.sign(note.body(origin, tree.size, tree.root()), origin, key)
    proof = tree.consistency_proof(old_size) if 0 < old_size < tree.size else []
    return AddCheckpoint(
        checkpoint=signed,
        old_size=old_size,
        proof=[base64.b64encode(p).decode() for p in proof],
        key=note.verifier_key(origin, key.public_key()) if first else None,
    )


async def add(client: Client, engine: Engine, origin: str, sent: AddCheckpoint) -> WitnessState:
    start = WithStartWorkflowOperation(
        WORKFLOW_TYPE,
        WitnessStart(origin=origin),
        id=witness_id(origin),
        task_queue=engine.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return await client.execute_update_with_start_workflow(
        UPDATE, sent, start_workflow_operation=start, result_type=WitnessState
    )


async def refused(client: Client, engine: Engine, origin: str, sent: AddCheckpoint) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as caught:
        await add(client, engine, origin, sent)
    reason = str(getattr(caught.value.cause, "message", caught.value.cause))
    assert "\n" not in reason
    return reason


async def test_tamper_witness_refuses_inconsistent_and_accepts_consistent(
    engine: Engine,
) -> None:
    client = engine.client
    origin = f"amity.test/{uuid.uuid4().hex[:12]}"
    key = Ed25519PrivateKey.generate()
    records = [f"event {i}".encode() for i in range(10)]
    first = tree_of(*records[:6])
    state = await add(client, engine, origin, request(origin, key, first, 0, first=True))
    assert (state.size, state.count) == (6, 1)

    grown = tree_of(*records)
    forked = tree_of(*records[:3], b"rewritten", *records[4:])
    reason = await refused(client, engine, origin, request(origin, key, forked, 6))
    assert "not consistent with the witnessed checkpoint of size 6" in reason
    same_size_other_root = tree_of(*records[:5], b"rewritten")
    reason = await refused(client, engine, origin, request(origin, key, same_size_other_root, 6))
    assert "not consistent" in reason
    truncated = tree_of(*records[:4])
    assert "smaller than the witnessed 6" in await refused(
        client, engine, origin, request(origin, key, truncated, 6)
    )
    foreign = Ed25519PrivateKey.generate()
    assert "does not verify with the pinned key" in await refused(
        client, engine, origin, request(origin, foreign, grown, 6, first=True)
    )
    assert "is not the size this witness holds (6)" in await refused(
        client, engine, origin, request(origin, key, grown, 5)
    )
    other_log = request(origin + "x", key, grown, 6)
    assert "this witness is for" in await refused(client, engine, origin, other_log)

    state = await add(client, engine, origin, request(origin, key, grown, 6))
    assert (state.size, state.count) == (10, 2)
    handle = client.get_workflow_handle(witness_id(origin))
    latest = WitnessState.model_validate(await handle.query(QUERY))
    assert latest == state
    assert note.parse(latest.note).root == grown.root()

    # the refused ones left no trace: the history holds exactly the two accepted checkpoints
    accepted = [
        event
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    ]
    assert len(accepted) == 2


async def test_tamper_witness_state_carried_to_a_new_run_still_binds(engine: Engine) -> None:
    """What continue-as-new hands over (the latest checkpoint, the pinned key) is enough to
    refuse a fork and accept growth in the next run."""
    client = engine.client
    origin = f"amity.test/{uuid.uuid4().hex[:12]}"
    key = Ed25519PrivateKey.generate()
    records = [f"event {i}".encode() for i in range(9)]
    held = request(origin, key, tree_of(*records[:5]), 0, first=True)
    carried = WitnessState(origin=origin, key=str(held.key), note=held.checkpoint, size=5, count=7)
    await client.start_workflow(
        WORKFLOW_TYPE,
        WitnessStart(origin=origin, state=carried),
        id=witness_id(origin),
        task_queue=engine.task_queue,
    )
    forked = tree_of(b"rewritten", *records[1:])
    assert "not consistent" in await refused(
        client, engine, origin, request(origin, key, forked, 5)
    )
    state = await add(client, engine, origin, request(origin, key, tree_of(*records), 5))
    assert (state.size, state.count) == (9, 8)
