"""`make bench` / `python -m bench`: every case against its floor, in one run.

Starts its own Temporal dev server (SQLite file, WAL) and its own stores in a temporary
folder, runs each case with a warm-up and several repetitions, prints a table of medians
(min–max) with the ratio to each floor, and writes bench/results/<date>.json.
`python -m bench --smoke` is the tiny run the test suite uses.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import append, asof, lifecycle, memory, projections, proofs, report
from bench.common import Options, Row, say
from bench.data import write_log
from runtime.settings import open_store

CASES = ("lifecycle", "append", "projections", "asof", "proofs", "memory")


def parse(argv: list[str] | None) -> tuple[Options, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--partnerships", type=int, help="N for the lifecycle (default 60)")
    parser.add_argument(
        "--events", type=int, help="log size for projections and proofs (default 1,000,000)"
    )
    parser.add_argument("--long-events", type=int, help="the as-of partnership (default 10,000)")
    parser.add_argument(
        "--date-events", type=int, help="the as-of-by-date partnership (default 100,000)"
    )
    parser.add_argument("--appends", type=int, help="commands for append (default 2,000)")
    parser.add_argument("--repeat", type=int, help="repetitions per case (default 3)")
    parser.add_argument(
        "--proof-sizes", help="comma-separated log sizes for proofs and memory (10^3..10^6)"
    )
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL in append")
    parser.add_argument("--only", help=f"comma-separated subset of {', '.join(CASES)}")
    parser.add_argument("--out", type=Path, help="JSON path (default bench/results/<date>.json)")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    parser.add_argument("--workdir", type=Path, help="keep the stores here (default: a temp dir)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a harness check only")
    args = parser.parse_args(argv)
    opts = Options()
    if args.smoke:
        opts = Options(
            partnerships=3,
            latency_partnerships=1,
            events=2_000,
            long_events=300,
            as_of_version=270,
            date_events=1_000,
            appends=40,
            proof_sizes=(100, 1_000),
            repeat=2,
            smoke=True,
        )
    for name in ("partnerships", "events", "long_events", "date_events", "appends", "repeat"):
        value = getattr(args, name)
        if value is not None:
            setattr(opts, name, value)
    if args.proof_sizes:
        opts.proof_sizes = tuple(int(size) for size in args.proof_sizes.split(","))
    if args.long_events and opts.as_of_version > opts.long_events:
        opts.as_of_version = opts.long_events * 9 // 10
    opts.postgres = not args.no_postgres
    return opts, args


def run(opts: Options, only: set[str], workdir: Path) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    extra: dict[str, Any] = {}
    worker_rss: float | None = None
    if "lifecycle" in only:
        found, info = asyncio.run(lifecycle.measure(opts, workdir))
        rows += found
        worker_rss = info["worker_peak_rss_mib"]
        extra["lifecycle"] = info
    if "append" in only:
        rows += append.measure(opts, workdir)
    log_url = f"sqlite:///{workdir / 'log.db'}"
    if only & {"projections", "proofs", "memory"}:
        store = open_store(log_url)
        started = time.perf_counter()
        if (store.recorder.max_notification_id() or 0) != opts.events:  # else: kept (--workdir)
            write_log(store, opts.events)
        store.close()
        seconds = time.perf_counter() - started
        extra["generate_log_seconds"] = seconds
        say(f"log: {opts.events:,} events written in {seconds:.1f} s")
    if "projections" in only:
        rows += projections.measure(opts, log_url, opts.events)
    if "asof" in only:
        rows += asof.run(opts, workdir, extra)
    if "proofs" in only:
        found, tree = proofs.measure_verify(opts, log_url, opts.events)
        rows += found
        rows += proofs.measure_proofs(opts, tree)
    if "memory" in only:
        logs = {}
        for size in opts.proof_sizes:
            if size == opts.events:
                logs[size] = log_url
            elif size < opts.events:
                url = f"sqlite:///{workdir / f'log-{size}.db'}"
                store = open_store(url)
                if (store.recorder.max_notification_id() or 0) != size:
                    write_log(store, size)
                store.close()
                logs[size] = url
        rows += memory.measure(opts, logs, worker_rss, workdir)
    return rows, extra


def main(argv: list[str] | None = None) -> int:
    opts, args = parse(argv)
    only = set(args.only.split(",")) if args.only else set(CASES)
    unknown = only - set(CASES)
    if unknown:
        raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="amity-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    opts.workdir = str(workdir)
    started = time.perf_counter()
    try:
        rows, extra = run(opts, only, workdir)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    extra["seconds"] = time.perf_counter() - started
    path = report.write(rows, asdict(opts), extra, args.out)
    machine = report.machine()
    title = (
        f"Amity benchmarks: {machine['nproc']} cores, {machine['cpu']}, {machine['memory']};"
        f" medians of {opts.repeat} (shared machine: compare ratios)"
    )
    report.console.print(report.table(rows, title))
    if args.markdown:
        args.markdown.write_text(report.markdown(rows) + "\n", encoding="utf-8")
    report.console.print(f"written to {path} in {extra['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
