"""The processes a scenario runs against: a Temporal dev server on a SQLite file (so it can be
stopped and restarted with its state), `python worker.py` subprocesses that can be SIGKILLed,
and one SQLite event store."""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from runtime.devserver import DevServer, free_port
from runtime.settings import Settings
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parents[2]


class Cluster:
    """A dev server on a SQLite file, worker subprocesses, one SQLite event store."""

    def __init__(
        self, folder: Path, task_queue: str = "faults", store_timeout: float | None = None
    ) -> None:
        self.folder = folder
        #: AMITY_STORE_TIMEOUT for the workers (None: the default 30 s): how soon an append
        #: a killed worker held is taken over by the next one.
        self.store_timeout = store_timeout
        folder.mkdir(parents=True, exist_ok=True)
        self.task_queue = task_queue
        self.store_file = folder / "events.db"
        self.store_url = f"sqlite:///{self.store_file}"
        self.server = DevServer(
            search_attributes=SEARCH_ATTRIBUTES,
            port=free_port(),
            ui_port=None,
            db_file=folder / "temporal.db",
            log_file=folder / "server.log",
        )
        self.workers: list[subprocess.Popen[bytes]] = []
        self.kills = 0
        self.exits = 0
        self.server_restarts = 0

    @property
    def settings(self) -> Settings:
        return Settings(TEMPORAL_ADDRESS=self.server.address)

    def worker_env(self) -> dict[str, str]:
        return {
            **os.environ,
            "TEMPORAL_ADDRESS": self.server.address,
            "AMITY_TASK_QUEUE": self.task_queue,
            "AMITY_EVENT_STORE_URL": self.store_url,
            "AMITY_STORE_THREADS": "16",
            "PYTHONUNBUFFERED": "1",
        } | ({"AMITY_STORE_TIMEOUT": str(self.store_timeout)} if self.store_timeout else {})

    def start_worker(self) -> subprocess.Popen[bytes]:
        log = open(self.folder / "worker.log", "ab")  # noqa: SIM115 - owned by the process
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "worker.py")],
            cwd=ROOT,
            env=self.worker_env(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.workers.append(process)
        return process

    def kill_worker(self) -> None:
        """SIGKILL one running worker (ours, by pid) and start another."""
        alive = [w for w in self.workers if w.poll() is None]
        if alive:
            victim = random.choice(alive)
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            self.workers.remove(victim)
            self.kills += 1
        self.start_worker()

    def keep_workers(self, count: int = 1) -> None:
        """Restart workers that exited by themselves (counted: they should not)."""
        for worker in list(self.workers):
            if worker.poll() is not None:
                self.workers.remove(worker)
                self.exits += 1
        while len(self.workers) < count:
            self.start_worker()

    def restart_server(self) -> None:
        self.server.stop()
        time.sleep(0.5)
        self.server.start()
        self.server_restarts += 1

    def start(self, workers: int = 1) -> Cluster:
        self.server.start()
        for _ in range(workers):
            self.start_worker()
        return self

    def stop(self) -> None:
        for worker in self.workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.send_signal(signal.SIGKILL)
                    worker.wait()
        self.workers.clear()
        self.server.stop()


@contextlib.contextmanager
def cluster(
    folder: Path | None = None, workers: int = 1, store_timeout: float | None = None
) -> Iterator[Cluster]:
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="faults-")))
        running = Cluster(folder, store_timeout=store_timeout).start(workers)
        try:
            yield running
        finally:
            running.stop()
