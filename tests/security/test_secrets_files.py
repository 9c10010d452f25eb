"""Attack: another local user reads `amity up`'s data folder (the event store with every
partnership's history, Temporal's database with every payload, the audit key, the logs).

A real `amity up` in a folder that already holds world-readable files from an earlier run;
after it starts, the folder is 0700 and every file Amity or Temporal keeps there is 0600.
"""

from __future__ import annotations

import signal
import stat
import subprocess
from pathlib import Path

from runtime.devserver import DevServer
from tests.cli.test_up import AMITY, clean_env
from tests.security.hardening_support import amity_up_with, wait_for_text


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_up_data_folder_is_0700_and_its_files_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    for name in ("temporal.log", "audit-key.pem"):  # left by an older version, world-readable
        (data_dir / name).write_bytes(b"from an earlier run\n")
        (data_dir / name).chmod(0o644)
    out = tmp_path / "up.out"
    with amity_up_with(data_dir, out, tmp_path) as up:
        wait_for_text(out, "other shells", up.process)
        files = sorted(p for p in data_dir.iterdir() if p.is_file())
        names = {p.name for p in files}
        assert {"events.db", "temporal.db", "temporal.log", "audit-key.pem"} <= names, names
        assert any(name.startswith("temporal.db-") for name in names), names  # WAL files
        assert mode(data_dir) == 0o700
        assert {p.name: oct(mode(p)) for p in files} == {p.name: "0o600" for p in files}


def test_a_worker_keeps_its_sqlite_store_private(dev_server: DevServer, tmp_path: Path) -> None:
    log = tmp_path / "worker.log"
    store = tmp_path / "store" / "events.db"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [AMITY, "worker"],
            env=clean_env(
                TEMPORAL_ADDRESS=dev_server.address, AMITY_EVENT_STORE_URL=f"sqlite:///{store}"
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_text(log, "worker on", worker)
        files = [p for p in store.parent.iterdir() if p.name.startswith("events.db")]
        assert files and {p.name: oct(mode(p)) for p in files} == {p.name: "0o600" for p in files}
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
