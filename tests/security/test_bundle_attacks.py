"""Attacks on evidence bundles, performed for real on bundles exported from a real SQLite
store holding real partnership events: each forged or damaged bundle is checked by
`amity audit verify --bundle` with the auditor's pinned key, and must fail (exit 1, naming
what broke); a bundle checked with no trusted key at all is refused (exit 2)."""

from __future__ import annotations

import base64
import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import head as heads
from audit.log import leaf_data
from domain.identity import aggregate_id
from runtime.settings import DEFAULT_ORIGIN
from store.application import PartnershipStore
from tests.audit import conftest as audit_fixtures
from tests.audit.conftest import AuditCli, Result, tell_story, verifier_key_of
from tlog import note
from tlog.merkle import Tree, leaf_hash

audit_cli = audit_fixtures.audit_cli  # the fixture: `amity audit ...` on this test's store

PARTNERSHIPS = ["partnership-a-b", "partnership-c-d", "partnership-e-f"]
SIZE = 33  # three stories of 11 events
AMITY = str(Path(sys.executable).parent / "amity")


@pytest.fixture
def exported(store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path) -> dict[str, Any]:
    """Genuine bundles of two partnerships and of the whole log, and the pinned key."""
    for pid in PARTNERSHIPS:
        tell_story(store, pid)
    assert audit_cli("checkpoint").exit_code == 0
    made: dict[str, Any] = {"key": verifier_key_of(tmp_path / "audit-key.pem")}
    for name, args in (
        ("c-d", ["partnership-c-d"]),
        ("a-b", ["partnership-a-b"]),
        ("all", []),
    ):
        out = tmp_path / f"{name}.json"
        result = audit_cli("export", "--bundle", "--out", str(out), *args)
        assert result.exit_code == 0, result.stderr
        made[name] = json.loads(out.read_text())
    return made


def check(
    audit_cli: AuditCli, tmp_path: Path, bundle: Any, *key: str, raw: bytes | None = None
) -> Result:
    path = tmp_path / "checked.json"
    path.write_bytes(raw if raw is not None else json.dumps(bundle).encode())
    return audit_cli("verify", "--bundle", str(path), *key)


