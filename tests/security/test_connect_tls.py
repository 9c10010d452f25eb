"""Amity over TLS and mutual TLS: a real nginx terminates TLS in front of the dev server.

The worker (`amity worker`), the CLI (start, send, status) and `amity audit replay
--workflows` are real subprocesses configured only by the TEMPORAL_* variables that
temporalio.envconfig reads, as against Temporal Cloud or a secured cluster. A certificate the
client does not trust, or no client certificate where the proxy demands one, is one line on
stderr and exit code 2.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from amity import story
from runtime.devserver import DevServer
from tests.cli.test_up import clean_env
from tests.tls import TlsProxy, nginx_or_skip

AMITY = str(Path(sys.executable).parent / "amity")


@pytest.fixture(scope="module")
def proxy(dev_server: DevServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsProxy]:
    nginx = nginx_or_skip()
    running = TlsProxy.start(nginx, dev_server.address, tmp_path_factory.mktemp("nginx"))
    yield running
    running.stop()


def amity(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [AMITY, *args], env=clean_env(**env), capture_output=True, text=True, timeout=90
    )


def assert_one_line_exit_2(result: subprocess.CompletedProcess[str], *contains: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("amity: cannot reach Temporal at 127.0.0.1:"), lines[0]
    for text in contains:
        assert text in lines[0], lines[0]
    return lines[0]


def test_worker_cli_and_replay_over_tls_and_mtls(proxy: TlsProxy, tmp_path: Path) -> None:
    task_queue = f"tls-{uuid.uuid4().hex[:8]}"
    amity_env = {
        "AMITY_TASK_QUEUE": task_queue,
        "AMITY_EVENT_STORE_URL": f"sqlite:///{tmp_path / 'events.db'}",
        "AMITY_STORE_THREADS": "4",
    }
    tls, mtls = {**proxy.tls_env(), **amity_env}, {**proxy.mtls_env(), **amity_env}
    worker = subprocess.Popen(
        [AMITY, "worker"], env=clean_env(**mtls), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        partnership_id = f"partnership-tls-{task_queue}"
        proposal = tmp_path / "proposal.json"
        proposal.write_text(json.dumps(story.proposal()), encoding="utf-8")
        started = amity("start", str(proposal), "--id", partnership_id, "--json", env=tls)
        assert started.returncode == 0, started.stderr
        assert json.loads(started.stdout)["partnership_id"] == partnership_id

        talks = str(story.EXAMPLES / "open_talks.json")
        sent = amity("send", partnership_id, "open_talks", talks, "--json", env=mtls)
        assert sent.returncode == 0, sent.stderr
        assert json.loads(sent.stdout)["stage"] == "in_talks"

        status = amity("status", partnership_id, "--json", env=tls)
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["version"] == 2

        query = f'WorkflowId="{partnership_id}"'
        for env in (tls, mtls):
            replayed = amity("audit", "replay", "--workflows", "--query", query, env=env)
            assert replayed.returncode == 0, replayed.stderr
            assert "replayed 1 workflow histories: 0 failure(s)" in replayed.stdout

        worker.send_signal(signal.SIGINT)
        assert worker.wait(30) == 0
        assert worker.stderr is not None and b"Traceback" not in worker.stderr.read()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_an_untrusted_server_certificate_is_one_line(proxy: TlsProxy) -> None:
    env = {**proxy.tls_env(), "TEMPORAL_TLS_SERVER_CA_CERT_PATH": str(proxy.certs.untrusted_ca)}
    line = assert_one_line_exit_2(
        amity("status", "partnership-x", env=env), "certificate is not trusted", "UnknownIssuer"
    )
    assert "BEGIN" not in line


def test_mtls_without_a_trusted_client_certificate_is_one_line(proxy: TlsProxy) -> None:
    without = {**proxy.tls_env(), "TEMPORAL_ADDRESS": proxy.mtls_address}
    assert_one_line_exit_2(
        amity("status", "partnership-x", env=without), ", TLS)", "client certificate"
    )
    stranger = {
        **proxy.mtls_env(),
        "TEMPORAL_TLS_CLIENT_CERT_PATH": str(proxy.certs.stranger[0]),
        "TEMPORAL_TLS_CLIENT_KEY_PATH": str(proxy.certs.stranger[1]),
    }
    line = assert_one_line_exit_2(
        amity("status", "partnership-x", env=stranger), ", mTLS)", "client certificate"
    )
    key = proxy.certs.stranger[1].read_text()
    assert key.splitlines()[1] not in line


def test_plain_text_to_a_tls_port_is_one_line(proxy: TlsProxy) -> None:
    plain = {"TEMPORAL_ADDRESS": proxy.tls_address}
    assert_one_line_exit_2(amity("status", "partnership-x", env=plain), "plain")


def test_a_profile_file_connects_over_tls(proxy: TlsProxy, tmp_path: Path) -> None:
    config = tmp_path / "temporal.toml"
    config.write_text(
        f"""
[profile.secure]
address = "{proxy.tls_address}"
namespace = "default"

[profile.secure.tls]
server_ca_cert_path = "{proxy.certs.ca}"
server_name = "localhost"
""",
        encoding="utf-8",
    )
    env = {"TEMPORAL_CONFIG_FILE": str(config), "TEMPORAL_PROFILE": "secure"}
    nothing = 'WorkflowId="partnership-none"'
    replayed = amity("audit", "replay", "--workflows", "--query", nothing, env=env)
    assert replayed.returncode == 0, replayed.stderr
    assert "replayed 0 workflow histories" in replayed.stdout
    missing = amity("status", "x", env={**env, "TEMPORAL_PROFILE": "nope"})
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1, missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_api_key_turns_tls_on_and_is_never_printed(proxy: TlsProxy) -> None:
    key = "amity-test-api-key-" + uuid.uuid4().hex
    env = {"TEMPORAL_ADDRESS": proxy.mtls_address, "TEMPORAL_API_KEY": key}
    line = assert_one_line_exit_2(amity("status", "partnership-x", env=env), "API key")
    assert key not in line


async def test_amity_up_connects_to_its_own_dev_server_in_plain_grpc(
    dev_server: DevServer, proxy: TlsProxy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shell set up for a secured cluster elsewhere (TLS, client certificate, API key) still
    runs `amity up` against the dev server it starts."""
    from amity.up import engine_settings
    from runtime.connect import connect, connect_options
    from runtime.settings import get_settings

    for name, value in {**proxy.mtls_env(), "TEMPORAL_API_KEY": "elsewhere-key"}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        settings = engine_settings(dev_server, tmp_path)
        options = connect_options(settings)
        assert options == {"target_host": dev_server.address, "namespace": "default"}
        client = await connect(settings)
        assert await client.service_client.check_health()
        assert "tls" in connect_options(get_settings())  # the shell's own settings keep TLS
    finally:
        get_settings.cache_clear()
