"""Attack: CSV injection (OWASP). An integration names itself `=HYPERLINK("http://x","y")`;
an auditor opens `amity audit export --format csv` in a spreadsheet, which would run the
cell as a formula (a live link, or worse). Every cell starting with `=`, `+`, `-`, `@`, a
tab or a carriage return is written with a leading `'`, so it reads as text.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from amity import story
from audit.export import neutral_cell
from tests.cli.test_up import run_main
from tests.conftest import Engine

ACTORS = ['=HYPERLINK("http://x","y")', "+SUM(1,2)", "-2+3", "@SUM(A1)"]


async def test_formula_actors_are_exported_as_text(
    engine: Engine,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle = await engine.start({**story.proposal(), "rationale": "=1+1 looks like a formula"})
    for (command, payload), actor in zip(story.steps()[:4], ACTORS, strict=True):
        await handle.execute_update(command, {**payload, "actor": actor})
    monkeypatch.setenv("AMITY_EVENT_STORE_URL", engine.store.url)
    out = tmp_path / "history.csv"
    code, _, err = run_main(
        ["audit", "export", "--format", "csv", "--out", str(out), handle.id], capsys
    )
    assert code == 0, err
    with out.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    actors = [row["actor"] for row in rows]
    assert actors[1:5] == ["'" + actor for actor in ACTORS]
    for row in rows:  # no cell of any row could start a formula
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), row


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ("=1+1", "'=1+1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Jing Dazhong", "Jing Dazhong"),
        ("a=b", "a=b"),
        (7, "7"),
        (None, ""),
    ],
)
def test_neutral_cell(value: object, written: str) -> None:
    assert neutral_cell(value) == written
