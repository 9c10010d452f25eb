"""The payload codec: with AMITY_PAYLOAD_KEY, Temporal's history holds ciphertext (fetched by
a client WITHOUT the codec, no name appears in it); the codec endpoint decodes it for the
Web UI (with CORS); with another key, or none, nothing decodes; reconcile still works."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.contrib.pydantic import pydantic_data_converter

from amity import story
from amity.codec_server import CodecServer
from audit.reconcile import reconcile
from runtime.codec import ENCODING, AesGcmCodec, CodecKeyError
from runtime.connect import connect
from runtime.devserver import DevServer
from runtime.settings import Settings, open_store
from worker import build_worker

#: Persons' names (personal data). City names stay readable in the search attributes
#: (PartnershipCities), which the server must read to list partnerships by city.
TOKEN = "codec-token-for-the-production-test-0123456789"
SECRETS = [b"Jing Dazhong", b"Zhang Zhaofu", b"Vice Mayor", b"science and technology cities"]


def post(url: str, body: bytes, origin: str | None = None) -> tuple[int, dict[str, str], bytes]:
    headers = {
        "Content-Type": "application/json",
        "X-Namespace": "default",
        "Authorization": f"Bearer {TOKEN}",
    }
    if origin:
        headers["Origin"] = origin
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def payloads_json(payloads: list[Payload]) -> bytes:
    return json_format.MessageToJson(Payloads(payloads=payloads)).encode()


async def test_history_holds_ciphertext_and_the_codec_endpoint_decodes_it(
    dev_server: DevServer, tmp_path: Path
) -> None:
    key = base64.b64encode(os.urandom(32)).decode()
    keyed = Settings(TEMPORAL_ADDRESS=dev_server.address, AMITY_PAYLOAD_KEY=key)
    plain = Settings(TEMPORAL_ADDRESS=dev_server.address)
    client = await connect(keyed)
    raw_client = await connect(plain)
    assert client.data_converter.payload_codec is not None
    assert not isinstance(raw_client.data_converter.payload_codec, AesGcmCodec)
    assert key not in repr(client.data_converter.payload_codec)

    store = open_store(f"sqlite:///{tmp_path / 'events.db'}")
    task_queue = f"codec-{uuid.uuid4().hex[:8]}"
    pid = f"partnership-codec-{uuid.uuid4().hex[:8]}"
    try:
        async with build_worker(client, store, task_queue, threads=4):
            handle = await client.start_workflow(
                "PartnershipWorkflow", story.proposal(), id=pid, task_queue=task_queue
            )
            for command, payload in story.steps()[:5]:
                status = await handle.execute_update(command, payload)
            assert status["proposed_by"]["name"] == "Jing Dazhong"  # the keyed client reads
            report = await reconcile(client, store, pid)
            assert report.ok and report.commands == 6, report
        history = await raw_client.get_workflow_handle(pid).fetch_history()
    finally:
        store.close()

    # the raw history: no name anywhere, and the payloads are sealed
    raw = b"".join(event.SerializeToString() for event in history.events)
    for secret in SECRETS:
        assert secret not in raw
    for event in history.events:  # cities only where the server needs them
        if b"Cupertino" in event.SerializeToString():
            assert event.HasField("upsert_workflow_search_attributes_event_attributes") or (
                event.HasField("workflow_execution_started_event_attributes")
                and b"Cupertino"
                not in event.workflow_execution_started_event_attributes.input.SerializeToString()
            ), event
    started = history.events[0].workflow_execution_started_event_attributes
    sealed = started.input.payloads[0]
    assert sealed.metadata["encoding"] == ENCODING
    with pytest.raises(Exception, match="encoding"):
        pydantic_data_converter.payload_converter.from_payloads([sealed], [dict])

    codec = client.data_converter.payload_codec
    assert isinstance(codec, AesGcmCodec)
    server = CodecServer(codec, TOKEN, port=0, origins=("http://localhost:8233",)).start()
    stranger = CodecServer(AesGcmCodec(os.urandom(32)), TOKEN, port=0).start()
    try:
        status_code, headers, body = post(
            f"{server.url}/decode", payloads_json([sealed]), origin="http://localhost:8233"
        )
        assert status_code == 200
        assert headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
        decoded = json_format.Parse(body, Payloads()).payloads[0]
        assert decoded.metadata["encoding"] == b"json/plain"
        proposal: dict[str, Any] = json.loads(decoded.data)
        assert proposal["proposed_by"]["name"] == "Jing Dazhong"
        # /encode seals, and /decode of that gives the original back
        status_code, _, body = post(f"{server.url}/encode", payloads_json([decoded]))
        assert status_code == 200
        again = json_format.Parse(body, Payloads()).payloads[0]
        assert again.metadata["encoding"] == ENCODING and b"Jing" not in again.data
        assert codec.decode_one(again) == decoded
        # a preflight from the UI's origin is allowed; another origin is not
        preflight = urllib.request.Request(
            f"{server.url}/decode",
            method="OPTIONS",
            headers={"Origin": "http://localhost:8233", "Access-Control-Request-Method": "POST"},
        )
        with urllib.request.urlopen(preflight, timeout=5) as reply:
            assert reply.headers["Access-Control-Allow-Origin"] == "http://localhost:8233"
            assert "X-Namespace" in reply.headers["Access-Control-Allow-Headers"]
        _, headers, _ = post(f"{server.url}/decode", payloads_json([sealed]), "http://evil.test")
        assert "Access-Control-Allow-Origin" not in headers
        # without the key nothing decodes, and no error repeats a key
        status_code, _, body = post(f"{stranger.url}/decode", payloads_json([sealed]))
        assert status_code == 400 and b"another key" in body and key.encode() not in body
    finally:
        server.stop()
        stranger.stop()
    with pytest.raises(CodecKeyError) as bad:
        AesGcmCodec.from_base64(key[:30])
    assert key[:30] not in str(bad.value)
