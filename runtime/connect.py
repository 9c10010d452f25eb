"""Connecting to Temporal with the contract's data converter, and a one-line error if not."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import Runtime

from runtime.guard import PayloadGuard
from runtime.settings import Settings, get_settings

#: A server that has just started answers this until its frontend is up; worth waiting for.
STARTING = "not healthy yet"
STARTING_GRACE_SECONDS = 15.0


class EngineUnreachable(RuntimeError):  # noqa: N818 - reads as the situation it names
    """Temporal did not answer; the message names the address tried."""


async def connect(
    settings: Settings | None = None,
    address: str | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE using the pydantic converter
    (with the payload codec when AMITY_PAYLOAD_KEY is set)."""
    settings = settings or get_settings()
    target = address or settings.temporal_address
    deadline = time.monotonic() + STARTING_GRACE_SECONDS
    while True:
        try:
            converter = data_converter(settings)
            return await Client.connect(
                target,
                namespace=settings.temporal_namespace,
                data_converter=converter,
                interceptors=[PayloadGuard(converter.payload_converter)],
                runtime=runtime or Runtime.default(),
            )
        except Exception as error:  # noqa: BLE001 - every connection failure reads the same
            if STARTING in str(error) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                continue
            raise EngineUnreachable(
                f"cannot reach Temporal at {target} (namespace {settings.temporal_namespace}):"
                f" {str(error).splitlines()[0] if str(error) else type(error).__name__}"
            ) from None


def data_converter(settings: Settings) -> DataConverter:
    """The contract's pydantic converter, plus AES-GCM payload encryption with a key; without
    a key, a codec that names the missing key when it meets an encrypted payload."""
    from runtime.codec import AesGcmCodec, RefuseSealed

    if settings.payload_key is None or not settings.payload_key.get_secret_value():
        return dataclasses.replace(pydantic_data_converter, payload_codec=RefuseSealed())
    codec = AesGcmCodec.from_base64(
        settings.payload_key.get_secret_value(),
        "accept" if settings.payload_plaintext == "accept" else "raise",
    )
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec)


def for_worker(client: Client) -> Client:
    """The client a worker polls with: with a key, an unencrypted payload reaches the
    workflow as a refusal marker (the command is refused with the reason, nothing is
    recorded) instead of an error that fails the workflow task over and over."""
    from runtime.codec import AesGcmCodec

    codec = client.data_converter.payload_codec
    if not isinstance(codec, AesGcmCodec) or codec.plaintext != "raise":
        return client
    config = client.config()
    config["data_converter"] = dataclasses.replace(
        client.data_converter, payload_codec=codec.with_plaintext("mark")
    )
    return Client(**config)
