"""Configuration from the environment (the contract's variable names), in one place.

No other product module reads the environment: each process builds one Settings (the CLI and
the worker through get_settings) and hands what each part needs to it.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import AliasChoices, Field, PrivateAttr, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from runtime.redact import redact_url, url_secrets
from store.application import PartnershipStore
from store.options import DEFAULT_SNAPSHOT_INTERVAL, DEFAULT_STORE_URL, StoreOptions

#: The log's name in its signed checkpoints unless AMITY_AUDIT_ORIGIN says otherwise.
DEFAULT_ORIGIN = "amity.local/event-log"
#: A bundle is read no further than this (AMITY_BUNDLE_MAX_BYTES changes it).
DEFAULT_MAX_BYTES = 256 * 1024 * 1024


class Settings(BaseSettings):
    """Everything Amity reads from the environment; defaults give the embedded engine."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    temporal_address: str = Field(
        default="localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        default="default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE")
    )
    temporal_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_API_KEY"),
        description="an API key for Temporal Cloud or a secured cluster (turns TLS on)",
    )
    temporal_tls_client_key_data: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("TEMPORAL_TLS_CLIENT_KEY_DATA"),
        description="the mTLS client's private key itself (PEM); _PATH names a file instead",
    )
    task_queue: str = Field(
        default="partnerships", validation_alias=AliasChoices("AMITY_TASK_QUEUE")
    )
    event_store_url: SecretStr = Field(
        default=SecretStr(DEFAULT_STORE_URL),
        validation_alias=AliasChoices("AMITY_EVENT_STORE_URL"),
        description="sqlite:///<path> or postgresql://user:password@host:port/dbname (a secret:"
        " it may hold a password; print `store_url_shown`)",
    )
    webhook_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_WEBHOOK_URL"),
        description="reminders are POSTed here (https, or http to loopback only); a secret: its"
        " path or query often holds a token",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_WEBHOOK_SECRET"),
        description="whsec_<base64>: signs every reminder (Standard Webhooks)",
    )
    webhook_timeout: float = Field(
        default=10.0,
        gt=0,
        le=25,
        validation_alias=AliasChoices("AMITY_WEBHOOK_TIMEOUT"),
        description="seconds one delivery may take in all (connect, send, answer)",
    )
    store_timeout: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        validation_alias=AliasChoices("AMITY_STORE_TIMEOUT"),
        description="seconds one event-store activity attempt may take; a worker that dies"
        " holding one delays its partnership this long (runtime/store_timeout.py)",
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
    audit_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_AUDIT_KEY"),
        description="Ed25519 key that signs checkpoints (PEM or base64 seed; audit/keys.py)",
    )
    person_digest_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_PERSON_DIGEST_KEY"),
        description="base64 of 32 bytes: keys person digests (store/digest_key.py reads it)",
    )
    person_digest_key_file: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_PERSON_DIGEST_KEY_FILE"),
        description="a file holding the person digest key (made, mode 0600, if missing)",
    )
    snapshot_interval: int = Field(
        default=DEFAULT_SNAPSHOT_INTERVAL,
        ge=1,
        validation_alias=AliasChoices("AMITY_SNAPSHOT_INTERVAL"),
        description="events between snapshots (fast as-of on long histories)",
    )
    audit_key_file: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AMITY_AUDIT_KEY_FILE"),
        description="PEM (PKCS#8) file of the Ed25519 key that signs checkpoints",
    )
    audit_origin: str = Field(
        default=DEFAULT_ORIGIN,
        validation_alias=AliasChoices("AMITY_AUDIT_ORIGIN"),
        description="the origin line of signed checkpoints (the log's name)",
    )
    data_dir: str = Field(
        default="var",
        validation_alias=AliasChoices("AMITY_DATA_DIR"),
        description="where Amity keeps its files when the store is not a SQLite file",
    )
    bundle_max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES,
        ge=1,
        validation_alias=AliasChoices("AMITY_BUNDLE_MAX_BYTES"),
        description="the largest audit bundle `amity audit verify-bundle` reads",
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        validation_alias=AliasChoices("AMITY_METRICS_HOST"),
        description="address the metrics endpoint listens on (0.0.0.0: every interface)",
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

    #: Set by `for_embedded_engine`: connect to `amity up`'s own dev server, in plain gRPC,
    #: whatever TEMPORAL_* variables or profile the shell holds for another cluster.
    _embedded_engine: bool = PrivateAttr(default=False)

    def for_embedded_engine(self, address: str, **update: object) -> Settings:
        """These settings, connecting to the local dev server at `address` (no TLS, no API
        key, no profile: those are for a cluster elsewhere)."""
        copy = self.model_copy(update={"temporal_address": address, **update})
        copy._embedded_engine = True
        return copy

    @property
    def embedded_engine(self) -> bool:
        return self._embedded_engine

    @field_validator(
        "snapshot_interval", "audit_origin", "data_dir", "bundle_max_bytes", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object, info: ValidationInfo) -> object:
        """These variables, set but empty, mean their default (as they always have)."""
        if value == "":
            field = cls.model_fields[info.field_name or ""]
            return field.default
        return value

    @property
    def store_url(self) -> str:
        """The event store URL itself (for connecting; never for printing)."""
        return self.event_store_url.get_secret_value()

    @property
    def store_url_shown(self) -> str:
        """The event store URL as it may be printed or logged: no password in it."""
        return redact_url(self.store_url)

    def store_options(self, url: str | SecretStr | None = None) -> StoreOptions:
        """How to open the event store (at `url` instead of AMITY_EVENT_STORE_URL if given)."""
        if isinstance(url, str):
            url = SecretStr(url)
        return StoreOptions(
            url=url or self.event_store_url,
            store_key=self.store_key,
            personal_data_keys=self.personal_data_keys,
            person_digest_key=self.person_digest_key,
            person_digest_key_file=self.person_digest_key_file,
            snapshot_interval=self.snapshot_interval,
        )

    def temporal_environment(self) -> dict[str, str]:
        """The TEMPORAL_* variables temporalio.envconfig reads (address, namespace, API key,
        TLS, mTLS, profile and its TOML file), with this Settings' own address, namespace and
        API key on top when they were given explicitly rather than by default."""
        env = {name: value for name, value in os.environ.items() if name.startswith("TEMPORAL_")}
        given = self.model_fields_set
        if "temporal_address" in given:
            env["TEMPORAL_ADDRESS"] = self.temporal_address
        if "temporal_namespace" in given:
            env["TEMPORAL_NAMESPACE"] = self.temporal_namespace
        if self.temporal_api_key is not None:
            env["TEMPORAL_API_KEY"] = self.temporal_api_key.get_secret_value()
        if self.temporal_tls_client_key_data is not None:
            env["TEMPORAL_TLS_CLIENT_KEY_DATA"] = (
                self.temporal_tls_client_key_data.get_secret_value()
            )
        return env

    def secret_values(self) -> list[str]:
        """Every secret this process holds, for scrubbing what it prints and logs."""
        values = url_secrets(self.store_url)
        if self.webhook_url is not None:
            values += url_secrets(self.webhook_url.get_secret_value())
        for secret in (
            self.store_key,
            self.payload_key,
            self.webhook_secret,
            self.audit_key,
            self.person_digest_key,
            self.temporal_api_key,
            self.temporal_tls_client_key_data,
        ):
            if secret is not None and secret.get_secret_value():
                value = secret.get_secret_value()
                values += [value, value.strip(), value.removeprefix("whsec_")]
        return values


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def open_store(
    url: str | SecretStr | None = None,
    *,
    settings: Settings | None = None,
    snapshot_interval: int | None = None,
    env: dict[str, str] | None = None,
) -> PartnershipStore:
    """The event store the settings describe (at `url` if given). Without `settings`, read
    afresh from the environment (a test's variables included)."""
    options = (settings or Settings()).store_options(url)
    return PartnershipStore(options, env=env, snapshot_interval=snapshot_interval)
