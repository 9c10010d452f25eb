"""`amity audit as-of` in both times: `--at` the state in effect on a date (the events'
own dates decide), `--known-at` what the register had recorded by then, and both together,
with a signing date corrected after the fact."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest

from audit.asof import AsOfError, as_of, parse_moment
from domain.decider import decide
from domain.parsing import parse_command
from domain.registry import Rejection
from store.application import CommandMeta, PartnershipStore
from tests.audit.conftest import AuditCli, tell_story

PID = "partnership-bitemporal"


def at(day: str) -> datetime:
    return parse_moment(day)


def correct_signing_date(store: PartnershipStore, day: str) -> None:
    state = store.state(PID)
    assert state is not None and state.signing is not None
    command = parse_command(
        "correct",
        {
            "target_version": state.signing.version,
            "reason": "the memorandum was signed on the later date",
            "correction": {"date": day},
        },
    )
    decision = decide(state, command, datetime.now(UTC))
    assert not isinstance(decision, Rejection), decision
    meta = CommandMeta("correct", "auditor", "correct-signing-date", PID, "run-1")
    store.append(PID, decision, meta, state.version)


def test_in_effect_on_a_date_follows_the_events_own_dates(store: PartnershipStore) -> None:
    tell_story(store, PID)  # recorded today; signed 2017-11-15, exchanges 2018-04-20, 2018-11-15
    talks = as_of(store, PID, at=at("2017-11-10"))
    assert talks.stage == "in_talks" and talks.signing is None
    assert [a.date.isoformat() for a in talks.approvals if a.date] == ["2017-11-07"]
    signed = as_of(store, PID, at=at("2017-12-01"))
    assert signed.stage == "active" and signed.signing is not None and not signed.exchanges
    one = as_of(store, PID, at=at("2018-05-01"))
    assert [e.date.isoformat() for e in one.exchanges] == ["2018-04-20"]
    assert len(as_of(store, PID, at=at("2019-01-01")).exchanges) == 2
    with pytest.raises(AsOfError, match="not in effect yet"):
        as_of(store, PID, at=at("2017-01-01"))
    # recorded time: today the whole story is known, in 2020 nothing of it was
    assert as_of(store, PID, known_at=datetime.now(UTC)).version == 11
    with pytest.raises(AsOfError, match="not recorded yet"):
        as_of(store, PID, known_at=at("2020-01-01"))


def test_a_corrected_signing_date_before_and_after_the_correction(
    store: PartnershipStore, audit_cli: AuditCli
) -> None:
    tell_story(store, PID)
    time.sleep(0.01)
    before_correction = datetime.now(UTC)
    time.sleep(0.01)
    correct_signing_date(store, "2018-01-10")

    # what the register says now about 2017-12-01: not signed yet (the date was corrected)
    now = as_of(store, PID, at=at("2017-12-01"))
    assert now.stage == "in_talks" and now.signing is None
    # what it said before the correction about the same day: signed on 2017-11-15
    then = as_of(store, PID, at=at("2017-12-01"), known_at=before_correction)
    assert then.stage == "active" and then.signing is not None
    assert then.signing.date.isoformat() == "2017-11-15"
    later = as_of(store, PID, at=at("2018-02-01"))
    assert later.signing is not None and later.signing.date.isoformat() == "2018-01-10"
    assert later.corrections and later.corrections[0].correction == {"date": "2018-01-10"}

    # the command line says the same
    args = ("as-of", PID, "--at", "2017-12-01", "--json")
    assert json.loads(audit_cli(*args).stdout)["stage"] == "in_talks"
    known = audit_cli(*args, "--known-at", before_correction.isoformat())
    assert known.exit_code == 0, known.stderr
    assert json.loads(known.stdout)["signed_on"] == "2017-11-15"
    bad = audit_cli("as-of", PID, "--known-at", "yesterday")
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1 and "--known-at" in bad.stderr
    both = audit_cli("as-of", PID, "--version", "3", "--at", "2018-01-01")
    assert both.exit_code == 2 and "--version alone" in both.stderr
