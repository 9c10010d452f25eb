"""The benchmark harness, run tiny (`python -m bench --smoke`), so it cannot rot.

This checks that every case runs end to end and reports numbers (and a ratio wherever a
floor is defined), in the table and in the JSON. It asserts no speed: benchmarks measure,
tests don't time.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = (
    "1 lifecycle",
    "2 latency",
    "3 append",
    "4 projections",
    "5 as-of",
    "6 tamper evidence",
    "7 memory",
)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_smoke_run_reports_every_case_with_numbers(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    markdown = tmp_path / "table.md"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--smoke",
            "--out",
            str(out),
            "--markdown",
            str(markdown),
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=220,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(out.read_text())
    rows = document["rows"]
    for case in CASES:
        measured = [r for r in rows if r["case"] == case and r["samples"]]
        assert measured, f"no numbers for case {case}"
        for row in measured:
            assert all(math.isfinite(v) for v in row["samples"]), row
            assert math.isfinite(row["median"]), row
        assert case in done.stdout, f"{case} missing from the printed table"
        assert case in markdown.read_text()
    # Every row has numbers, except a PostgreSQL row skipped with its reason.
    for row in rows:
        if not row["samples"]:
            assert row["metric"].startswith("PostgreSQL") and "skipped" in row["note"], row
    # Where a case has a floor, the same run measured it and the ratio is a number.
    for metric in ("partnerships/s", "commands/s", "update p50, idle", "rebuild events/s"):
        row = next(r for r in rows if r["metric"].startswith(metric))
        assert row["floor_samples"] and row["ratio"] is not None and row["ratio"] > 0, row
    verify = next(r for r in rows if r["metric"].startswith("audit verify entries/s"))
    assert verify["ratio"] > 0
    sqlite_append = next(r for r in rows if r["metric"].startswith("SQLite commands/s"))
    assert sqlite_append["ratio"] > 0
    # Inclusion proofs grow with log2(n): more hashes at 1,000 entries than at 100.
    proof_notes = [r["note"] for r in rows if r["metric"].endswith(": make")]
    sizes = [int(note.split(" hashes")[0]) for note in proof_notes]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]
    assert set(document["machine"]) >= {"nproc", "cpu", "memory"}
