"""`amity up` opens no HTTP API unless asked: a web page the user visits cannot POST a
command to the engine (a cross-site `text/plain` POST needs no CORS preflight).

A real `amity up` process; every TCP port its process tree listens on (read from /proc) is
probed with real HTTP requests.
"""

from __future__ import annotations

import base64
import http.client
import json
import signal
import subprocess
import uuid
from pathlib import Path

from amity import story
from runtime.connect import connect
from runtime.devserver import DevServer
from runtime.settings import Settings
from tests.cli.test_up import amity_up, children
from workflows.search import SEARCH_ATTRIBUTES

ATTACKER = "http://attacker.example"


def tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children(current))
    return found


def listening_ports(pids: list[int]) -> set[int]:
    """TCP ports in LISTEN state whose socket belongs to one of `pids` (from /proc)."""
    inodes: set[str] = set()
    for pid in pids:
        fd_dir = Path(f"/proc/{pid}/fd")
        try:
            entries = list(fd_dir.iterdir())
        except OSError:
            continue
        for entry in entries:
            try:
                target = entry.readlink()
            except OSError:
                continue
            if str(target).startswith("socket:["):
                inodes.add(str(target)[8:-1])
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:
                ports.add(int(fields[1].split(":")[1], 16))
    return ports


def cross_site_post(port: int, path: str, body: bytes) -> tuple[int, bytes]:
    """What a page on another site can send without a preflight: a text/plain POST."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Content-Type": "text/plain", "Origin": ATTACKER, "Referer": ATTACKER + "/"},
        )
        reply = connection.getresponse()
        return reply.status, reply.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        reply = connection.getresponse()
        return reply.status, reply.read()
    except (OSError, http.client.HTTPException):
        return 0, b""
    finally:
        connection.close()


def withdraw_body() -> bytes:
    data = base64.b64encode(json.dumps({"reason": "page", "actor": "attacker"}).encode())
    encoding = base64.b64encode(b"json/plain")
    payload = {"metadata": {"encoding": encoding.decode()}, "data": data.decode()}
    return json.dumps({"input": {"payloads": [payload]}}).encode()


async def test_up_without_http_port_answers_no_http_api(tmp_path: Path) -> None:
    with amity_up(
        tmp_path / "var", subprocess.PIPE, subprocess.STDOUT, http_api=False, stop=signal.SIGTERM
    ) as up:
        port, ui_port = up.port, up.ui_port
        client = await connect(Settings(TEMPORAL_ADDRESS=f"127.0.0.1:{port}"))
        pid = f"partnership-csrf-{uuid.uuid4().hex[:8]}"
        await client.start_workflow(
            "PartnershipWorkflow", story.proposal(), id=pid, task_queue="partnerships"
        )
        ports = listening_ports(tree(up.process.pid))
        assert {port, ui_port} <= ports, ports
        signal_path = f"/api/v1/namespaces/default/workflows/{pid}/signal/withdraw"
        for probed in sorted(ports - {port}):
            status, body = cross_site_post(probed, signal_path, withdraw_body())
            assert not 200 <= status < 300, (probed, status, body[:200])
            if probed != ui_port:  # the UI serves its own pages; nothing else may answer
                status, body = get(probed, "/api/v1/namespaces")
                assert status != 200 or b"namespaceInfo" not in body, (probed, body[:200])
        history = await client.get_workflow_handle(pid).fetch_history()
        assert not any(
            event.HasField("workflow_execution_signaled_event_attributes")
            for event in history.events
        ), "a cross-site POST delivered a signal"
    assert up.process.stdout is not None
    banner = up.process.stdout.read().decode(errors="replace")
    assert "HTTP API     off" in banner, banner


async def test_an_http_port_asked_for_answers(dev_server: DevServer) -> None:
    """The session's dev server is started with --http-port (integrations use it): that
    API answers, including a cross-site text/plain POST, which is why it is off by default."""
    assert dev_server.http_port
    status, body = get(dev_server.http_port, "/api/v1/namespaces")
    assert status == 200 and b"namespaceInfo" in body
    status, _ = cross_site_post(
        dev_server.http_port,
        f"/api/v1/namespaces/default/workflows/no-such-{uuid.uuid4().hex[:6]}/signal/withdraw",
        withdraw_body(),
    )
    assert status == 404  # processed: only the workflow is missing


def test_the_dev_server_without_http_port_refuses_every_host() -> None:
    """The option that makes it so, as the command line shows it."""
    command = DevServer(search_attributes=SEARCH_ATTRIBUTES, port=1, ui_port=None).command()
    joined = " ".join(command)
    assert "--http-port" not in joined
    assert "frontend.httpAllowedHosts=[]" in joined
