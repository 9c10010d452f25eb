"""How to open the event store: built from the settings by the process that opens it.

The store sits below the runtime, so it does not read the settings itself: whoever opens it
(the worker, a CLI command, a test) hands it these options (runtime.settings.open_store).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

#: An embedded SQLite file, as under `amity up`.
DEFAULT_STORE_URL = "sqlite:///var/events.db"
#: A snapshot every this many events keeps rebuilding a long history fast.
DEFAULT_SNAPSHOT_INTERVAL = 100


class StoreOptions(BaseModel):
    """The event store's URL and protection; secrets stay SecretStr (never in a repr)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: SecretStr = SecretStr(DEFAULT_STORE_URL)
    #: base64 of 16, 24 or 32 bytes: every event and snapshot is encrypted at rest.
    store_key: SecretStr | None = None
    #: Persons' names sealed under per-person keys (crypto-shredding).
    personal_data_keys: bool = False
    #: base64 of 32 bytes, or a file holding it: keys person digests (store.digest_key).
    person_digest_key: SecretStr | None = None
    person_digest_key_file: str | None = None
    snapshot_interval: int = Field(default=DEFAULT_SNAPSHOT_INTERVAL, ge=1)
