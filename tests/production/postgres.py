"""A throwaway PostgreSQL cluster for the test session, started with pytest-postgresql.

`pg_ctl` refuses to run as root (and CI runs as root), so when we are root every `pg_ctl`
call goes through a small wrapper that drops to an unprivileged OS user (`postgres` if the
machine has one, else a system user created here), and the cluster's directories live in a
folder that user owns. As any other user, the wrapper simply runs `pg_ctl`.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from pytest_postgresql.executors import PostgreSQLExecutor
from pytest_postgresql.janitor import DatabaseJanitor

PG_BIN = Path(os.environ.get("AMITY_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
CANDIDATE_USERS = ("postgres", "amity-pg")
SUPERUSER = "postgres"  # the cluster's database superuser (initdb --username)


def unprivileged_user() -> str:
    """An OS user pg_ctl accepts: `postgres` if present, else a system user made now."""
    for name in CANDIDATE_USERS:
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    name = CANDIDATE_USERS[-1]
    made = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
    )
    # Under pytest-xdist several workers may try at once: one creates the user, the others'
    # useradd fails because it exists by then, which is just as good.
    if made.returncode != 0:
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(f"useradd {name}: {made.stderr.decode().strip()}") from None
    return name


def pg_ctl_wrapper(folder: Path, os_user: str | None) -> Path:
    """An executable `pg_ctl` in `folder` that runs the real one (as `os_user` if given)."""
    real = PG_BIN / "pg_ctl"
    if os_user is None:
        return real
    wrapper = folder / "pg_ctl"
    # setpriv keeps the environment (LC_ALL & co. from the executor) and the working dir.
    wrapper.write_text(
        f'#!/bin/sh\nexec setpriv --reuid={os_user} --regid={os_user} --init-groups "{real}" "$@"\n'
    )
    wrapper.chmod(0o755)
    return wrapper


@dataclass
class PostgresServer:
    """A running cluster; `new_database()` gives each test its own empty database."""

    executor: PostgreSQLExecutor
    host: str
    port: int

    def url(self, dbname: str) -> str:
        return f"postgresql://{SUPERUSER}:@{self.host}:{self.port}/{dbname}"

    def new_database(self) -> str:
        """CREATE DATABASE amity_<random> and return its URL."""
        dbname = f"amity_{uuid.uuid4().hex[:12]}"
        DatabaseJanitor(
            user=SUPERUSER, host=self.host, port=self.port, dbname=dbname, password=None
        ).init()
        return self.url(dbname)

    def drop_database(self, url: str) -> None:
        dbname = url.rsplit("/", 1)[1]
        with psycopg.connect(
            host=self.host, port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


@contextmanager
def postgres_server(port: int) -> Iterator[PostgresServer]:
    """Start a cluster on 127.0.0.1:`port`; stop it and delete its files afterwards."""
    if not (PG_BIN / "pg_ctl").exists():
        raise RuntimeError(f"PostgreSQL server binaries not found in {PG_BIN}")
    as_root = os.geteuid() == 0
    os_user = unprivileged_user() if as_root else None
    # Not under pytest's basetemp: that folder is 0700 root, which the cluster's user
    # could not enter.
    folder = Path(tempfile.mkdtemp(prefix="amity-pg-"))
    folder.chmod(0o755)
    sockets = folder / "sockets"
    sockets.mkdir()
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        for path in (folder, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    executor = PostgreSQLExecutor(
        executable=str(pg_ctl_wrapper(folder, os_user)),
        host="127.0.0.1",
        port=port,
        datadir=str(folder / "data"),
        unixsocketdir=str(sockets),
        logfile=str(folder / "postgresql.log"),
        startparams="-w",
        dbname="amity",
        user=SUPERUSER,
        postgres_options="-c max_connections=400 -c fsync=off -c synchronous_commit=off"
        " -c full_page_writes=off",
    )
    try:
        executor.start()
        yield PostgresServer(executor=executor, host="127.0.0.1", port=port)
    finally:
        try:
            stop_cluster(Path(executor.executable), folder / "data")
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def stop_cluster(pg_ctl: Path, datadir: Path) -> None:
    """`pg_ctl stop -m fast`, and only that. The executor's own stop() then also signals the
    process group of its `pg_ctl start`, by a pid that process gave up long before: pids wrap
    (32768) within one run of the suite, and under pytest-xdist that pid may by then lead
    another worker's process group (its PostgreSQL, its dev server), which would die."""
    subprocess.run(
        [str(pg_ctl), "stop", "-D", str(datadir), "-m", "f"],
        capture_output=True,
        timeout=120,
        check=False,
    )
