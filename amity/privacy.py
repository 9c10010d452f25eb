"""`amity forget PERSON`: crypto-shred one person's names in the event store.

The store seals persons' names under per-person keys when AMITY_PERSONAL_DATA_KEYS=on
(domain/privacy.py). Forgetting deletes the person's key, rebuilds the read models (which
hold readable copies of partnerships' state) and rewrites the database so no freed page
keeps the key or an old copy. The log itself is untouched: its bytes, and so the audit's
Merkle tree and checkpoints, stay valid; the name now reads as `[forgotten]`.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.store import PartnershipStore


class UnknownPerson(LookupError):  # noqa: N818 - reads as the situation it names
    """The store holds no key for that name."""


@dataclass(frozen=True)
class Forgotten:
    read_model_events: int


def forget(store: PartnershipStore, person: str) -> Forgotten:
    """Delete the person's key, rebuild read models, scrub; UnknownPerson if no key."""
    from audit.projections import ReadModels

    if not store.forget(person):
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
    return Forgotten(read_model_events=rebuilt)
