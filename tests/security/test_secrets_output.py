"""Attack: read a secret from what Amity prints or logs (a terminal, CI logs, a log shipper).

Real processes with real secrets in their environment; every byte they write is searched
for every secret: the store URL's password, AMITY_STORE_KEY, AMITY_PAYLOAD_KEY,
AMITY_AUDIT_KEY, the webhook secret and a token in the webhook URL. Also: the metrics
endpoint is not reachable from another interface.
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from runtime.devserver import DevServer, free_port
from tests.cli.test_up import AMITY, clean_env
from tests.production.postgres import PostgresServer
from tests.security.hardening_support import (
    SECRET,
    listen_addresses,
    other_local_addresses,
    wait_for_text,
)

PASSWORD = "S3cretPW"
UNREACHABLE = f"postgresql://u:{PASSWORD}@127.0.0.1:1/x"


def run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AMITY, *args], env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "args",
    [
        ["audit", "history", "partnership-x"],
        ["audit", "export", "--format", "csv", "--out", "/tmp/amity-hardening.csv"],
    ],
)
def test_a_store_error_names_the_store_without_its_password(args: list[str]) -> None:
    done = run(args, AMITY_EVENT_STORE_URL=UNREACHABLE)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "postgresql://u:***@127.0.0.1:1/x" in lines[0]
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_a_worker_that_cannot_open_its_store_says_so_in_one_line(dev_server: DevServer) -> None:
    done = run(["worker"], TEMPORAL_ADDRESS=dev_server.address, AMITY_EVENT_STORE_URL=UNREACHABLE)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("amity: event store postgresql://u:***@127.0.0.1:1/x"), lines
    assert PASSWORD not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def secrets_env(postgres: PostgresServer, password: str) -> tuple[dict[str, str], list[str]]:
    """A worker's environment full of secrets, and the secret values to search for."""
    store_url = postgres.new_database().replace(":@", f":{password}@")  # trust auth: accepted
    store_key = base64.b64encode(os.urandom(32)).decode()
    payload_key = base64.b64encode(os.urandom(32)).decode()
    audit_key = base64.b64encode(os.urandom(32)).decode()
    digest_key = base64.b64encode(os.urandom(32)).decode()
    token = f"T0ken{uuid.uuid4().hex}"
    env = {
        "AMITY_EVENT_STORE_URL": store_url,
        "AMITY_STORE_KEY": store_key,
        "AMITY_PAYLOAD_KEY": payload_key,
        "AMITY_AUDIT_KEY": audit_key,
        "AMITY_PERSON_DIGEST_KEY": digest_key,
        "AMITY_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/hook?token={token}",
        "AMITY_WEBHOOK_SECRET": SECRET,
    }
    secrets = [password, store_key, payload_key, audit_key, digest_key, token, SECRET, SECRET[6:]]
    return env, secrets


def test_a_running_worker_prints_no_secret_and_serves_metrics_on_loopback_only(
    dev_server: DevServer, postgres: PostgresServer, tmp_path: Path
) -> None:
    password = f"{PASSWORD}-{uuid.uuid4().hex[:8]}"
    env, secrets = secrets_env(postgres, password)
    metrics_port = free_port()
    log = tmp_path / "worker.log"
    with log.open("wb") as sink:
        worker = subprocess.Popen(
            [AMITY, "worker"],
            env=clean_env(
                TEMPORAL_ADDRESS=dev_server.address, AMITY_METRICS_PORT=str(metrics_port), **env
            ),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        started = wait_for_text(log, "worker on", worker)
        assert "postgresql://postgres:***@127.0.0.1" in started  # the start line names the store
        wait_for_text(log, "metrics on", worker)
        # The endpoint listens on loopback only: /proc says so, and another address is refused.
        assert listen_addresses(metrics_port) == {"127.0.0.1"}
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=5):
            pass
        for address in other_local_addresses():
            with pytest.raises(OSError), socket.create_connection((address, metrics_port), 5):
                pass
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(timeout=30)
    output = log.read_text(errors="replace")
    assert "Traceback" not in output
    for secret in secrets:
        assert secret not in output, f"a secret leaked into the worker's output: {output}"


def test_up_prints_no_secret(postgres: PostgresServer, tmp_path: Path) -> None:
    from tests.security.hardening_support import amity_up_with

    password = f"{PASSWORD}-{uuid.uuid4().hex[:8]}"
    env, secrets = secrets_env(postgres, password)
    out = tmp_path / "up.out"
    with amity_up_with(tmp_path / "var", out, tmp_path, **env) as up:
        banner = wait_for_text(out, "other shells", up.process)
        assert "event store  postgresql://postgres:***@127.0.0.1" in banner
    assert up.process.returncode == 0
    output = out.read_text(errors="replace") + (tmp_path / "var" / "temporal.log").read_text(
        errors="replace"
    )
    assert "Traceback" not in output
    for secret in secrets:
        assert secret not in output, f"a secret leaked into amity up's output: {output}"


def test_metrics_that_cannot_listen_are_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run(["worker"], TEMPORAL_ADDRESS="127.0.0.1:1", AMITY_METRICS_PORT=str(port))
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"amity: metrics cannot listen on 127.0.0.1:{port} (AMITY_METRICS_HOST /"
        " AMITY_METRICS_PORT): Address already in use"
    ]
