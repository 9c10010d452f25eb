"""`amity import` against the real dev server: a generated portfolio with bad rows, the dry
run, the import, the import again, and an import whose worker (and itself) is killed half-way.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.service import RPCError

from amity.importer import check
from amity.portfolio import read_lines
from bench.portfolio import portfolio, spoil, to_csv, to_json
from runtime.settings import Settings, open_store
from store.application import PartnershipStore
from tests.cli.test_commands import Amity
from tests.conftest import Engine
from tests.production.workers import ROOT, worker_processes


def generated(
    tmp_path: Path, count: int, every: int, suffix: str = "csv"
) -> tuple[Path, list[int]]:
    """A portfolio of `count` rows with every `every`-th one bad; the bad rows' lines."""
    rows = portfolio(count, seed=count, initiator=f"T{uuid.uuid4().hex[:6]}")
    bad = spoil(rows, every) if every else []
    path = tmp_path / f"portfolio.{suffix}"
    path.write_text(to_csv(rows) if suffix == "csv" else to_json(rows), encoding="utf-8")
    return path, [index + 2 for index in bad]


async def exists(client: Client, partnership_id: str) -> bool:
    try:
        await client.get_workflow_handle(partnership_id).describe()
    except RPCError:
        return False
    return True


@pytest.fixture
def amity(settings: Settings, engine: Engine, store_url: str) -> Amity:
    return Amity(settings, engine, store_url)


@pytest.mark.parametrize("suffix", ["csv", "json"])
async def test_a_dry_run_lists_every_bad_row_with_its_line_and_starts_nothing(
    amity: Amity, engine: Engine, tmp_path: Path, suffix: str
) -> None:
    path, bad_lines = generated(tmp_path, 300, 60, suffix)
    assert len(bad_lines) == 5

    dry = await amity("import", str(path), "--dry-run", "--json")
    assert dry.exit_code == 2, dry.stderr
    report = json.loads(dry.stdout)
    assert [bad["line"] for bad in report["bad_rows"]] == bad_lines
    assert report["valid"] == 295 and report["created"] == 0 and report["dry_run"]
    assert "already on line" in report["bad_rows"][4]["error"]

    # without --dry-run the bad rows stop the import before anything starts
    stopped = await amity("import", str(path))
    assert stopped.exit_code == 2
    assert [line.split(":")[0] for line in stopped.stderr.strip().splitlines()] == [
        f"line {n}" for n in bad_lines
    ]
    assert "nothing imported" in stopped.stdout
    plans = check(read_lines(path)).plans
    for plan in plans[:: len(plans) // 5]:
        assert not await exists(engine.client, plan.partnership_id)


async def test_import_makes_the_rows_live_with_their_dated_histories_and_again_changes_nothing(
    amity: Amity, engine: Engine, tmp_path: Path
) -> None:
    path, bad_lines = generated(tmp_path, 36, 12)
    plans = check(read_lines(path)).plans
    assert len(plans) == 33

    first = await amity("import", str(path), "--skip-bad", "--json")
    assert first.exit_code == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["created"], summary["already_present"], summary["failed"]) == (33, 0, [])
    assert [bad["line"] for bad in summary["bad_rows"]] == bad_lines

    rows = {row["id"]: row for row in json.loads(json.dumps(_rows(path)))}
    for plan in plans:
        status = await engine.client.get_workflow_handle(plan.partnership_id).query("status")
        row = rows[plan.partnership_id]
        assert status["stage"] == row["stage"]
        assert status["signed_on"] == row.get("signed_on")
        assert status["exchange_count"] == len(row.get("exchanges", []))
        assert [a["date"] for a in status["approvals"]] == [
            a["date"] for a in row.get("approvals", [])
        ]
        assert status["version"] == plan.versions
    events = _events_per_partnership(engine.store, [p.partnership_id for p in plans])

    # the read models count them in the provincial report's form
    stats = await amity("audit", "stats", "--json")
    assert stats.exit_code == 0, stats.stderr
    assert json.loads(stats.stdout)["pipeline_form"] == expected_form(list(rows.values()))
    # and on a past date, by the rows' effective dates
    day = "2005-06-30"
    on = await amity("audit", "stats", "--on", day, "--json")
    assert on.exit_code == 0, on.stderr
    assert json.loads(on.stdout)["pipeline_form"] == expected_form_on(list(rows.values()), day)

    again = await amity("import", str(path), "--skip-bad")
    assert again.exit_code == 0, again.stderr
    assert "0 created, 33 already present, 0 resumed, 0 failed" in again.stdout
    assert _events_per_partnership(engine.store, [p.partnership_id for p in plans]) == events


