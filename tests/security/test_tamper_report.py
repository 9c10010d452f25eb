"""The HTML report calls its tamper check a pass only under a key from outside the store:
a log re-signed by whoever writes the database must not read as verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from store.application import PartnershipStore
from tests.audit import conftest as audit_fixtures
from tests.audit.conftest import AuditCli, tell_story

audit_cli = audit_fixtures.audit_cli  # the fixture: `amity audit ...` on this test's store


def _verdict(page: str) -> str:
    start = page.find('id="verification"')
    return page[start : page.find("</div>", start)]


def test_tamper_report_without_a_trusted_key_is_not_a_pass(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tell_story(store, "partnership-a-b")
    assert audit_cli("checkpoint").exit_code == 0
    report = tmp_path / "report.html"

    assert audit_cli("export", "--format", "html", "--out", str(report)).exit_code == 0
    assert "Tamper check passed" in _verdict(report.read_text())

    # The same log, seen by someone who only has the keys stored beside it.
    monkeypatch.delenv("AMITY_AUDIT_KEY_FILE")
    assert audit_cli("export", "--format", "html", "--out", str(report)).exit_code == 0
    verdict = _verdict(report.read_text())
    assert "NOT done against a trusted key" in verdict
    assert "passed" not in verdict
