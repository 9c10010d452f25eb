"""What an operator expects of a command line: --version, one --json flag, help that says
what the code says, stages as printed, a hint for a command typed in the wrong group, a hint
for an unreachable engine, and tables that fit an 80-column terminal."""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from typer.main import get_command
from typer.testing import CliRunner

from amity.cli import app, choice
from amity.render import list_table
from domain.values import Stage, Tier
from runtime.devserver import DevServer, free_port
from runtime.settings import open_store

runner = CliRunner()


def one_line_error(result: Any, contains: str) -> str:
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert contains in lines[0], lines[0]
    return lines[0]


def test_version_comes_from_the_package_metadata() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"amity {version('amity')}"


def test_help_keeps_the_word_forgotten() -> None:
    """Rich markup read `[forgotten]` as a tag and printed nothing in its place."""
    for args in (["--help"], ["forget", "--help"]):
        result = runner.invoke(app, args, env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "[forgotten]" in result.stdout, args


#: Every command that prints data a script may want.
DATA_COMMANDS = [
    ("start",),
    ("send",),
    ("status",),
    ("list",),
    ("audit", "history"),
    ("audit", "as-of"),
    ("audit", "verify"),
    ("audit", "checkpoint"),
    ("audit", "export"),
    ("audit", "reconcile"),
    ("audit", "replay"),
    ("audit", "stats"),
    ("audit", "report"),
    ("audit", "schedule"),
    ("forget",),
]


def command(path: tuple[str, ...]) -> Any:
    found: Any = get_command(app)
    for name in path:
        found = found.commands[name]
    return found


@pytest.mark.parametrize("path", DATA_COMMANDS, ids=" ".join)
def test_every_data_command_takes_json(path: tuple[str, ...]) -> None:
    options = {opt for param in command(path).params for opt in param.opts}
    assert "--json" in options
    help_text = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}).stdout
    assert "--json" in help_text
    # --format names a file format only: export's jsonl/csv/html, the stats page's html
    assert "--format" not in help_text or path in (("audit", "export"), ("audit", "stats"))


def test_old_format_json_still_works_and_matches_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    open_store(url).close()
    env = {"AMITY_EVENT_STORE_URL": url}
    new = runner.invoke(app, ["audit", "stats", "--json"], env=env)
    assert new.exit_code == 0, new.stderr
    assert "position" in json.loads(new.stdout)
    for args in (["--json"], ["--format", "json"]):
        result = runner.invoke(app, ["audit", "history", "partnership-x", *args], env=env)
        one_line_error(result, "no history for partnership-x")  # accepted, then looked up


def test_verify_and_checkpoint_answer_in_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    open_store(url).close()
    env = {
        "AMITY_EVENT_STORE_URL": url,
        "AMITY_AUDIT_KEY_FILE": str(tmp_path / "audit-key.pem"),
        "AMITY_AUDIT_WITNESS": "off",
    }
    made = runner.invoke(app, ["audit", "checkpoint", "--json"], env=env)
    assert made.exit_code == 0, made.stderr
    signed = json.loads(made.stdout)
    assert signed["ok"] is True and signed["seq"] == 1 and signed["size"] == 0
    checked = runner.invoke(app, ["audit", "verify", "--json"], env=env)
    assert checked.exit_code == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["ok"] is True and report["problems"] == [] and report["checkpoints"] == 1


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        (["history", "partnership-x"], "amity audit history"),
        (["verify"], "amity audit verify"),
        (["stats"], "amity audit stats"),
        (["audit", "status", "partnership-x"], "amity status"),
    ],
)
def test_a_command_in_the_wrong_group_gets_a_hint(typed: list[str], meant: str) -> None:
    line = one_line_error(runner.invoke(app, typed), f"did you mean `{meant}`?")
    assert line.startswith("amity: ")


@pytest.mark.parametrize("given", ["in talks", "in_talks", "In Talks", "IN-TALKS", " in  talks "])
def test_stages_are_accepted_as_printed(given: str) -> None:
    assert choice(Stage, given, "--stage") is Stage.IN_TALKS


def test_tiers_are_accepted_as_printed() -> None:
    assert choice(Tier, "Sister City", "--tier") is Tier.SISTER_CITY
    assert choice(Tier, "friendly_relations", "--tier") is Tier.FRIENDLY_RELATIONS


def test_an_unknown_stage_lists_the_stages_as_printed() -> None:
    result = runner.invoke(app, ["list", "--stage", "in negotiation"])
    one_line_error(result, "'in talks'")


def test_list_filters_by_a_stage_as_printed(dev_server: DevServer) -> None:
    env = {"TEMPORAL_ADDRESS": dev_server.address}
    result = runner.invoke(
        app, ["list", "--stage", "In Talks", "--tier", "sister city", "--json"], env=env
    )
    assert result.exit_code == 0, result.stderr
    assert isinstance(json.loads(result.stdout), list)


def test_unreachable_engine_names_the_address_and_what_to_do() -> None:
    address = f"127.0.0.1:{free_port()}"
    result = runner.invoke(app, ["status", "partnership-x"], env={"TEMPORAL_ADDRESS": address})
    line = one_line_error(result, f"cannot reach Temporal at {address}")
    assert "make up" in line and "TEMPORAL_ADDRESS" in line


def test_the_list_table_fits_80_columns_without_cutting_words() -> None:
    rows = [
        {
            "partnership_id": "partnership-testville-0a1b2c3d-somewhere-far-away",
            "stage": stage,
            "tier": "friendly_relations",
            "cities": ["Testville 0a1b2c3d", "Somewhere Far Away"],
            "countries": ["CN", "US"],
            "started_at": "2026-11-28T22:00:00+00:00",
            "status": "COMPLETED",
        }
        for stage in ("in_talks", "terminated")
    ]
    console = Console(width=80, record=True, color_system=None)
    console.print(list_table(rows, "2 partnerships"))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    for word in ("in talks", "terminated", "friendly", "relations", "COMPLETED", "2026-11-28"):
        assert word in text, (word, text)
