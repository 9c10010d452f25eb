"""The one way Amity shows a URL (redact_url) and scrubs a secret from any text (scrub):
the awkward cases a real password or token takes."""

from __future__ import annotations

import logging

import pytest

from runtime.redact import ScrubSecrets, redact_url, scrub, url_secrets
from runtime.settings import Settings


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:S3cretPW@127.0.0.1:1/x", "postgresql://u:***@127.0.0.1:1/x"),
        ("postgresql://u:p%40ss%2Fw0rd@db/x", "postgresql://u:***@db/x"),
        ("postgresql://u:p@ss/w0rd@db:5432/x", "postgresql://u:***@db:5432/x"),  # unencoded
        ("postgresql://db/x?user=u&password=S3cret", "postgresql://db/x?user=u&password=***"),
        ("https://hooks.example/h?token=T0ken&x=1", "https://hooks.example/h?token=***&x=1"),
        ("postgresql://u@db/x", "postgresql://u@db/x"),
        ("sqlite:///var/events.db", "sqlite:///var/events.db"),
        ("not a url", "not a url"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    for secret in url_secrets(url):
        assert secret not in redact_url(url)


def test_scrub_replaces_raw_and_decoded_forms() -> None:
    url = "postgresql://u:p%40ssw0rd@db/x"
    text = f"cannot connect to {url} (password 'p@ssw0rd')"
    assert (
        scrub(text, url_secrets(url))
        == "cannot connect to postgresql://u:***@db/x (password '***')"
    )


def test_settings_hide_every_secret_in_repr_and_dump() -> None:
    settings = Settings(
        AMITY_EVENT_STORE_URL="postgresql://u:S3cretPW@db/x",
        AMITY_STORE_KEY="c3RvcmUta2V5LXN0b3JlLWtleS0zMi1ieXRlcyEh",
        AMITY_WEBHOOK_URL="https://hooks.example/h?token=T0kenT0ken",
        AMITY_WEBHOOK_SECRET="whsec_aGFyZGVuaW5nLXdlYmhvb2sta2V5LTMyLWJ5dGVzISE=",
    )
    shown = repr(settings) + str(settings.model_dump()) + settings.model_dump_json()
    for secret in ("S3cretPW", "c3RvcmUta2V5", "T0kenT0ken", "aGFyZGVuaW5n"):
        assert secret not in shown
    assert settings.store_url_shown == "postgresql://u:***@db/x"
    assert "S3cretPW" in settings.secret_values()


def test_log_records_lose_secrets_in_message_and_traceback() -> None:
    record = logging.LogRecord("amity", logging.ERROR, __file__, 1, "store %s", ("S3cretPW",), None)
    try:
        raise RuntimeError("connect failed for S3cretPW")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    ScrubSecrets(["S3cretPW"]).filter(record)
    assert "S3cretPW" not in logging.Formatter().format(record)
    assert "connect failed for ***" in logging.Formatter().format(record)
