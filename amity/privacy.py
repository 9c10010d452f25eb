"""`amity forget PERSON`: crypto-shred one person's names, in the store and in running workflows.

The store seals persons' names under per-person keys when AMITY_PERSONAL_DATA_KEYS=on
(store/personal_keys.py). Forgetting, in this order:

1. turns the person's key into a tombstone: the key is gone, the name can never be sealed
   under a new key again, and every writer writes it as `[forgotten]` from then on (a
   worker drops its cached aggregates within store.personal_keys.CACHE_SECONDS);
2. rebuilds the read models (which hold readable copies of partnerships' state) and
   rewrites the database so no freed page keeps the key or an old copy;
3. tells each running partnership workflow of this store that still holds the name (query
   `status_holds_person`) to drop it (signal `forget_person`); both carry a salted digest of the
   name, never the name.

The log itself is untouched: its bytes, and so the audit's Merkle tree and checkpoints,
stay valid; the name now reads as `[forgotten]`. Running it again is safe, and tells any
workflow that still holds the name (after an engine outage, say) once more.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio.client import Client

from domain.forgetting import ForgetMark
from store.application import PartnershipStore
from store.personal_keys import ALREADY_FORGOTTEN, UNKNOWN

WORKFLOW_TYPE = "PartnershipWorkflow"
RUNNING = f"WorkflowType = '{WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'"
#: How long to wait for one workflow to answer whether it holds the name.
QUERY_TIMEOUT = timedelta(seconds=5)


class UnknownPerson(LookupError):  # noqa: N818 - reads as the situation it names
    """The store holds no key for that name."""


@dataclass(frozen=True)
class Forgotten:
    read_model_events: int
    already: bool = False


@dataclass
class Told:
    """Which running partnerships were told to drop the name."""

    checked: int = 0
    told: list[str] = field(default_factory=list)
    unanswered: list[str] = field(default_factory=list)


def forget(store: PartnershipStore, person: str) -> Forgotten:
    """Tombstone the person's key, rebuild read models, scrub; UnknownPerson if no key."""
    from audit.projections import ReadModels

    outcome = store.forget(person)
    if outcome == UNKNOWN:
        raise UnknownPerson(
            "no personal data key for that name (names are keyed only when the store runs"
            " with AMITY_PERSONAL_DATA_KEYS=on)"
        )
    models = ReadModels(store)
    rebuilt = 0
    if models.position() > 0:
        models.reset()
        rebuilt = models.catch_up()
    store.personal_keys().scrub()
    return Forgotten(read_model_events=rebuilt, already=outcome == ALREADY_FORGOTTEN)


async def tell_workflows(client: Client, store: PartnershipStore, person: str) -> Told:
    """Signal `forget_person` to every running partnership of this store holding the name.

    A workflow that cannot answer the question (no worker polling its queue, an older
    worker without the query) is told anyway: a salted digest in its history is less
    harmful than the name staying in its state.
    """
    told = Told()
    async for execution in client.list_workflows(RUNNING):
        partnership_id = execution.id
        if not store.history(partnership_id, lte=1):
            continue  # a partnership of another store: it never held this store's persons
        told.checked += 1
        mark = ForgetMark.of(person)
        handle = client.get_workflow_handle(partnership_id, run_id=execution.run_id)
        try:
            holds = await handle.query("status_holds_person", mark, rpc_timeout=QUERY_TIMEOUT)
        except Exception:  # noqa: BLE001 - timed out, rejected, failed: tell it anyway
            told.unanswered.append(partnership_id)
            holds = True
        if not holds:
            continue
        # To the workflow id, not the run: a run that continued as new meanwhile hands
        # over its state, and the newest run is the one that must hear it.
        await client.get_workflow_handle(partnership_id).signal("forget_person", mark)
        told.told.append(partnership_id)
    return told
