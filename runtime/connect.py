"""Connecting to any Temporal with the contract's data converter, and a one-line error if not.

Where and how to connect comes from temporalio.envconfig: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
TEMPORAL_API_KEY, TEMPORAL_TLS* (server CA, server name, client certificate and key for
mTLS), TEMPORAL_PROFILE and the TOML file TEMPORAL_CONFIG_FILE names, the same as the
`temporal` CLI. The variables reach it through Settings (the only reader of the environment),
so the worker, the CLI, the audit commands and the tests all connect the same way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from typing import Any

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.envconfig import ClientConfig
from temporalio.runtime import Runtime
from temporalio.service import TLSConfig

from runtime.failures_wire import ReasonOnlyFailureConverter
from runtime.guard import PayloadGuard
from runtime.settings import Settings, get_settings

#: A server that has just started answers this until its frontend is up; worth waiting for.
STARTING = "not healthy yet"
STARTING_GRACE_SECONDS = 15.0


class EngineUnreachable(RuntimeError):  # noqa: N818 - reads as the situation it names
    """Temporal did not answer; the message names the address tried."""


class ConnectionConfigError(ValueError):
    """The TEMPORAL_* configuration (a profile, its file, a certificate) cannot be used."""


def connect_options(settings: Settings, address: str | None = None) -> dict[str, Any]:
    """Client.connect's target_host, namespace, tls, api_key and rpc_metadata as
    temporalio.envconfig reads them from the TEMPORAL_* variables (and profile file), with
    Amity's defaults (localhost:7233, namespace default) where nothing says otherwise."""
    if settings.embedded_engine:
        return {
            "target_host": address or settings.temporal_address,
            "namespace": settings.temporal_namespace,
        }
    env = settings.temporal_environment()
    try:
        options: dict[str, Any] = dict(
            ClientConfig.load_client_connect_config(
                profile=env.get("TEMPORAL_PROFILE") or None, override_env_vars=env
            )
        )
    except Exception as error:  # noqa: BLE001 - a file, a profile or a certificate unread
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ConnectionConfigError(f"Temporal connection settings: {first}") from None
    options["target_host"] = address or options.get("target_host") or settings.temporal_address
    options["namespace"] = options.get("namespace") or settings.temporal_namespace
    return options


def describe(options: dict[str, Any]) -> str:
    """How the connection was made, for error lines (never a key or a certificate)."""
    tls = options.get("tls")
    how = "plain"
    if isinstance(tls, TLSConfig):
        how = "mTLS" if tls.client_cert else "TLS"
    elif tls is True:
        how = "TLS"
    if options.get("api_key"):
        how += " + API key"
    return f"{options['target_host']} (namespace {options['namespace']}, {how})"


async def connect(
    settings: Settings | None = None,
    address: str | None = None,
    runtime: Runtime | None = None,
) -> Client:
    """A client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE using the pydantic converter
    (with the payload codec when AMITY_PAYLOAD_KEY is set)."""
    settings = settings or get_settings()
    options = connect_options(settings, address)
    deadline = time.monotonic() + STARTING_GRACE_SECONDS
    while True:
        try:
            converter = data_converter(settings)
            return await Client.connect(
                **options,
                data_converter=converter,
                interceptors=[PayloadGuard(converter.payload_converter)],
                runtime=runtime or Runtime.default(),
            )
        except Exception as error:  # noqa: BLE001 - every connection failure reads the same
            if STARTING in str(error) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
                continue
            raise EngineUnreachable(
                f"cannot reach Temporal at {describe(options)}: {reason(error, options)}"
            ) from None


def reason(error: BaseException, options: dict[str, Any]) -> str:
    """The cause of a connection failure on one line, naming what to fix when it is TLS (the
    Rust client's own text is a nest of transport errors)."""
    text = " ".join(str(error).split()) or type(error).__name__
    tls = options.get("tls")
    if "InvalidCertificate" in text or "certificate" in text.lower():
        detail = re.search(r"InvalidCertificate\((\w+)\)", text)
        return (
            "TLS: the server's certificate is not trusted"
            f" ({detail.group(1) if detail else 'invalid certificate'});"
            " TEMPORAL_TLS_SERVER_CA_CERT_PATH names the CA that issued it"
        )
    if tls and "400 Bad Request" in text:
        return (
            "TLS: the server refused the connection (400 Bad Request); it may require a client"
            " certificate it trusts (TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH)"
        )
    if not tls and ("400 Bad Request" in text or "broken pipe" in text.lower()):
        return (
            "the server did not speak plain gRPC (400 Bad Request); if it expects TLS,"
            " set TEMPORAL_TLS=true"
        )
    return text[:300]


def data_converter(settings: Settings) -> DataConverter:
    """The contract's pydantic converter, plus AES-GCM payload encryption with a key; without
    a key, a codec that names the missing key when it meets an encrypted payload."""
    from runtime.codec import AesGcmCodec, RefuseSealed

    base = dataclasses.replace(
        pydantic_data_converter, failure_converter_class=ReasonOnlyFailureConverter
    )
    if settings.payload_key is None or not settings.payload_key.get_secret_value():
        return dataclasses.replace(base, payload_codec=RefuseSealed())
    codec = AesGcmCodec.from_base64(
        settings.payload_key.get_secret_value(),
        "accept" if settings.payload_plaintext == "accept" else "raise",
    )
    return dataclasses.replace(base, payload_codec=codec)


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
