"""Every `amity` process loads amity.cli, so what it loads at import is paid by `--help`, by a
refused argument and by every test that starts the CLI. Temporal's client, the store's drivers
and the domain's command models (about two seconds together) load only in the commands that use
them. Each check runs in a fresh interpreter: this test process has loaded them all already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

#: What no help page may load.
ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("temporalio", "temporalio.client", "psycopg", "eventsourcing.postgres", "domain.slices")

#: Runs `amity ARGS` for each list in argv[1] (JSON) in this one interpreter, and prints which
#: of the heavy modules each run left loaded.
PROBE = """
import json, sys
from typer.testing import CliRunner
from amity.cli import app, command_paths

heavy = {heavy!r}
runs = json.loads(sys.argv[1])
if runs == "help":
    runs = [["--help"]] + [[*path.split(), "--help"] for path in sorted(command_paths())]
runner = CliRunner()
seen = []
for args in runs:
    result = runner.invoke(app, args, prog_name="amity")
    seen.append({{
        "args": args,
        "code": result.exit_code,
        "loaded": sorted(name for name in heavy if name in sys.modules),
    }})
print(json.dumps(seen))
"""


def probe(runs: object, tmp_path: Path) -> list[dict[str, Any]]:
    env = {
        **os.environ,
        "AMITY_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'absent.db'}",
        "TEMPORAL_ADDRESS": "127.0.0.1:1",  # nothing may be reached
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(runs)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen: list[dict[str, Any]] = json.loads(done.stdout)
    return seen


def test_help_pages_load_no_engine_client_store_driver_or_command_models(tmp_path: Path) -> None:
    seen = probe("help", tmp_path)
    assert len(seen) > 20  # amity, its commands and the audit group's
    for run in seen:
        assert run["code"] == 0, run
        assert run["loaded"] == [], run


def test_refused_input_dry_runs_and_audit_commands_load_no_temporal_client(
    tmp_path: Path,
) -> None:
    runs = {
        ("send", "p1", "no_such_command", "--data", "{}"): 2,  # refused before connecting
        ("start", str(tmp_path / "missing.json")): 2,
        ("list", "--stage", "bogus"): 2,
        ("import", str(ROOT / "examples" / "portfolio" / "mianyang.csv"), "--dry-run"): 0,
        ("audit", "history", "p1"): 2,  # the audit reads the store only (absent here)
        ("audit", "verify"): 2,
    }
    seen = probe([list(args) for args in runs], tmp_path)
    for run, code in zip(seen, runs.values(), strict=True):
        assert run["code"] == code, run
        assert "temporalio.client" not in run["loaded"], run
    # the refused command was checked by the domain (its models are loaded), just not sent
    assert "domain.slices" in seen[0]["loaded"]
