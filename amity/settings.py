"""Configuration from the environment (the contract's variable names), in one place."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything Amity reads from the environment; defaults give the embedded engine."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    temporal_address: str = Field(
        default="localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
    )
    task_queue: str = Field(
        default="partnerships", validation_alias=AliasChoices("AMITY_TASK_QUEUE")
    )
    event_store_url: str = Field(
        default="sqlite:///var/events.db", validation_alias=AliasChoices("AMITY_EVENT_STORE_URL")
    )
    webhook_url: str | None = Field(
        default=None, validation_alias=AliasChoices("AMITY_WEBHOOK_URL")
    )
    store_threads: int = Field(
        default=24,
        ge=1,
        le=256,
        validation_alias=AliasChoices("AMITY_STORE_THREADS"),
        description="Thread pool for the blocking event-store activities",
    )

    store_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_STORE_KEY"),
        description="base64 of 16/24/32 bytes: the event store is encrypted at rest (AES-GCM)",
    )
    personal_data_keys: bool = Field(
        default=False,
        validation_alias=AliasChoices("AMITY_PERSONAL_DATA_KEYS"),
        description="on: persons' names are sealed under per-person keys (amity forget)",
    )
    payload_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_PAYLOAD_KEY"),
        description="base64 of 32 bytes: Temporal payloads are encrypted (AES-GCM codec)",
    )
    codec_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_CODEC_TOKEN"),
        description="the codec server's token (Bearer header, or first path segment of the"
        " endpoint given to the Web UI)",
    )
    payload_plaintext: str = Field(
        default="refuse",
        pattern="^(refuse|accept)$",
        validation_alias=AliasChoices("AMITY_PAYLOAD_PLAINTEXT"),
        description="with AMITY_PAYLOAD_KEY: refuse (default) or accept payloads that are not"
        " encrypted (accept only while histories written before the key still run)",
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("AMITY_METRICS_PORT"),
        description="Prometheus metrics of the worker on this port (off when unset)",
    )
    audit_public_key: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_AUDIT_PUBLIC_KEY"),
        description="The verifier key `audit verify` trusts (name+id+key, or a file holding it)",
    )
    audit_witness: bool = Field(
        default=True,
        validation_alias=AliasChoices("AMITY_AUDIT_WITNESS"),
        description="off: `audit checkpoint` / `audit verify` do not use the Temporal witness",
    )
    log_format: str = Field(
        default="text",
        validation_alias=AliasChoices("AMITY_LOG_FORMAT"),
        description="text or json (one JSON object per line, with workflow and request ids)",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
