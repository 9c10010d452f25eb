"""Evidence bundles: events with inclusion proofs under a signed checkpoint, checkable offline.

A bundle is one JSON file (format in docs/audit-formats.md): the checkpoint (a C2SP signed
note), for a partnership its signed head statement (`audit.head`), and for each event its
stored record (the exact state bytes, base64), the same record decoded for people to read,
its position and an RFC 9162 inclusion proof. The verifier key inside is informational only:
`verify_bundle` checks signatures with a key the auditor trusts from elsewhere.

What a verified bundle proves: every entry is in the log the trusted key signed; for a
partnership, the events are exactly versions 1..N of that partnership's aggregate, where N is
what the key holder signed for that checkpoint; for the whole log, every position 0..size-1 is
present, so nothing can be missing.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from typing import Any
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import head as heads
from audit.bundle_file import FORMAT, MAX_DEPTH, NotABundle, load_bundle, nesting, parse_json
from audit.checkpoints import CheckpointTable
from audit.log import entries, leaf_data
from audit.verify import TrustedKey, verify_store
from domain.identity import aggregate_id
from store.application import PartnershipStore
from tlog import note
from tlog.merkle import leaf_hash, verify_inclusion

__all__ = [
    "FORMAT",
    "BundleError",
    "BundleReport",
    "NotABundle",
    "export_bundle",
    "load_bundle",
    "verify_bundle",
]


class BundleError(ValueError):
    """The store cannot back a bundle (no checkpoint, or the log disagrees with it)."""


def export_bundle(
    store: PartnershipStore, partnership_id: str | None, signing: Ed25519PrivateKey
) -> tuple[dict[str, Any], int]:
    """The bundle, and how many newer events no checkpoint covers yet (left out).

    `signing` is the audit key: it must be the key of the latest checkpoint, and it signs the
    partnership's head statement for that checkpoint."""
    checkpoints = CheckpointTable(store, create=False).all()
    if not checkpoints:
        raise BundleError("no checkpoint yet: run `amity audit checkpoint` first")
    latest = checkpoints[-1]
    signed = note.parse(latest.note)
    name = signed.origin
    if note.verifier_key(name, signing.public_key()) != latest.public_key:
        raise BundleError(
            "the audit signing key is not the key of the latest checkpoint:"
            " run `amity audit checkpoint` with the current key first"
        )
    report = verify_store(store, (name, signing.public_key()))
    if not report.ok:
        raise BundleError(f"the log fails verification: {report.problems[0].message}")
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
    head_note = None
    if partnership_id:
        if not items:
            raise BundleError(f"no checkpointed events for {partnership_id}")
        try:
            statement = heads.make(
                name, partnership_id, items[-1]["originator_version"], signed.size, signed.root
            )
            head_note = heads.sign(statement, name, signing)
        except heads.HeadError as error:
            raise BundleError(str(error)) from None
    bundle = {
        "format": FORMAT,
        "partnership_id": partnership_id,
        "checkpoint": latest.note,
        "head": head_note,
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
    partnership_id: str | None = None
    last_version: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class _Entry:
    position: int
    originator: UUID
    version: int
    record: Any


def _canonical_b64(text: str) -> bytes:
    """Strict base64 that is also the one encoding of its bytes: the unused bits of the last
    character must be zero, so no two different bundles carry the same proven entry."""
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode() != text:
        raise ValueError("not the canonical base64 of its bytes")
    return raw


def _check_entry(item: dict[str, Any], checkpoint: note.Checkpoint) -> _Entry | str:
    """The entry if its leaf is in the signed tree, else what is wrong with it."""
    position = item["position"]
    try:
        originator = UUID(item["originator_id"])
        state = _canonical_b64(item["state"])
        proof = [_canonical_b64(p) for p in item["proof"]]
    except (ValueError, binascii.Error) as error:
        return f"position {position}: malformed entry ({error})"
    leaf = leaf_hash(
        leaf_data(
            item["notification_id"], originator, item["originator_version"], item["topic"], state
        )
    )
    if not verify_inclusion(position, checkpoint.size, leaf, proof, checkpoint.root):
        return f"position {position}: not included in the signed tree (record or proof altered)"
    readable = _readable(state)
    if _canonical(readable) != _canonical(item["record"]):
        return f"position {position}: the readable record differs from the signed bytes"
    return _Entry(position, originator, item["originator_version"], readable)


def _signed_checkpoint(
    bundle: dict[str, Any], trusted: TrustedKey, origin: str, report: BundleReport
) -> note.Checkpoint | None:
    name, public = trusted
    try:
        checkpoint = note.parse(bundle["checkpoint"])
    except note.NoteError as error:
        report.problems.append(f"the checkpoint is not a signed note: {error}")
        return None
    report.tree_size = checkpoint.size
    if checkpoint.origin != origin:
        report.problems.append(
            f"the checkpoint is for log {checkpoint.origin[:80]!r}, not {origin!r}"
        )
        return None
    if not note.verify(checkpoint, name, public):
        carried = bundle["public_key"]
        report.problems.append(
            f"the checkpoint's signature does not verify with the trusted key {name}"
            + (
                " (the bundle names another key, which is not trusted)"
                if carried != report.key
                else ""
            )
        )
        return None
    if bundle["tree_size"] != checkpoint.size or bundle["root_hash"] != (
        base64.b64encode(checkpoint.root).decode()
    ):
        report.problems.append("tree_size / root_hash differ from the signed checkpoint")
    return checkpoint


def _signed_head(
    bundle: dict[str, Any], trusted: TrustedKey, checkpoint: note.Checkpoint, report: BundleReport
) -> heads.Head | None:
    name, public = trusted
    try:
        signed = heads.parse(bundle["head"])
    except heads.HeadError as error:
        report.problems.append(f"the head statement is not a signed head: {error}")
        return None
    if not heads.verify(signed, name, public):
        report.problems.append(f"the head statement's signature does not verify with key {name}")
        return None
    head = signed.head
    if (head.origin, head.tree_size, head.root) != (
        checkpoint.origin,
        checkpoint.size,
        checkpoint.root,
    ):
        report.problems.append(
            f"the head statement is bound to another checkpoint (tree {head.tree_size})"
        )
        return None
    if head.partnership_id != bundle["partnership_id"]:
        report.problems.append(
            f"the bundle says partnership {str(bundle['partnership_id'])[:80]!r}, the signed"
            f" head says {head.partnership_id!r}"
        )
        return None
    if head.aggregate != aggregate_id(head.partnership_id):
        report.problems.append(
            f"the head's aggregate {head.aggregate} is not the one {head.partnership_id} names"
        )
        return None
    report.partnership_id = head.partnership_id
    report.last_version = head.version
    return head


def _is_run(values: list[int], first: int, count: int) -> bool:
    """`values == [first, first + 1, ...]`, `count` of them (without building that list)."""
    return len(values) == count and all(v == i for i, v in enumerate(values, first))


def _versions_problem(versions: list[int], last: int) -> str | None:
    """How `versions` (in log order) differ from exactly 1..last, or None."""
    if _is_run(versions, 1, last):
        return None
    counts = Counter(versions)
    seen = set(counts)
    missing = list(islice((v for v in range(1, last + 1) if v not in seen), 11))
    twice = sorted(v for v, n in counts.items() if n > 1)
    beyond = sorted(v for v in seen if not 1 <= v <= last)
    parts = []
    if missing:
        shown = ", ".join(map(str, missing[:10])) + (" ..." if len(missing) > 10 else "")
        parts.append(f"version(s) {shown} missing")
    if twice:
        parts.append(f"version(s) {', '.join(map(str, twice[:10]))} duplicated")
    if beyond:
        parts.append(f"version(s) {', '.join(map(str, beyond[:10]))} beyond the signed head")
    if not parts:
        parts.append("versions out of order")
    return "; ".join(parts) + f" (the signed head says versions 1..{last})"


def _check_partnership(found: list[_Entry], head: heads.Head, report: BundleReport) -> None:
    strangers = [e.position for e in found if e.originator != head.aggregate]
    if strangers:
        report.problems.append(
            f"position(s) {', '.join(map(str, strangers[:10]))}: events of another aggregate,"
            f" not {head.partnership_id} ({head.aggregate})"
        )
    for entry in found:
        owner = entry.record.get("workflow_id") if isinstance(entry.record, dict) else None
        if owner is not None and owner != head.partnership_id:
            report.problems.append(
                f"position {entry.position}: the record belongs to {str(owner)[:80]!r}"
            )
    if problem := _versions_problem([e.version for e in found], head.version):
        report.problems.append(f"{head.partnership_id}: {problem}")


def _check_whole_log(found: list[_Entry], size: int, report: BundleReport) -> None:
    positions = [e.position for e in found]
    if not _is_run(positions, 0, size):
        present = set(positions)
        missing = list(islice((p for p in range(size) if p not in present), 11))
        report.problems.append(
            f"the whole-log bundle must hold positions 0..{size - 1} once each, in order"
            + (f"; position(s) {', '.join(map(str, missing[:10]))} missing" if missing else "")
        )
    last: dict[UUID, int] = {}
    for entry in found:
        owner = entry.record.get("workflow_id") if isinstance(entry.record, dict) else None
        if isinstance(owner, str) and aggregate_id(owner) != entry.originator:
            report.problems.append(
                f"position {entry.position}: the record belongs to {owner[:80]!r},"
                f" not to aggregate {entry.originator}"
            )
        due = last.get(entry.originator, 0) + 1
        if entry.version != due:
            report.problems.append(
                f"position {entry.position}: aggregate {entry.originator} has version"
                f" {entry.version} where {due} was due"
            )
        last[entry.originator] = entry.version


def verify_bundle(bundle: dict[str, Any], trusted: TrustedKey, origin: str) -> BundleReport:
    """Check a loaded bundle offline against a trusted key and the expected log origin."""
    report = BundleReport(key=note.verifier_key(*trusted))
    checkpoint = _signed_checkpoint(bundle, trusted, origin, report)
    if checkpoint is None:
        return report
    head = None
    if bundle["head"] is not None:
        head = _signed_head(bundle, trusted, checkpoint, report)
        if head is None:
            return report
    found: list[_Entry] = []
    for item in bundle["entries"]:
        checked = _check_entry(item, checkpoint)
        if isinstance(checked, str):
            report.problems.append(checked)
        else:
            found.append(checked)
    report.entries = len(found)
    if report.problems:
        return report
    if [e.position for e in found] != sorted({e.position for e in found}):
        report.problems.append("entries are not in log order, or a position appears twice")
    if head is not None:
        _check_partnership(found, head, report)
    else:
        _check_whole_log(found, checkpoint.size, report)
    return report


#: A record sits inside three levels of a bundle (the bundle, its entries, the entry): one
#: nested deeper than this would make the bundle too deep to read, so it is shown as null.
RECORD_DEPTH = MAX_DEPTH - 3


def _readable(state: bytes) -> Any:
    """The record as JSON, or None when it is not JSON (a store encrypted at rest)."""
    if nesting(state) > RECORD_DEPTH:
        return None
    try:
        return parse_json(state)
    except NotABundle:
        return None


def _canonical(value: Any) -> str:
    """One spelling per JSON value, so `true` and `1` are not taken for each other."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)
