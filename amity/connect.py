"""Connecting to Temporal with the contract's data converter, and a one-line error if not."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter

from amity.settings import Settings, get_settings


class EngineUnreachable(RuntimeError):  # noqa: N818 - reads as the situation it names
    """Temporal did not answer; the message names the address tried."""


async def connect(settings: Settings | None = None, address: str | None = None) -> Client:
    """A client on TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE using the pydantic converter."""
    settings = settings or get_settings()
    target = address or settings.temporal_address
    try:
        return await Client.connect(
            target,
            namespace=settings.temporal_namespace,
            data_converter=pydantic_data_converter,
        )
    except Exception as error:  # noqa: BLE001 - every connection failure reads the same
        raise EngineUnreachable(
            f"cannot reach Temporal at {target} (namespace {settings.temporal_namespace}):"
            f" {str(error).splitlines()[0] if str(error) else type(error).__name__}"
        ) from None
