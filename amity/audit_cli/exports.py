"""`audit export` and `audit report`: history and evidence for auditors, as files."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from amity.audit_cli.common import (
    open_store,
    say,
    store_key,
)
from amity.cli_common import (
    BAD_INPUT,
    DISCREPANCY,
    JsonFlag,
    UserError,
    errors,
    fail,
    friendly,
    print_json,
)
from amity.progress import progress
from runtime.redact import redact_url
from runtime.settings import get_settings

if TYPE_CHECKING:
    from store.application import PartnershipStore


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    html = "html"


@friendly
def export_command(
    out: Annotated[Path, typer.Option("--out", help="File to write")],
    partnership_id: Annotated[
        str | None, typer.Argument(help="One partnership (default: all)")
    ] = None,
    format: Annotated[
        ExportFormat | None, typer.Option("--format", help="jsonl, csv or html")
    ] = None,
    bundle: Annotated[
        bool, typer.Option("--bundle", help="An evidence bundle for `audit verify --bundle`")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Export history for an auditor, or an evidence bundle that verifies offline."""
    if bundle and format is not None:
        raise UserError("give either --format or --bundle, not both")
    store = open_store()
    if partnership_id is not None and store.aggregate(partnership_id) is None:
        raise UserError(f"no history for {partnership_id} in {redact_url(store.url)}")
    if out.parent and not out.parent.exists():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    if bundle:
        write_bundle(store, partnership_id, out, as_json)
        return
    chosen = format or ExportFormat.jsonl
    if chosen is ExportFormat.html:
        from amity.trust import configured_trust
        from audit.report import write_html

        settings = get_settings()
        trust = configured_trust(None, settings)
        with progress("writing the report", quiet=as_json):
            count = write_html(
                store,
                partnership_id,
                out,
                trust.key if trust else None,
                origin=settings.audit_origin,
            )
    else:
        from audit.export import write_csv, write_jsonl

        writer = write_csv if chosen is ExportFormat.csv else write_jsonl
        with progress(f"writing {chosen.value}", quiet=as_json):
            count = writer(store, partnership_id, out)
    if as_json:
        print_json({"out": str(out), "format": chosen.value, "events": count})
    else:
        say(f"wrote {out}: {count} events ({chosen.value})")


def write_bundle(
    store: PartnershipStore, partnership_id: str | None, out: Path, as_json: bool
) -> None:
    """An evidence bundle of what checkpoints cover, its head signed with the checkpoints' key."""
    from audit.bundle import BundleError, export_bundle

    signing = store_key(store, create=False)
    if signing is None:
        raise UserError(
            "no audit signing key: a bundle's head statement is signed with the key of the"
            " checkpoints (set AMITY_AUDIT_KEY_FILE or AMITY_AUDIT_KEY)"
        )
    try:
        with progress("building the bundle", quiet=as_json):
            made, uncovered = export_bundle(store, partnership_id, signing.key)
    except BundleError as error:
        fail(str(error), code=DISCREPANCY if "fails verification" in str(error) else BAD_INPUT)
    out.write_text(json.dumps(made, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    if as_json:
        print_json(
            {
                "out": str(out),
                "format": "bundle",
                "entries": len(made["entries"]),
                "tree_size": made["tree_size"],
                "uncovered": uncovered,
            }
        )
    else:
        say(
            f"wrote {out}: {len(made['entries'])} entries"
            f" under the checkpoint of {made['tree_size']}"
        )
    if uncovered:
        errors.print(
            f"amity: {uncovered} newer event(s) are not covered by a checkpoint yet and"
            " were left out; run `amity audit checkpoint` first to include them",
            markup=False,
        )


@friendly
def report_command(
    out: Annotated[
        Path, typer.Option("--out", help="Folder for index.html and one page per partnership")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Every partnership's report as pages in a folder, with an index (stage, tier, parties,
    last event, tamper verdict)."""
    from amity.trust import configured_trust
    from audit.report_site import write_site

    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: not a folder")
    if not out.parent.exists():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    store = open_store()
    settings = get_settings()
    trust = configured_trust(None, settings)
    with progress("writing the report", quiet=as_json):
        site = write_site(store, out, trust.key if trust else None, origin=settings.audit_origin)
    if as_json:
        print_json(
            {
                "out": str(out),
                "index": str(site.index),
                "partnerships": len(site.rows),
                "events": site.events,
                "verdicts": {r.partnership_id: r.verdict for r in site.rows},
            }
        )
    else:
        say(f"wrote {site.index}: {len(site.rows)} partnership page(s), {site.events} events")
    if not site.report.ok:
        fail("the log does not verify: see the report's verdict", code=DISCREPANCY)