def expected_form(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The report's rows, counted from the portfolio itself."""
    form = Counter(
        "first contact"
        if row["stage"] == "proposed"
        else "approved, awaiting signing"
        if row["stage"] == "in_talks"
        else "letter of intent"
        if row["tier"] == "friendly_relations"
        else "established"
        for row in rows
    )
    order = ("established", "approved, awaiting signing", "letter of intent", "first contact")
    return {name: form[name] for name in order}


def expected_form_on(rows: list[dict[str, Any]], day: str) -> dict[str, int]:
    """The report's rows on `day`, counted from the portfolio's dates (ISO dates compare
    as text)."""
    form: Counter[str] = Counter()
    for row in rows:
        if row["proposed_on"] > day:
            continue
        if row.get("signed_on") and row["signed_on"] <= day:
            intent = row["tier"] == "friendly_relations"
            form["letter of intent" if intent else "established"] += 1
        elif row["approvals"] and all(a["date"] <= day for a in row["approvals"]):
            form["approved, awaiting signing"] += 1
        else:
            form["first contact"] += 1
    order = ("established", "approved, awaiting signing", "letter of intent", "first contact")
    return {name: form[name] for name in order}


def _rows(path: Path) -> list[dict[str, Any]]:
    from amity.portfolio import parse_row

    return [
        parsed.row.model_dump(mode="json")
        for parsed in map(parse_row, read_lines(path))
        if parsed.row is not None
    ]


def _events_per_partnership(store: PartnershipStore, ids: list[str]) -> dict[str, list[str]]:
    return {pid: [e.request_id for e in store.history(pid)] for pid in ids}


async def test_a_worker_and_an_import_killed_half_way_then_run_again_give_one_history_per_row(
    settings: Settings, client: Client, tmp_path: Path
) -> None:
    path, _ = generated(tmp_path, 40, 0)
    plans = check(read_lines(path)).plans
    store_url = f"sqlite:///{tmp_path / 'events.db'}"
    env = {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "AMITY_TASK_QUEUE": f"import-{uuid.uuid4().hex}",
        "AMITY_EVENT_STORE_URL": store_url,
        # An append the killed worker held is given to the second worker once its attempt
        # times out: 5 s here instead of the default 30 s (runtime/store_timeout.py).
        "AMITY_STORE_TIMEOUT": "5",
    }
    full_env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "amity.cli", "import", str(path), "--json"]
    with worker_processes(1, env, tmp_path) as [(worker, _)]:
        importing = subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        store = open_store(store_url)
        try:
            deadline = time.monotonic() + 60
            while (store.recorder.max_notification_id() or 0) < 60:
                assert time.monotonic() < deadline and importing.poll() is None
                await asyncio.sleep(0.05)
        finally:
            store.close()
        worker.send_signal(signal.SIGKILL)  # mid-import: some rows done, some part-way
        importing.send_signal(signal.SIGKILL)
        worker.wait()
        importing.wait()
    second = tmp_path / "second"
    second.mkdir()
    with worker_processes(1, env, second):
        rerun = await asyncio.to_thread(
            subprocess.run, command, cwd=ROOT, env=full_env, capture_output=True, timeout=180
        )
        assert rerun.returncode == 0, rerun.stderr.decode()
        summary = json.loads(rerun.stdout)
        assert summary["created"] + summary["already_present"] + summary["resumed"] == 40
        assert summary["created"] < 40 and summary["resumed"] + summary["already_present"] > 0
        store = open_store(store_url)
        try:
            for plan in plans:
                ids = [e.request_id for e in store.history(plan.partnership_id)]
                assert len(ids) == plan.versions, (plan.partnership_id, ids)
                assert not [rid for rid, n in Counter(ids).items() if n > 1]
                # one workflow: a second start would have recorded a second proposal
                assert len({e.run_id for e in store.history(plan.partnership_id)}) == 1
        finally:
            store.close()


