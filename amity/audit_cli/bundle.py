"""`audit verify --bundle`: check an exported evidence bundle offline, with a key the
auditor trusts (never the one inside the bundle)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from amity.audit_cli.common import (
    say,
)
from amity.cli_common import (
    DISCREPANCY,
    UserError,
    fail,
    print_json,
)
from runtime.settings import get_settings


def bundle_trusted_key(public_key: str | None) -> Any:
    """The key a bundle must be signed with: --public-key, else AMITY_AUDIT_PUBLIC_KEY; never
    the key the bundle carries (whoever forged the bundle chose that one)."""
    from audit.trusted_key import PUBLIC_KEY_ENV, TrustedKeyError, resolve_trusted_key

    try:
        resolved = resolve_trusted_key(public_key, get_settings().audit_public_key)
    except TrustedKeyError as error:
        raise UserError(str(error)) from None
    if resolved is None:
        raise UserError(
            "verify --bundle needs the key you trust: --public-key KEY_OR_FILE"
            f" or {PUBLIC_KEY_ENV} (the key inside a bundle proves nothing)"
        )
    return resolved[0]


def verify_bundle_file(path: Path, trusted: Any, as_json: bool = False) -> None:
    from audit.bundle import verify_bundle
    from audit.bundle_file import NotABundle, read_bundle

    try:
        bundle = read_bundle(path, get_settings().bundle_max_bytes)
    except NotABundle as error:
        raise UserError(f"{path}: {error}") from None
    report = verify_bundle(bundle, trusted, get_settings().audit_origin)
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "bundle": str(path),
                "entries": report.entries,
                "tree_size": report.tree_size,
                "partnership_id": report.partnership_id,
                "problems": list(report.problems),
            }
        )
    if report.ok and as_json:
        return
    if report.ok:
        what = (
            f"partnership {report.partnership_id}: versions 1..{report.last_version}, complete"
            if report.partnership_id
            else "the whole log, complete"
        )
        say(
            f"OK: {report.entries} entries included in the signed tree of {report.tree_size};"
            f" {what}; signatures checked with the trusted key {report.key}"
        )
        return
    if not as_json:
        for problem in report.problems:
            say(f"FAIL {problem}")
    fail(f"{path}: the bundle does not verify: {report.problems[0]}", code=DISCREPANCY)
