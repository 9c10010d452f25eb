"""Attack: crash the CLI (or make it say "discrepancy found", exit 1) with hostile JSON in
`--data`, FILE.json or stdin: deep nesting, `NaN` / `Infinity`, numbers too large for a
float or too long for an int, megabytes of input.

Each is wrapped in a command that is otherwise valid (`correct` takes any object), so only
the input check stands between it and a traceback; Temporal is unreachable on purpose, so
a line about the input (not about the connection) proves it was refused first.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from amity import story
from tests.cli.test_up import AMITY, clean_env, run_main

NOWHERE = "127.0.0.1:1"


def correction(value: str) -> str:
    """A valid `correct` payload whose correction holds `value` (raw JSON text)."""
    return f'{{"target_version": 1, "reason": "typo", "correction": {{"x": {value}}}}}'


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


#: case: (a hostile JSON value, what the one line says about it)
HOSTILE = {
    "Infinity": ("Infinity", "Infinity is not a JSON number"),
    "-Infinity": ("-Infinity", "-Infinity is not a JSON number"),
    "NaN": ("NaN", "NaN is not a JSON number"),
    "1e400": ("1e400", "the number 1e400 is too large"),
    "5,000 digits": ("9" * 5000, "a number has too many digits"),
    # 60,000 levels: about the most one argument may hold (Linux: 128 KiB per argument)
    "60,000 deep": (deep(60_000), "nested deeper than 64 levels"),
    "10 MB": ('"' + "a" * 10_000_000 + '"', "8,388,608 bytes"),
}
HOSTILE_DATA = {case: (correction(value), said) for case, (value, said) in HOSTILE.items()}


def proposal_with(value: str) -> str:
    """A valid proposal whose rationale is `value` (raw JSON text)."""
    return json.dumps({**story.proposal(), "rationale": "@"}).replace('"@"', value)


@pytest.fixture(autouse=True)
def unreachable_temporal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", NOWHERE)


def one_line(code: int, err: str, source: str, expected: str = "") -> None:
    """Exit 2 and one line on stderr that names the input and says what is wrong with it."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err[:2000]
    assert lines[0].startswith(f"amity: {source}: ") and expected in lines[0], lines[0][:500]
    assert "Traceback" not in err


@pytest.mark.parametrize("case", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_a_number_json_cannot_carry_is_named_by_its_place(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the model names a field it refuses: the line says where, not only what."""
    data, expected = HOSTILE_DATA[case]
    code, _, err = run_main(["send", "partnership-x", "correct", "--data", data], capsys)
    one_line(code, err, "--data", f"correction.x: {expected}")
    listed = data.replace('{"x": ', '{"x": [1, ').replace("}}", "]}}")
    code, _, err = run_main(["send", "partnership-x", "correct", "--data", listed], capsys)
    one_line(code, err, "--data", f"correction.x[1]: {expected}")


@pytest.mark.parametrize("case", list(HOSTILE_DATA))
def test_hostile_data_is_one_line_exit_2(case: str, capsys: pytest.CaptureFixture[str]) -> None:
    data, expected = HOSTILE_DATA[case]
    code, _, err = run_main(["send", "partnership-x", "correct", "--data", data], capsys)
    one_line(code, err, "--data", expected)


@pytest.mark.parametrize("case", list(HOSTILE_DATA))
def test_hostile_files_are_one_line_exit_2(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, expected = HOSTILE_DATA[case]
    if case == "60,000 deep":
        data, expected = correction(deep(100_000)), "nested deeper than 64 levels"
    payload = tmp_path / "payload.json"
    payload.write_text(data)
    code, _, err = run_main(["send", "partnership-x", "correct", str(payload)], capsys)
    one_line(code, err, str(payload), expected)
    # The same inside a proposal for `amity start`.
    payload.write_text(proposal_with(HOSTILE[case][0] if case != "60,000 deep" else deep(100_000)))
    code, _, err = run_main(["start", str(payload)], capsys)
    one_line(code, err, str(payload), expected)


@pytest.mark.parametrize("case", ["60,000 deep", "10 MB", "5,000 digits"])
def test_hostile_stdin_is_one_line_exit_2(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data, _ = HOSTILE_DATA[case]
    if case == "60,000 deep":
        data = correction(deep(100_000))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    code, _, err = run_main(["send", "partnership-x", "correct", "-"], capsys)
    one_line(code, err, "-")


def test_the_real_console_script_prints_one_line(tmp_path: Path) -> None:
    """The same through a real process: what a shell user sees on stderr."""
    deep_file = tmp_path / "deep.json"
    deep_file.write_text(deep(100_000))
    for args, stdin in (
        (["start", str(deep_file)], None),
        (["send", "partnership-x", "correct", "--data", correction("Infinity")], None),
    ):
        done = subprocess.run(
            [AMITY, *args],
            input=stdin,
            env=clean_env(TEMPORAL_ADDRESS=NOWHERE),
            capture_output=True,
            timeout=60,
        )
        err = done.stderr.decode(errors="replace")
        assert done.returncode == 2, err[:2000]
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err[:2000]
        assert "Temporal" not in err  # refused before connecting


def test_an_honest_payload_still_reaches_for_temporal(capsys: pytest.CaptureFixture[str]) -> None:
    """Control: the limits refuse hostile input, not ordinary commands (this one gets as far
    as connecting, which fails here on purpose)."""
    code, _, err = run_main(
        ["send", "partnership-x", "correct", "--data", correction('{"note": [1, 2.5, -3e10]}')],
        capsys,
    )
    assert code == 2 and f"cannot reach Temporal at {NOWHERE}" in err
