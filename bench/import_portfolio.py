"""The import of a generated portfolio (default 1,000 rows) with `amity import`, end to end.

Starts its own dev server and one worker (`python worker.py`, SQLite store), writes the
portfolio (bench/portfolio.py: the Shaanxi report's proportions), then runs the real command
line twice: the import (time, rows/s, events/s) and the same import again (a no-op: time).
Prints the pipeline table the read models build from what was imported.

    .venv/bin/python -m bench.import_portfolio [--rows 1000] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from audit.projections import ReadModels
from bench.portfolio import portfolio, to_csv
from runtime.devserver import DevServer, free_port
from runtime.settings import open_store
from workflows.search import SEARCH_ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while "worker on " not in log.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)
    return process


def run_import(path: Path, env: dict[str, str], concurrency: int) -> tuple[float, dict[str, Any]]:
    command = [sys.executable, "-m", "amity.cli", "import", str(path), "--json"]
    command += ["--concurrency", str(concurrency)]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    elapsed = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"amity import failed ({done.returncode}): {done.stderr.decode()}")
    return elapsed, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="amity-import-bench-"))
    server = DevServer(
        search_attributes=SEARCH_ATTRIBUTES,
        port=free_port(),
        ui_port=None,
        db_file=workdir / "temporal.db",
        log_file=workdir / "temporal.log",
    ).start()
    store_url = f"sqlite:///{workdir / 'events.db'}"
    env = {
        **os.environ,
        "TEMPORAL_ADDRESS": server.address,
        "AMITY_TASK_QUEUE": f"import-bench-{uuid.uuid4().hex[:8]}",
        "AMITY_EVENT_STORE_URL": store_url,
    }
    worker = None
    try:
        worker = start_worker(env, workdir / "worker.log")
        path = workdir / "portfolio.csv"
        path.write_text(to_csv(portfolio(args.rows, seed=2018)), encoding="utf-8")
        first_time, first = run_import(path, env, args.concurrency)
        again_time, again = run_import(path, env, args.concurrency)
        store = open_store(store_url)
        try:
            events = store.recorder.max_notification_id() or 0
            models = ReadModels(store)
            models.catch_up()
            stats = models.stats()
        finally:
            store.close()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(30)
        server.stop()
    rows = args.rows
    print(f"\nimport of {rows} rows (concurrency {args.concurrency}), {os.cpu_count()} cores\n")
    print("| run | created | already present | seconds | rows/s | events stored | events/s |")
    print("|---|---|---|---|---|---|---|")
    print(
        f"| first | {first['created']} | {first['already_present']} | {first_time:.1f} |"
        f" {rows / first_time:.1f} | {events} | {events / first_time:.0f} |"
    )
    print(
        f"| again (no-op) | {again['created']} | {again['already_present']} | {again_time:.1f} |"
        f" {rows / again_time:.1f} | {events} | - |"
    )
    print("\n| pipeline (report form) | partnerships |\n|---|---|")
    for name, count in stats.form.items():
        print(f"| {name} | {count} |")
    print(f"| total | {sum(stats.form.values())} |")
    print(f"\n(work folder {workdir})")


if __name__ == "__main__":
    main()
