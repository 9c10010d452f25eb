"""What the audit commands share: the store they read, plain output, key and witness options."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from amity.cli_common import (
    UserError,
    console,
)
from runtime.settings import get_settings

if TYPE_CHECKING:  # opened on demand: `amity audit --help` needs no database driver
    from store.application import PartnershipStore


def open_store() -> PartnershipStore:
    """The configured store, which must already exist and be Amity's: an audit reads the log
    the worker wrote and never makes an empty one to report on (a mistyped URL, or a command
    run from another folder, used to create var/events.db and verify it as OK). Its own
    tables (checkpoints, read models) it may add to a store that exists; the library's never."""
    from runtime.settings import open_store as open_configured_store
    from store.presence import NoStore, require_store

    settings = get_settings()
    try:
        require_store(settings.store_url)
    except NoStore as error:
        raise UserError(
            f"no Amity event store at {settings.store_url_shown}: {error}; set"
            " AMITY_EVENT_STORE_URL to the store the worker writes (`amity up --data-dir DIR`"
            " writes sqlite:///DIR/events.db; the default is var/events.db in this folder)"
        ) from None
    return open_configured_store(settings=settings, env={"CREATE_TABLE": "n"})


def log_size(store: PartnershipStore) -> int | None:
    """About how many entries the log holds (its last notification id), for a progress bar."""
    return store.recorder.max_notification_id()


def say(text: str) -> None:
    """One plain line on stdout: never wrapped (notes and keys must survive copying)."""
    console.print(Text(text), soft_wrap=True)


def store_key(store: PartnershipStore, *, create: bool) -> Any:
    from audit.keys import AuditKeyError, load_signing_key

    try:
        return load_signing_key(get_settings(), store.url, create=create)
    except AuditKeyError as error:
        raise UserError(str(error)) from None


PublicKeyOption = Annotated[
    str | None,
    typer.Option(
        "--public-key",
        help="Trust only this verifier key (name+id+key, or a file holding it)",
    ),
]


WitnessOption = Annotated[
    bool | None,
    typer.Option(
        "--witness/--no-witness",
        help="Use the Temporal witness (default: AMITY_AUDIT_WITNESS, on)",
    ),
]


def use_witness(flag: bool | None) -> bool:
    return get_settings().audit_witness if flag is None else flag
