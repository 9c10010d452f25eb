"""Audit commands read the store the worker wrote; they never create one to report on.

Run from another folder, or with a mistyped AMITY_EVENT_STORE_URL, they used to create an
empty var/events.db (or the tables of an empty PostgreSQL database) and print a result for it.
Now each one refuses with one line naming the URL (password redacted), exit 2, and leaves the
file system and the database exactly as they were.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from typer.testing import CliRunner

from amity.cli import app
from runtime.settings import open_store

runner = CliRunner()
AMITY = Path(sys.executable).parent / "amity"

#: Every command that reads the store, with arguments that would otherwise get past parsing.
READERS = [
    ["audit", "history", "partnership-x"],
    ["audit", "history", "partnership-x", "--json"],
    ["audit", "as-of", "partnership-x"],
    ["audit", "verify", "--no-witness"],
    ["audit", "verify", "--json"],
    ["audit", "export", "--out", "out.jsonl"],
    ["audit", "reconcile", "partnership-x"],
    ["audit", "stats"],
    ["audit", "replay", "--projections"],
    ["audit", "checkpoint", "--no-witness"],
    ["forget", "Somebody", "--store-only"],
]


def invoke(args: list[str], url: str | None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    env = {"TEMPORAL_ADDRESS": "127.0.0.1:1", "AMITY_AUDIT_KEY_FILE": str(tmp_path / "k.pem")}
    if url is None:
        monkeypatch.delenv("AMITY_EVENT_STORE_URL", raising=False)
    else:
        env["AMITY_EVENT_STORE_URL"] = url
    return runner.invoke(app, args, env=env)


def refused(result, shown_url: str) -> str:  # type: ignore[no-untyped-def]
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("amity: no Amity event store at " + shown_url), line
    assert "AMITY_EVENT_STORE_URL" in line and "--data-dir" in line, line
    assert result.stdout == ""
    return line


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) for a in READERS])
def test_missing_default_store_is_refused_and_not_created(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = invoke(args, None, monkeypatch, tmp_path)
    line = refused(result, "sqlite:///var/events.db")
    assert "no such file" in line
    assert not (tmp_path / "var").exists(), "an audit command created the store's folder"
    assert not (tmp_path / "out.jsonl").exists()


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master ORDER BY name").fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize("args", READERS, ids=[" ".join(a) for a in READERS])
def test_sqlite_file_that_is_not_amitys_is_refused_untouched(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    before = other.read_bytes()
    line = refused(invoke(args, f"sqlite:///{other}", monkeypatch, tmp_path), "sqlite:///")
    assert "without Amity's events table" in line
    assert tables(other) == ["invoices"]
    assert other.read_bytes() == before


def test_a_file_that_is_not_a_database_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n")
    line = refused(
        invoke(["audit", "stats"], f"sqlite:///{notes}", monkeypatch, tmp_path), "sqlite:///"
    )
    assert "is not an SQLite database" in line
    assert notes.read_text() == "not a database\n"


def test_an_amity_store_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check lets the real thing through: a store the worker created is read as before."""
    url = f"sqlite:///{tmp_path / 'events.db'}"
    open_store(url).close()
    result = invoke(["audit", "stats", "--json"], url, monkeypatch, tmp_path)
    assert result.exit_code == 0, result.stderr
    result = invoke(["audit", "history", "partnership-x"], url, monkeypatch, tmp_path)
    assert result.exit_code == 2
    assert "no history for partnership-x" in result.stderr


def public_tables(url: str) -> list[str]:
    with psycopg.connect(url.replace("postgresql://", "postgresql://", 1)) as connection:
        rows = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.parametrize("args", [["audit", "verify", "--no-witness"], ["audit", "stats"]])
def test_empty_postgresql_database_is_refused_without_creating_tables(
    args: list[str], postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    url = postgres.new_database()
    # The throwaway cluster trusts local connections: the password is only there to be hidden.
    with_password = url.replace("postgresql://postgres:@", "postgresql://postgres:hunter2secret@")
    assert with_password != url
    result = invoke(args, with_password, monkeypatch, tmp_path)
    line = refused(result, "postgresql://postgres:***@")
    assert "hunter2secret" not in result.stderr + result.stdout
    assert "holds no Amity event store" in line
    assert public_tables(url) == []


def test_console_script_refuses_a_missing_store_in_another_folder(tmp_path: Path) -> None:
    """The real `amity` as an operator runs it, from a folder without var/."""
    done = subprocess.run(
        [str(AMITY), "audit", "verify", "--no-witness"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("amity: no Amity event store at sqlite:///var/events.db")
    assert len(done.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