def refused(result: Result, code: int, words: str) -> None:
    """Exit `code`, with `words` in the one-line reason, and no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert words in lines[0], lines[0]
    assert "Traceback" not in result.stdout + result.stderr


def test_genuine_bundles_verify_with_the_pinned_key(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    ok = check(audit_cli, tmp_path, exported["c-d"], "--public-key", exported["key"])
    assert ok.exit_code == 0, ok.stdout + ok.stderr
    assert "partnership partnership-c-d: versions 1..11, complete" in ok.stdout
    whole = check(audit_cli, tmp_path, exported["all"], "--public-key", exported["key"])
    assert whole.exit_code == 0, whole.stdout + whole.stderr
    assert f"OK: {SIZE} entries" in whole.stdout and "the whole log, complete" in whole.stdout


# -- the key inside the bundle is never trusted ------------------------------------------------


def resign(bundle: dict[str, Any], key: Ed25519PrivateKey, drop_last: int = 0) -> dict[str, Any]:
    """What a forger without the audit key can do: keep the events they like, rebuild a
    tree from them, sign a checkpoint and a head with their own key and put it inside."""
    forged = copy.deepcopy(bundle)
    kept = forged["entries"][: len(forged["entries"]) - drop_last]
    leaves = [
        leaf_hash(
            leaf_data(
                e["notification_id"],
                aggregate_id(forged["partnership_id"]),
                e["originator_version"],
                e["topic"],
                base64.b64decode(e["state"]),
            )
        )
        for e in kept
    ]
    tree = Tree(leaves)
    for position, entry in enumerate(kept):
        entry["position"] = position
        entry["proof"] = [
            base64.b64encode(p).decode() for p in tree.inclusion_proof(position, tree.size)
        ]
    origin = DEFAULT_ORIGIN
    forged["entries"] = kept
    forged["checkpoint"] = note.sign(note.body(origin, tree.size, tree.root()), origin, key)
    statement = heads.make(
        origin, forged["partnership_id"], kept[-1]["originator_version"], tree.size, tree.root()
    )
    forged["head"] = heads.sign(statement, origin, key)
    forged["public_key"] = note.verifier_key(origin, key.public_key())
    forged["tree_size"] = tree.size
    forged["root_hash"] = base64.b64encode(tree.root()).decode()
    return forged


def test_a_bundle_resigned_with_a_fresh_key_fails_with_the_pinned_key(
    exported: dict[str, Any],
    audit_cli: AuditCli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fresh = Ed25519PrivateKey.generate()
    forged = resign(exported["c-d"], fresh, drop_last=2)
    # the forgery is well made: it passes for anyone who trusts the key it carries ...
    assert check(audit_cli, tmp_path, forged, "--public-key", forged["public_key"]).exit_code == 0
    # ... but not with the auditor's pinned key, given as an option or in the environment
    bad = check(audit_cli, tmp_path, forged, "--public-key", exported["key"])
    refused(bad, 1, "signature does not verify with the trusted key")
    assert "the bundle names another key, which is not trusted" in bad.stdout
    monkeypatch.setenv("AMITY_AUDIT_PUBLIC_KEY", exported["key"])
    refused(check(audit_cli, tmp_path, forged), 1, "signature does not verify")
    assert check(audit_cli, tmp_path, exported["c-d"]).exit_code == 0
    # a key file works as well
    key_file = tmp_path / "pinned.pub"
    key_file.write_text(exported["key"] + "\n")
    refused(check(audit_cli, tmp_path, forged, "--public-key", str(key_file)), 1, "signature")


def test_without_a_trusted_key_verify_bundle_refuses(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AMITY_AUDIT_PUBLIC_KEY", raising=False)
    forged = resign(exported["c-d"], Ed25519PrivateKey.generate())
    refused(check(audit_cli, tmp_path, forged), 2, "needs the key you trust")
    refused(check(audit_cli, tmp_path, exported["c-d"]), 2, "needs the key you trust")
    refused(check(audit_cli, tmp_path, forged, "--public-key", "nonsense+key"), 2, "--public-key")
    # hostile key arguments: a path too long for the system, a device, a NUL byte
    for weird in ("a+" * 3000, "/dev/zero", "\x00+x"):
        refused(check(audit_cli, tmp_path, forged, "--public-key", weird), 2, "--public-key")
        store_wide = audit_cli("verify", "--no-witness", "--public-key", weird)
        refused(store_wide, 2, "--public-key")


def test_a_bundle_for_another_log_origin_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AMITY_AUDIT_ORIGIN", "registry.example/other-log")
    bad = check(audit_cli, tmp_path, exported["c-d"], "--public-key", exported["key"])
    refused(bad, 1, "not 'registry.example/other-log'")


# -- identity and completeness ----------------------------------------------------------------


def test_dropping_the_last_events_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    bundle = copy.deepcopy(exported["c-d"])
    bundle["entries"] = bundle["entries"][:-2]
    bad = check(audit_cli, tmp_path, bundle, "--public-key", exported["key"])
    refused(bad, 1, "version(s) 10, 11 missing (the signed head says versions 1..11)")
    whole = copy.deepcopy(exported["all"])
    whole["entries"] = whole["entries"][:-1]
    refused(
        check(audit_cli, tmp_path, whole, "--public-key", exported["key"]),
        1,
        f"position(s) {SIZE - 1} missing",
    )


def test_a_proof_hash_in_another_spelling_of_the_same_bytes_fails(exported: dict[str, Any]) -> None:
    """Base64 of 32 bytes leaves two unused bits in its last character: flipping them keeps
    the bytes, so only a canonical-encoding check tells the altered file from the genuine."""
    from audit.bundle import verify_bundle

    trusted = note.parse_verifier_key(exported["key"])
    bundle = copy.deepcopy(exported["c-d"])
    entry = next(e for e in bundle["entries"] if e["proof"])
    text = entry["proof"][0]
    assert text.endswith("=") and len(text) == 44
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    last = alphabet.index(text[-2])
    entry["proof"][0] = text[:-2] + alphabet[last ^ 0b11] + "="
    assert base64.b64decode(entry["proof"][0]) == base64.b64decode(text)
    report = verify_bundle(bundle, trusted, DEFAULT_ORIGIN)
    assert not report.ok
    assert any("not the canonical base64" in problem for problem in report.problems), report


def test_dropping_an_event_in_the_middle_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    bundle = copy.deepcopy(exported["c-d"])
    del bundle["entries"][4]
    bad = check(audit_cli, tmp_path, bundle, "--public-key", exported["key"])
    refused(bad, 1, "version(s) 5 missing")


def test_relabelling_another_partnerships_events_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    key = ("--public-key", exported["key"])
    genuine, other = exported["c-d"], exported["a-b"]
    # the label alone: the signed head names the real partnership
    bundle = copy.deepcopy(genuine)
    bundle["partnership_id"] = "partnership-a-b"
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "the signed head says 'partnership-c-d'")
    # a-b's events under c-d's head: they are another aggregate's
    bundle = copy.deepcopy(genuine)
    bundle["entries"] = copy.deepcopy(other["entries"])
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "events of another aggregate")
    # ... with their aggregate id rewritten to c-d's: no longer the signed leaves
    for entry in bundle["entries"]:
        entry["originator_id"] = str(aggregate_id("partnership-c-d"))
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "not included in the signed tree")
    # c-d's events under a-b's (genuine, signed) head and label
    bundle = copy.deepcopy(genuine)
    bundle["head"], bundle["partnership_id"] = other["head"], other["partnership_id"]
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "events of another aggregate")
    # a head for a made-up partnership cannot be made without the key
    bundle = copy.deepcopy(genuine)
    bundle["head"] = bundle["head"].replace("partnership-c-d", "partnership-x-y")
    bundle["partnership_id"] = "partnership-x-y"
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "head statement's signature")


@pytest.mark.parametrize("how", ["swap", "duplicate", "replace-last-by-a-copy", "positions"])
def test_reordering_or_duplicating_events_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path, how: str
) -> None:
    bundle = copy.deepcopy(exported["c-d"])
    items = bundle["entries"]
    if how == "swap":
        items[2], items[3] = items[3], items[2]
    elif how == "duplicate":
        items.insert(5, copy.deepcopy(items[4]))
    elif how == "replace-last-by-a-copy":
        items[-1] = copy.deepcopy(items[-2])
    else:  # claim another position: the proof no longer climbs to the root
        items[0]["position"] = items[1]["position"]
    bad = check(audit_cli, tmp_path, bundle, "--public-key", exported["key"])
    assert bad.exit_code == 1, bad.stdout + bad.stderr
    assert re.search(
        r"not in log order|duplicated|missing|not included in the signed tree", bad.stderr
    ), bad.stderr
    whole = copy.deepcopy(exported["all"])
    whole["entries"][7], whole["entries"][8] = whole["entries"][8], whole["entries"][7]
    assert check(audit_cli, tmp_path, whole, "--public-key", exported["key"]).exit_code == 1


def test_a_head_bound_to_another_checkpoint_or_passed_as_a_checkpoint_fails(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    key = ("--public-key", exported["key"])
    bundle = copy.deepcopy(exported["c-d"])
    bundle["checkpoint"] = bundle["head"]  # both are signed by the same key
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "the checkpoint is not a signed note")
    bundle = copy.deepcopy(exported["c-d"])
    bundle["head"] = bundle["checkpoint"]
    refused(check(audit_cli, tmp_path, bundle, *key), 1, "not a head statement")


# -- hostile files ---------------------------------------------------------------------------


def _field(bundle: dict[str, Any], name: str, raw: str) -> bytes:
    """The genuine bundle with one top-level field's JSON text replaced by `raw`."""
    text = json.dumps({**bundle, name: "@@@"})
    return text.replace('"@@@"', raw, 1).encode()


