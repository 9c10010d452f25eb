"""Record real histories for the replay tests: `python -m tests.histories.save`.

Run it after a deliberate workflow change (behind `workflow.patched`) to add histories of
the new code (`python -m tests.histories.save v5 forget` saves that scenario only); never
regenerate the old ones, they are what running partnerships look like.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import sys
import tempfile
import uuid
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from amity import story
from runtime.connect import connect
from runtime.devserver import DevServer, free_port
from amity.privacy import tell_workflows
from runtime.settings import open_store, Settings
from store.application import PartnershipStore
from worker import build_worker
from workflows.search import SEARCH_ATTRIBUTES

HERE = Path(__file__).resolve().parent


async def _wait_version(handle: Any, version: int) -> None:
    for _ in range(600):
        if (await handle.query("status"))["version"] >= version:
            return
        await asyncio.sleep(0.05)
    raise RuntimeError(f"{handle.id} did not reach version {version}")


async def request_reuse(handle: Any) -> None:
    """A request_id resent with its payload, then reused with another payload (as an
    Update, as a Signal, and as a Signal after a hand-over carried the id): patch
    request-fingerprints. Recorded on the code before that patch too, as
    `request-reuse-old` (the repeats were answered "already applied")."""
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    exchange = {**story.load("record_exchange.json"), "request_id": "exchange-reuse"}
    other = {**exchange, "title": "Another exchange", "date": "2019-05-01"}
    await handle.execute_update("record_exchange", exchange)
    await handle.execute_update("record_exchange", exchange)
    try:
        await handle.execute_update("record_exchange", other)
    except Exception:  # noqa: BLE001 - refused on purpose (by the patched code)
        pass
    await handle.signal("record_exchange", other)
    await handle.signal("record_exchange", {**exchange, "request_id": "exchange-after"})
    await _wait_version(handle, 8)
    for n in range(8):  # past the dev server's suggestion to continue as new
        await handle.execute_update("record_exchange", {**exchange, "request_id": f"r-{n}"})
    await handle.signal("record_exchange", other)
    await handle.signal("record_exchange", {**exchange, "request_id": "exchange-last"})
    await _wait_version(handle, 17)
    await handle.execute_update("terminate", {"reason": "history recorded"})
    await handle.result()


async def bounded(handle: Any) -> None:
    """More exchanges than the bounded state keeps, across hand-overs, then a correction
    of the first one: its target is read from the store (patch bounded-state)."""
    for command, payload in story.steps()[:5]:
        await handle.execute_update(command, payload)
    first = (await handle.query("status"))["version"] + 1
    base = story.load("record_exchange.json")
    for n in range(25):
        await handle.execute_update("record_exchange", {**base, "request_id": f"b-{n}"})
    fixed = await handle.execute_update(
        "correct",
        {"target_version": first, "reason": "the field", "correction": {"field": "trade"}},
    )
    assert fixed["exchanges"] == {"science_technology": 24, "trade": 1}, fixed
    await handle.execute_update("terminate", {"reason": "history recorded"})
    await handle.result()


#: Scenarios that can be recorded alone (on older code too).
ALONE = {"request-reuse": request_reuse, "request-reuse-old": request_reuse, "bounded": bounded}


async def record(tag: str, only: Sequence[str] = ()) -> list[Path]:
    """Run every scenario; save the histories of `only` those (all when empty). When every
    one of `only` can run alone (ALONE), only they run."""
    folder = Path(tempfile.mkdtemp())
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=folder / "temporal.db",
        extra_args=[
            "--dynamic-config-value",
            "limit.historyCount.suggestContinueAsNew=60",
        ],
    ).start()
    written = []
    try:
        client = await connect(Settings(TEMPORAL_ADDRESS=server.address))
        store = open_store(
            f"sqlite:///{folder / 'events.db'}", env={"AMITY_PERSONAL_DATA_KEYS": "on"}
        )
        queue = f"histories-{uuid.uuid4().hex}"
        async with build_worker(client, store, queue, threads=4):
            scenarios: dict[str, Any] = {}
            alone = bool(only) and set(only) <= set(ALONE)

            async def start(name: str, policy: dict[str, str] | None = None) -> Any:
                proposal = story.proposal()
                if policy is not None:
                    proposal["policy"] = policy
                handle = await client.start_workflow(
                    "PartnershipWorkflow", proposal, id=f"history-{name}", task_queue=queue
                )
                scenarios[name] = handle
                return handle

            for name in only if alone else ["request-reuse"]:
                await ALONE[name](await start(name))
            if not alone:
                # 1. the whole story through updates, then terminated
                handle = await start("story")
                for command, payload in story.steps():
                    await handle.execute_update(command, payload)
                await handle.execute_update("terminate", {"reason": "history recorded"})
                await handle.result()
                # 2. rejections: a refused update and a refused signal
                handle = await start("rejection")
                try:
                    await handle.execute_update(
                        "sign_memorandum", story.load("sign_memorandum.json")
                    )
                except Exception:  # noqa: BLE001 - refused on purpose
                    pass
                await handle.signal("record_exchange", {"field": "magic"})
                await _wait_version(handle, 2)
                await handle.execute_update("withdraw", {"reason": "history recorded"})
                await handle.result()
                # 3. a timer firing: dormancy, then expiry completes the workflow
                handle = await start("timers", {"dormant_after": "PT1S", "term": "PT3S"})
                for command, payload in story.steps()[:5]:
                    await handle.execute_update(command, payload)
                await handle.result()
                # 4. continue-as-new (the server suggests it after 60 history events)
                handle = await start("continue-as-new")
                for command, payload in story.steps()[:5]:
                    await handle.execute_update(command, payload)
                base = story.load("record_exchange.json")
                for n in range(40):
                    await handle.execute_update("record_exchange", {**base, "request_id": f"x-{n}"})
                await handle.execute_update("terminate", {"reason": "history recorded"})
                await handle.result()
                # 5. the input limits: control characters in a signal and in a start input
                #    (patch printable-text), a signal that would overgrow the state (state-budget)
                handle = await start("limits")
                await _wait_version(handle, 1)
                meeting = story.load("record_meeting.json")
                meeting["delegation"] = [{**meeting["delegation"][0], "name": "Jing\x07Dazhong"}]
                await handle.signal("record_meeting", meeting)
                await _wait_version(handle, 2)
                for command, payload in story.steps()[:5]:
                    await handle.execute_update(command, payload)
                person = {"name": "N" * 200, "title": "T" * 500, "organisation": "O" * 500}
                fat = {**story.load("record_exchange.json"), "participants": [person] * 200}
                for n in range(6):
                    await handle.signal("record_exchange", {**fat, "request_id": f"fat-{n}"})
                await _wait_version(handle, 13)
                await handle.execute_update("terminate", {"reason": "history recorded"})
                await handle.result()
                bad_start = story.proposal()
                bad_start["partner"]["name"] = "Cupertino\x00"
                scenarios["bad-start"] = await client.start_workflow(
                    "PartnershipWorkflow", bad_start, id="history-bad-start", task_queue=queue
                )
                try:
                    await scenarios["bad-start"].result()
                except Exception:  # noqa: BLE001 - fails on purpose
                    pass
                # 6. `amity forget` while the partnership runs (signal forget_person, patch
                #    forget-hands-over), then the forgotten person named again (the store's copy)
                handle = await start("forget")
                for command, payload in story.steps()[:5]:
                    await handle.execute_update(command, payload)
                store.forget("Jing Dazhong")
                told = await tell_workflows(client, store, "Jing Dazhong")
                assert told.told == [handle.id], told
                meeting = story.load("record_meeting.json")
                meeting["request_id"] = "meeting-after-forget"
                await handle.execute_update("record_meeting", meeting)
                await handle.execute_update("terminate", {"reason": "history recorded"})
                await handle.result()
                # 7. the effective clock: the seed memorandum signed on 2017-11-15 with a
                #    two-year term, recorded now: due for renewal and expired at once
                handle = await start("clock", {"term": "P2Y", "renewal_notice": "P60D"})
                for command, payload in story.steps()[:5]:
                    await handle.execute_update(command, payload)
                await handle.result()
            for name, handle in scenarios.items():
                if only and name not in only:
                    continue
                async for execution in client.list_workflows(f'WorkflowId="{handle.id}"'):
                    history = await client.get_workflow_handle(
                        handle.id, run_id=execution.run_id
                    ).fetch_history()
                    path = HERE / f"{tag}-{name}-{execution.run_id[-6:]}.json"
                    text = json.dumps(json.loads(history.to_json()), indent=1) + "\n"
                    if len(text) > 500_000:  # the payload-limit scenarios: kept gzipped
                        path = path.with_suffix(".json.gz")
                        path.write_bytes(gzip.compress(text.encode(), mtime=0))
                    else:
                        path.write_text(text, encoding="utf-8")
                    written.append(path)
        store.close()
    finally:
        server.stop()
    return written


if __name__ == "__main__":
    tag = sys.argv[1] if len(sys.argv) > 1 else "v1"
    for path in asyncio.run(record(tag, sys.argv[2:])):
        print(path.relative_to(HERE.parent.parent))
