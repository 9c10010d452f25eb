"""The fault suite at a reduced size: crashes, a locked store, bad input, races (bench/faults/).

`python -m bench.faults --full` runs the same scenarios at full size.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.faults import Figures, bad_input_suite, crash_suite, lock_suite, race_suite
from runtime.settings import Settings
from tests.conftest import Engine

pytestmark = pytest.mark.slow


def assert_clean(figures: Figures) -> None:
    assert figures.problems == [], "\n".join(figures.problems[:20])
    assert figures.duplicates == 0
    assert figures.losses == 0
    assert figures.stuck == 0
    assert figures.reconcile_bad == 0 and figures.verify_bad == 0
    assert figures.completed == figures.partnerships
    assert figures.bad_clean == figures.bad_tried


async def test_crashes_lose_and_double_nothing(tmp_path: Path) -> None:
    """Workers SIGKILLed at random moments, the server restarted once mid-run. An append a
    killed worker held goes to the next worker after 5 s (AMITY_STORE_TIMEOUT), not 30."""
    figures = await crash_suite(
        partnerships=8, kills=3, clients=8, folder=tmp_path, seed=1, store_timeout=5
    )
    assert_clean(figures)
    assert figures.worker_kills == 3
    assert figures.server_restarts == 1
    assert figures.commands_applied > 0


async def test_a_locked_store_file_delays_but_loses_nothing(tmp_path: Path) -> None:
    figures = await lock_suite(partnerships=4, hold=3.0, folder=tmp_path)
    assert_clean(figures)


async def test_appends_timed_out_on_a_locked_file_finish_late_and_are_stored_once(
    tmp_path: Path,
) -> None:
    """Held longer than an append may take (AMITY_STORE_TIMEOUT 2 s): Temporal times the
    waiting appends out and retries them while the first attempts, once the lock is free,
    finish late. Each command is still stored exactly once and every partnership goes on."""
    figures = await lock_suite(partnerships=4, hold=4.0, folder=tmp_path, store_timeout=2)
    assert_clean(figures)


async def test_bad_input_is_refused_cleanly_everywhere(
    engine: Engine, settings: Settings, store_url: str
) -> None:
    cli_env = {
        "TEMPORAL_ADDRESS": settings.temporal_address,
        "AMITY_TASK_QUEUE": engine.task_queue,
        "AMITY_EVENT_STORE_URL": store_url,
    }
    figures = await bad_input_suite(
        240, engine.client, engine.task_queue, engine.store, seed=3, cli_env=cli_env, oversize=1
    )
    assert_clean(figures)
    assert figures.bad_tried >= 240
    assert figures.accepted_clean > 0


async def test_racing_clients_end_in_a_serial_outcome(engine: Engine) -> None:
    figures = await race_suite(3, engine.client, engine.task_queue, engine.store, seed=5)
    assert_clean(figures)
