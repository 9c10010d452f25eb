"""The signer is not trusted: whoever can write the store can also write the public key
stored beside each checkpoint. `amity audit verify` checks signatures with the trusted key
(the operator's key file here), so a checkpoint re-signed by another key is refused even
when the key stored beside it matches its signature."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from store.application import PartnershipStore
from tests.audit.conftest import AuditCli, audit_cli, tell_story  # noqa: F401 - a fixture
from tlog import note


def test_a_checkpoint_re_signed_with_the_key_beside_it_is_refused(
    store: PartnershipStore,
    audit_cli: AuditCli,  # noqa: F811 - the fixture imported above
    store_url: str,
) -> None:
    tell_story(store, "partnership-trust-a")
    assert audit_cli("checkpoint").exit_code == 0
    assert audit_cli("verify").exit_code == 0
    database = Path(store_url.removeprefix("sqlite:///"))
    attacker = Ed25519PrivateKey.generate()
    with sqlite3.connect(database) as db:
        (signed,) = db.execute("SELECT note FROM amity_checkpoints").fetchone()
        parsed = note.parse(signed)
        name = parsed.signatures[0][0]
        forged = note.sign(parsed.body, name, attacker)  # same body, the attacker's key
        beside = note.verifier_key(name, attacker.public_key())
        db.execute("UPDATE amity_checkpoints SET note = ?, public_key = ?", (forged, beside))
    db.close()
    result = audit_cli("verify")
    assert result.exit_code == 1, result.stdout
    assert "signature does not verify" in result.stdout
