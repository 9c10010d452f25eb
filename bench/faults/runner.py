"""`python -m bench.faults [--full]`: the four scenarios in turn, the table printed and
written to bench/results/faults-<date>.md; exit 1 if any scenario found a problem."""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime
from pathlib import Path

from bench.faults.bad_input import bad_input_suite
from bench.faults.cluster import ROOT
from bench.faults.crash import crash_suite
from bench.faults.figures import Figures
from bench.faults.locked import lock_suite
from bench.faults.races import race_suite
from bench.faults.report import machine, markdown, print_table

RESULTS = ROOT / "bench" / "results"


SIZES = {
    "full": {"partnerships": 100, "kills": 20, "lock": 40.0, "bad": 5_000, "races": 20},
    "reduced": {"partnerships": 12, "kills": 4, "lock": 4.0, "bad": 300, "races": 3},
}


async def run_all(size: str, seed: int | None = None) -> list[Figures]:
    sizes = SIZES[size]
    results = [
        await crash_suite(int(sizes["partnerships"]), int(sizes["kills"]), seed=seed),
        await lock_suite(10, float(sizes["lock"])),
        await bad_input_suite(int(sizes["bad"]), seed=seed or 7),
        await race_suite(int(sizes["races"])),
    ]
    return results


def main(argv: list[str] | None = None) -> int:
    from bench import faults

    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=faults.__doc__)
    parser.add_argument("--full", action="store_true", help="the full size (minutes, not seconds)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--out", type=Path, default=None, help="markdown file to write")
    args = parser.parse_args(argv)
    size = "full" if args.full else "reduced"
    started = time.monotonic()
    results = asyncio.run(run_all(size, args.seed))
    took = time.monotonic() - started
    title = (
        f"Amity fault suite ({size}) {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()},"
        f" {took:.0f}s"
    )
    print_table(results, title)
    out = args.out or RESULTS / f"faults-{date.today():%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(results, title), encoding="utf-8")
    print(f"wrote {out}")
    return 0 if all(f.ok for f in results) else 1
