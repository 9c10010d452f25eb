"""Configuration from the environment (the contract's variable names), in one place."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field
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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