async def test_the_seed_portfolio_imports_and_its_2017_memorandum_has_expired(
    amity: Amity, engine: Engine, tmp_path: Path
) -> None:
    # The example's ids, made unique to this test: other tests on the same dev server use
    # partnership-mianyang-cupertino, and an id that already has a life is not imported.
    unique = f"partnership-{uuid.uuid4().hex[:8]}-mianyang-"
    examples = tmp_path / "portfolio"
    examples.mkdir()
    for name in ("mianyang.csv", "mianyang.json"):
        text = (ROOT / "examples" / "portfolio" / name).read_text(encoding="utf-8")
        assert text.count("partnership-mianyang-") == 25, name
        (examples / name).write_text(text.replace("partnership-mianyang-", unique), "utf-8")
    for name in ("mianyang.csv", "mianyang.json"):
        dry = await amity("import", str(examples / name), "--dry-run", "--json")
        assert dry.exit_code == 0, dry.stderr
        assert json.loads(dry.stdout)["valid"] == 25
    first = await amity("import", str(examples / "mianyang.json"), "--json")
    assert first.exit_code == 0, (first.stderr, first.stdout)
    assert json.loads(first.stdout)["created"] == 25
    handle = engine.client.get_workflow_handle(f"{unique}cupertino")
    final = await asyncio.wait_for(handle.result(), timeout=30)
    assert final["stage"] == "expired" and final["signed_on"] == "2017-11-15"
    assert final["proposed_on"] == "2017-10-16" and final["talks_opened_on"] == "2017-11-06"
    assert final["exchange_count"] == 2
    kinds = [e.event.type for e in engine.store.history(handle.id)]
    assert kinds[-3:] == ["corrected", "renewal_due", "expired"]
    again = await amity("import", str(examples / "mianyang.csv"))
    assert again.exit_code == 0, again.stderr
    assert "0 created, 25 already present" in again.stdout


HEADER = "initiator,initiator_country,partner,partner_country,tier,stage,proposed_on,fields"
GOOD = "Mianyang,CN,Cupertino,US,friendly relations,proposed,2017-10-16,economy"


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("empty.csv", b"", "no header row"),
        ("header-only.csv", HEADER.encode() + b"\n", "no rows"),
        ("latin1.csv", HEADER.encode() + b"\nM\xfcnchen,DE\n", "not UTF-8"),
        ("unknown-column.csv", b"initiator,colour\nA,red\n", "unknown column 'colour'"),
        ("missing-column.csv", b"initiator,partner\nA,B\n", "missing column"),
        ("object.json", b'{"rows": []}', "expected a JSON array"),
        ("deep.json", b"[" * 100 + b"]" * 100, "nested deeper"),
        ("nan.json", b'[{"tier": NaN}]', "NaN"),
        ("rows.txt", GOOD.encode(), "a .csv or a .json file"),
    ],
)
async def test_hostile_files_are_one_line_refusals(
    amity: Amity, tmp_path: Path, name: str, content: bytes, says: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = await amity("import", str(path), "--dry-run")
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("amity: ") and says in lines[0], lines


async def test_bad_cells_are_bad_rows_with_their_lines(amity: Amity, tmp_path: Path) -> None:
    rows = [
        HEADER + ",proposed_by,exchanges",
        GOOD + ",;,",  # an empty proposer list is no proposer
        GOOD.replace("Cupertino", "Sunnyvale") + ",A|B|C,",  # too many parts
        GOOD.replace("Cupertino", "Iizuka") + ",,2018-01-01|trade",  # an exchange too short
        GOOD.replace("Cupertino", "Taichung") + ",x",  # a cell short
        GOOD.replace("Cupertino", "Tomorrowland").replace(
            "2017-10-16", f"{datetime.now(UTC).year + 1}-01-01"
        )
        + ",,",  # the future
        GOOD.replace("Cupertino", "Cuper\x00tino") + ",,",  # a control character
    ]
    path = tmp_path / "cells.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = await amity("import", str(path), "--dry-run", "--json")
    assert result.exit_code == 2
    bad = {row["line"]: row["error"] for row in json.loads(result.stdout)["bad_rows"]}
    assert sorted(bad) == [3, 4, 5, 6, 7], bad
    assert "proposed_by" in bad[3] and "exchanges" in bad[4] and "cells" in bad[5]
    assert "in the future" in bad[6]
    assert "control characters" in bad[7]
