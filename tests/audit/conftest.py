"""Audit fixtures: stores filled with the story (through the store, no Temporal needed),
and the `amity audit` commands run in-process with this test's store and key."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from amity import story
from amity.cli_audit import app
from domain.decider import decide
from domain.parsing import parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.propose import decide_proposal
from runtime.settings import get_settings
from store.application import CommandMeta, PartnershipStore


def tell_story(store: PartnershipStore, partnership_id: str) -> int:
    """Append the Mianyang–Cupertino story for `partnership_id`; returns the last version."""
    proposal = parse_proposal(story.proposal())
    events = decide_proposal(partnership_id, proposal, datetime.now(UTC))
    meta = CommandMeta("propose", "tester", f"propose:{partnership_id}", partnership_id, "run-1")
    version = store.append(partnership_id, events, meta, None).version
    for number, (name, payload) in enumerate(story.steps()):
        state = store.state(partnership_id)
        assert state is not None
        decision = decide(state, parse_command(name, payload), datetime.now(UTC))
        assert not isinstance(decision, Rejection), decision
        meta = CommandMeta(name, "tester", f"{partnership_id}:{number}", partnership_id, "run-1")
        version = store.append(partnership_id, decision, meta, state.version).version
    return version


def verifier_key_of(key_file: Path) -> str:
    """The C2SP verifier key of the audit key in `key_file` (what an auditor would pin)."""
    from audit.keys import _parse
    from runtime.settings import Settings
    from tlog.note import verifier_key

    return verifier_key(
        Settings().audit_origin, _parse(key_file.read_bytes(), str(key_file)).public_key()
    )


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


AuditCli = Callable[..., Result]


@pytest.fixture
def audit_cli(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditCli:
    """Run `amity audit ARGS...` in-process against this test's store and key file, without
    the Temporal witness (tests/security/ runs the audit with it)."""
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", store_url)
    monkeypatch.setenv("AMITY_AUDIT_WITNESS", "off")
    monkeypatch.delenv("AMITY_AUDIT_PUBLIC_KEY", raising=False)
    monkeypatch.setenv("AMITY_AUDIT_KEY_FILE", str(tmp_path / "audit-key.pem"))
    monkeypatch.delenv("AMITY_AUDIT_KEY", raising=False)

    def run(*args: str) -> Result:
        get_settings.cache_clear()
        result = CliRunner().invoke(app, list(args))
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        get_settings.cache_clear()
        return Result(result.exit_code, result.stdout, result.stderr)

    return run