#: name: (how to make it from a genuine bundle, words of the one-line reason)
HOSTILE: dict[str, tuple[Any, str]] = {
    "truncated": (lambda b: json.dumps(b).encode()[:-40], "not JSON"),
    "not-utf8": (lambda b: b'{"format": "\xff\xfe"}', "not UTF-8"),
    "binary": (lambda b: bytes(range(256)) * 8, "not UTF-8"),
    "deep-arrays": (lambda b: b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64"),
    "deep-in-a-record": (
        lambda b: _field(b, "entries", "[{" + '"x":[' * 5000 + "]" * 5000 + "}]"),
        "nested deeper than 64",
    ),
    "nan": (lambda b: _field(b, "tree_size", "NaN"), "NaN is not JSON"),
    "infinity": (lambda b: _field(b, "tree_size", "-Infinity"), "-Infinity is not JSON"),
    "overflowing-float": (lambda b: _field(b, "tree_size", "1e999"), "out of range (1e999)"),
    "giant-int": (lambda b: _field(b, "tree_size", "9" * 5000), "an integer of 5000 digits"),
    "int-beyond-64-bits": (lambda b: _field(b, "tree_size", str(2**64)), "of 20 digits"),
    "int-beyond-63-bits": (lambda b: _field(b, "tree_size", str(2**63)), "out of range"),
    "negative-int": (lambda b: _field(b, "tree_size", "-1"), "tree_size out of range"),
    "duplicate-key": (
        lambda b: json.dumps(b).replace("{", '{"format": "x", ', 1).encode(),
        "'format' appears twice",
    ),
    "string-for-int": (lambda b: _field(b, "tree_size", '"33"'), "tree_size has the wrong type"),
    "bool-for-int": (lambda b: _field(b, "tree_size", "true"), "tree_size has the wrong type"),
    "float-for-int": (lambda b: _field(b, "tree_size", "33.0"), "tree_size has the wrong type"),
    "entries-not-a-list": (lambda b: _field(b, "entries", "{}"), "entries has the wrong type"),
    "entry-wrong-fields": (lambda b: _field(b, "entries", '[{"position": []}]'), "entry 0"),
    "proof-not-hashes": (
        lambda b: json.dumps(
            {**b, "entries": [{**b["entries"][0], "proof": [1, 2]}, *b["entries"][1:]]}
        ).encode(),
        "entry 0: proof is not a list",
    ),
    "lone-surrogate": (
        lambda b: json.dumps(
            {**b, "entries": [{**b["entries"][0], "topic": "\ud800"}, *b["entries"][1:]]}
        ).encode(),
        "entry 0: topic is not valid Unicode",
    ),
    "non-ascii-proof": (
        lambda b: json.dumps(
            {**b, "entries": [{**b["entries"][0], "proof": ["\u2014"]}, *b["entries"][1:]]}
        ).encode(),
        "entry 0: proof is not a list",
    ),
    "unknown-field": (lambda b: json.dumps({**b, "trust_me": True}).encode(), "'trust_me'"),
    "head-missing": (lambda b: json.dumps({**b, "head": None}).encode(), "has a head"),
    "old-format": (
        lambda b: json.dumps({**b, "format": "amity-evidence-bundle/1"}).encode(),
        "cannot prove completeness",
    ),
    "a-list": (lambda b: b"[]", "a JSON object expected"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_bundle_files_are_one_line_refusals(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path, name: str
) -> None:
    make, words = HOSTILE[name]
    result = check(
        audit_cli, tmp_path, None, "--public-key", exported["key"], raw=make(exported["c-d"])
    )
    refused(result, 2, "checked.json: ")
    assert words in result.stderr, result.stderr
    assert result.stdout == ""


def test_oversize_bundle_files_are_refused_before_reading(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = ("--public-key", exported["key"])
    sparse = tmp_path / "huge.json"
    with sparse.open("wb") as out:
        out.truncate(300 * 1024 * 1024)  # over the default 256 MiB cap, no disk used
    refused(audit_cli("verify", "--bundle", str(sparse), *key), 2, "larger than 268435456 bytes")
    monkeypatch.setenv("AMITY_BUNDLE_MAX_BYTES", "1000")
    refused(check(audit_cli, tmp_path, exported["c-d"], *key), 2, "larger than 1000 bytes")
    monkeypatch.setenv("AMITY_BUNDLE_MAX_BYTES", "lots")
    refused(check(audit_cli, tmp_path, exported["c-d"], *key), 2, "AMITY_BUNDLE_MAX_BYTES")
    monkeypatch.delenv("AMITY_BUNDLE_MAX_BYTES")
    refused(audit_cli("verify", "--bundle", str(tmp_path), *key), 2, "")
    refused(audit_cli("verify", "--bundle", str(tmp_path / "none.json"), *key), 2, "none.json")


def test_the_real_command_refuses_a_deep_bundle_without_a_traceback(
    exported: dict[str, Any], tmp_path: Path
) -> None:
    deep = tmp_path / "deep.json"
    deep.write_bytes(b'{"format": ' + b"[" * 200_000 + b"]" * 200_000 + b"}")
    done = subprocess.run(
        [AMITY, "audit", "verify", "--bundle", str(deep), "--public-key", exported["key"]],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "nested deeper than 64 levels" in done.stderr, done.stderr
    assert done.stdout == ""


# -- export ------------------------------------------------------------------------------------


def test_export_signs_the_head_only_with_the_checkpoints_key(
    exported: dict[str, Any], audit_cli: AuditCli, tmp_path: Path
) -> None:
    """A head statement is signed with the key of the checkpoint it is bound to: without that
    key, or with another one, no bundle is written."""
    from audit.keys import pem

    key_file = tmp_path / "audit-key.pem"
    out = tmp_path / "again.json"
    key_file.write_bytes(pem(Ed25519PrivateKey.generate()))
    refused(
        audit_cli("export", "--bundle", "--out", str(out), "partnership-c-d"),
        2,
        "not the key of the latest checkpoint",
    )
    key_file.unlink()
    refused(
        audit_cli("export", "--bundle", "--out", str(out), "partnership-c-d"),
        2,
        "no audit signing key",
    )
    assert not out.exists()


# -- random damage -----------------------------------------------------------------------------

WEIRD: list[Any] = [
    "\ud800",
    "",
    "\x1b[31mred",
    "\u00b2\u00b3",
    "9" * 30,
    -1,
    2**63,
    1.5,
    True,
    None,
    [],
    {},
    [[[]]],
    "amity.local/event-log",
    "\u2014 x y",
]


def _mutate(rng: Any, value: Any) -> Any:
    """`value` with one random part replaced, deleted or duplicated."""
    if isinstance(value, dict) and value and rng.random() < 0.8:
        key = rng.choice(sorted(value))
        if rng.random() < 0.1:
            return {k: v for k, v in value.items() if k != key}
        return {**value, key: _mutate(rng, value[key])}
    if isinstance(value, list) and value and rng.random() < 0.8:
        index = rng.randrange(len(value))
        roll = rng.random()
        if roll < 0.1:
            return value[:index] + value[index + 1 :]
        if roll < 0.2:
            return [*value[: index + 1], value[index], *value[index + 1 :]]
        return [*value[:index], _mutate(rng, value[index]), *value[index + 1 :]]
    if isinstance(value, str) and value and rng.random() < 0.7:
        at = rng.randrange(len(value))
        return value[:at] + rng.choice("A/+=\n \u2014x0") + value[at + 1 :]
    return rng.choice(WEIRD)


def test_random_damage_never_passes_and_never_crashes(exported: dict[str, Any]) -> None:
    """Hundreds of randomly damaged bundles (fields, then raw bytes): each is refused as not a
    bundle or fails verification, unless the damage left every checked field as it was."""
    import random

    from audit.bundle import verify_bundle
    from audit.bundle_file import NotABundle, load_bundle

    trusted = note.parse_verifier_key(exported["key"])
    genuine = exported["c-d"]
    rng = random.Random(6962)
    outcomes = {"not a bundle": 0, "fails": 0, "unchanged": 0}
    for round_ in range(1000):
        if round_ % 4 == 1:  # the signed notes, where parsing is most intricate
            name = rng.choice(["checkpoint", "head"])
            changed = {**genuine, name: _mutate(rng, genuine[name])}
            data = json.dumps(changed, ensure_ascii=False).encode("utf-8", "surrogatepass")
        elif round_ % 2:
            raw = json.dumps(_mutate(rng, genuine), ensure_ascii=rng.random() < 0.5)
            data = raw.encode("utf-8", "surrogatepass")
        else:
            data = bytearray(json.dumps(genuine, indent=1).encode())
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            data = bytes(data)
        try:
            bundle = load_bundle(data)
        except NotABundle:
            outcomes["not a bundle"] += 1
            continue
        if verify_bundle(bundle, trusted, DEFAULT_ORIGIN).ok:
            assert {**bundle, "public_key": ""} == {**genuine, "public_key": ""}
            outcomes["unchanged"] += 1
        else:
            outcomes["fails"] += 1
    assert outcomes["not a bundle"] > 50 and outcomes["fails"] > 50, outcomes
