"""Evidence bundles: events with inclusion proofs under a signed checkpoint, checkable offline.

A bundle is one JSON file: the checkpoint (a C2SP signed note), the verifier key, and for
each event its stored record (the exact state bytes, base64), the same record decoded for
people to read, its position and an RFC 9162 inclusion proof. `verify_bundle` needs
nothing but the file (and, better, the operator's published key).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from audit import note
from audit.checkpoints import CheckpointTable
from audit.log import entries, leaf_data
from audit.merkle import leaf_hash, verify_inclusion
from audit.verify import TrustedKey, verify_store
from domain.identity import aggregate_id
from domain.store import PartnershipStore

FORMAT = "amity-evidence-bundle/1"


class BundleError(ValueError):
    """The store cannot back a bundle (no checkpoint, or the log disagrees with it)."""


class NotABundle(ValueError):  # noqa: N818 - reads best at the call site
    """The file is not an evidence bundle at all (bad input, not a failed check)."""


def export_bundle(
    store: PartnershipStore, partnership_id: str | None, trusted: TrustedKey | None = None
) -> tuple[dict[str, Any], int]:
    """The bundle, and how many newer events no checkpoint covers yet (left out)."""
    report = verify_store(store, trusted)
    if not report.ok:
        raise BundleError(f"the log fails verification: {report.problems[0].message}")
    checkpoints = CheckpointTable(store).all()
    if not checkpoints:
        raise BundleError("no checkpoint yet: run `amity audit checkpoint` first")
    latest = checkpoints[-1]
    signed = note.parse(latest.note)
    tree = report.tree
    wanted = aggregate_id(partnership_id) if partnership_id else None
    items: list[dict[str, Any]] = []
    uncovered = 0
    for entry in entries(store):
        if wanted is not None and entry.originator_id != wanted:
            continue
        if entry.position >= signed.size:
            uncovered += 1
            continue
        items.append(
            {
                "position": entry.position,
                "notification_id": entry.notification_id,
                "originator_id": str(entry.originator_id),
                "originator_version": entry.originator_version,
                "topic": entry.topic,
                "state": base64.b64encode(entry.state).decode(),
                "record": _readable(entry.state),
                "proof": [
                    base64.b64encode(p).decode()
                    for p in tree.inclusion_proof(entry.position, signed.size)
                ],
            }
        )
    if partnership_id and not items:
        raise BundleError(f"no checkpointed events for {partnership_id}")
    bundle = {
        "format": FORMAT,
        "partnership_id": partnership_id,
        "checkpoint": latest.note,
        "public_key": latest.public_key,
        "tree_size": signed.size,
        "root_hash": base64.b64encode(signed.root).decode(),
        "entries": items,
    }
    return bundle, uncovered


@dataclass
class BundleReport:
    entries: int = 0
    tree_size: int = 0
    key: str = ""
    key_pinned: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def load_bundle(data: bytes) -> dict[str, Any]:
    try:
        bundle = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise NotABundle(f"not JSON: {error}") from None
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        raise NotABundle(f"not an evidence bundle (format {FORMAT} expected)")
    return bundle


def _check_entry(item: Any, checkpoint: note.Checkpoint) -> str | None:
    try:
        position = int(item["position"])
        state = base64.b64decode(item["state"], validate=True)
        leaf = leaf_hash(
            leaf_data(
                int(item["notification_id"]),
                UUID(item["originator_id"]),
                int(item["originator_version"]),
                str(item["topic"]),
                state,
            )
        )
        proof = [base64.b64decode(p, validate=True) for p in item["proof"]]
    except (KeyError, TypeError, ValueError, binascii.Error) as error:
        return f"malformed entry: {error}"
    if not verify_inclusion(position, checkpoint.size, leaf, proof, checkpoint.root):
        return f"position {position}: not included in the signed tree (record or proof altered)"
    try:
        readable = json.loads(state)
    except ValueError:
        readable = None
    if readable != item.get("record"):
        return f"position {position}: the readable record differs from the signed bytes"
    return None


def verify_bundle(bundle: dict[str, Any], pinned: TrustedKey | None = None) -> BundleReport:
    """Check a bundle offline: the signature, then every entry's inclusion proof."""
    report = BundleReport(key_pinned=pinned is not None)
    try:
        name, public = pinned or note.parse_verifier_key(str(bundle.get("public_key", "")))
        checkpoint = note.parse(str(bundle.get("checkpoint", "")))
    except note.NoteError as error:
        report.problems.append(str(error))
        return report
    report.key = note.verifier_key(name, public)
    report.tree_size = checkpoint.size
    if not note.verify(checkpoint, name, public):
        report.problems.append(f"the checkpoint's signature does not verify with key {name}")
        return report
    if bundle.get("tree_size") != checkpoint.size or bundle.get("root_hash") != (
        base64.b64encode(checkpoint.root).decode()
    ):
        report.problems.append("tree_size / root_hash differ from the signed checkpoint")
    items = bundle.get("entries")
    if not isinstance(items, list):
        report.problems.append("no entries list")
        return report
    versions: dict[str, list[int]] = {}
    for item in items:
        problem = _check_entry(item, checkpoint)
        if problem:
            report.problems.append(problem)
        else:
            report.entries += 1
            versions.setdefault(item["originator_id"], []).append(item["originator_version"])
    for originator, found in versions.items():
        if bundle.get("partnership_id") and found != list(range(1, len(found) + 1)):
            report.problems.append(f"aggregate {originator}: versions {found} are not 1..n")
    return report


def _readable(state: bytes) -> Any:
    """The record as JSON, or None when the store encrypts records at rest."""
    try:
        return json.loads(state)
    except ValueError:
        return None
