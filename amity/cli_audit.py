"""`amity audit ...`: read-only commands for auditors (they never write to the store)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from amity.cli_common import (
    BAD_INPUT,
    DISCREPANCY,
    FormatOption,
    JsonFlag,
    UserError,
    console,
    errors,
    fail,
    friendly,
    print_json,
    wants_json,
)
from amity.progress import progress
from audit.history import HistoryLine, history
from runtime.redact import redact_url
from runtime.settings import get_settings
from runtime.settings import open_store as open_configured_store
from store.application import PartnershipStore
from store.presence import NoStore, require_store

app = typer.Typer(help="Audit: history, state on any date, tamper evidence, reconcile, export.")


def open_store() -> PartnershipStore:
    """The configured store, which must already exist and be Amity's: an audit reads the log
    the worker wrote and never makes an empty one to report on (a mistyped URL, or a command
    run from another folder, used to create var/events.db and verify it as OK). Its own
    tables (checkpoints, read models) it may add to a store that exists; the library's never."""
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


def history_table(partnership_id: str, lines: list[HistoryLine]) -> Table:
    """The history as a table for people (shared by `audit history` and `amity demo`)."""
    table = Table(title=f"{partnership_id}: {len(lines)} events", show_lines=False)
    for column in ("v", "recorded (UTC)", "actor", "via", "event", "what"):
        table.add_column(column, overflow="fold")
    for line in lines:
        cells = (
            str(line.version),
            f"{line.recorded_at:%Y-%m-%d %H:%M:%S}",
            line.actor,
            line.via,
            line.type,
            line.summary,
        )
        table.add_row(*map(Text, cells))  # people's text is never read as rich markup
    return table


@app.command("history")
@friendly
def history_command(
    partnership_id: Annotated[str, typer.Argument(help="The partnership (workflow) id")],
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """Every event of one partnership, in order, with who, when and what."""
    store = open_store()
    lines = history(store, partnership_id)
    if not lines:
        raise UserError(f"no history for {partnership_id} in {redact_url(store.url)}")
    if wants_json(as_json, format):
        print_json([line.model_dump(mode="json") for line in lines])
        return
    console.print(history_table(partnership_id, lines))


# -- state at a moment -------------------------------------------------------------------


@app.command("as-of")
@friendly
def as_of_command(
    partnership_id: Annotated[str, typer.Argument(help="The partnership (workflow) id")],
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="The state in effect on this date (signing, exchange... dates decide);"
            " ISO 8601, no zone = UTC, a date alone = the end of that day",
        ),
    ] = None,
    known_at: Annotated[
        str | None,
        typer.Option(
            "--known-at",
            help="Only what the register had recorded by then (same format); with --at:"
            " what the register said then about --at",
        ),
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Aggregate version")] = None,
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """The partnership's state in effect on a date, as recorded by a date, or at a version."""
    from audit.asof import AsOfError, as_of, parse_moment
    from domain.state import to_status

    try:
        moment = parse_moment(at) if at is not None else None
        known = parse_moment(known_at, "--known-at") if known_at is not None else None
        state = as_of(open_store(), partnership_id, at=moment, version=version, known_at=known)
    except AsOfError as error:
        raise UserError(str(error)) from None
    status = to_status(state).model_dump(mode="json")
    if wants_json(as_json, format):
        print_json(status)
        return
    when = [f"in effect on {at}"] if at else []
    when += [f"as recorded by {known_at}"] if known_at else []
    title = f"{partnership_id} {', '.join(when) or f'at version {state.version}'}"
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for key in (
        "stage",
        "stage_since",
        "tier",
        "initiator",
        "partner",
        "fields",
        "signed_on",
        "exchanges",
        "last_exchange_on",
        "expires_on",
        "version",
    ):
        value = status[key]
        if isinstance(value, dict) and "name" in value:
            value = f"{value['name']} ({value.get('country', '')})"
        elif isinstance(value, list | dict):
            value = json.dumps(value, ensure_ascii=False)
        table.add_row(Text(key), Text("—" if value is None else str(value)))
    table.add_row(
        Text("meetings / drafts / approvals"),
        Text(f"{len(status['meetings'])} / {len(status['drafts'])} / {len(status['approvals'])}"),
    )
    console.print(table)


# -- tamper evidence ---------------------------------------------------------------------


def say(text: str) -> None:
    """One plain line on stdout: never wrapped (notes and keys must survive copying)."""
    console.print(Text(text), soft_wrap=True)


def _store_key(store: PartnershipStore, *, create: bool) -> Any:
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


def _use_witness(flag: bool | None) -> bool:
    return get_settings().audit_witness if flag is None else flag


@app.command("checkpoint")
@friendly
def checkpoint_command(
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Also save the checkpoint note here (for `verify --trusted`)"),
    ] = None,
    witness: WitnessOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Sign and store a checkpoint of the whole log, and publish it to the witness."""
    from audit.signer import NotConsistent, checkpoint_log

    store = open_store()
    signing = _store_key(store, create=True)
    if signing.created:
        errors.print(
            f"amity: generated a new audit signing key at {signing.source}"
            " (keep it secret and backed up; its public key is in every checkpoint)",
            markup=False,
        )
    try:
        with progress("checking the log", log_size(store), quiet=as_json) as advance:
            signed = checkpoint_log(
                store, signing.key, get_settings().audit_origin, progress=advance
            )
    except NotConsistent as error:
        if as_json:
            print_json({"ok": False, "problems": error.problems})
        else:
            for problem in error.problems:
                say(f"FAIL {problem}")
        fail(
            "refusing to sign: the log is not consistent with its earlier checkpoints",
            code=DISCREPANCY,
        )
    result: dict[str, Any] = {
        "ok": True,
        "seq": signed.seq,
        "size": signed.size,
        "root": signed.root.hex(),
        "public_key": signed.public_key,
        "fresh": signed.fresh,
        "note": signed.note,
        "saved_to": None,
        "witness": None,
    }
    if not as_json:
        say(signed.note.rstrip("\n"))
        if signed.fresh:
            say(
                f"checkpoint #{signed.seq}: {signed.size} entries, root {signed.root.hex()};"
                f" key {signed.public_key}"
            )
        else:
            say(f"checkpoint #{signed.seq} already covers all {signed.size} entries")
    if out is not None:
        _save_note(out, signed.note, "--out", quiet=as_json)
        result["saved_to"] = str(out)
    try:
        if _use_witness(witness):
            result["witness"] = _publish(
                signed.seq,
                get_settings().audit_origin,
                signed.tree,
                signed.note,
                signed.public_key,
                quiet=as_json,
            )
    finally:
        if as_json:
            print_json(result)


def _save_note(path: Path, signed: str, option: str, *, quiet: bool = False) -> None:
    try:
        path.write_text(signed, encoding="utf-8")
    except OSError as error:
        raise UserError(f"{option} {path}: {error.strerror}") from None
    if not quiet:
        say(f"saved the checkpoint note to {path}")


def _publish(
    seq: int, origin: str, tree: Any, signed: str, public: str, *, quiet: bool = False
) -> dict[str, Any]:
    """Give the witness this checkpoint: refused is exit 1, not reached is exit 2."""
    from amity.cli_common import run, unreachable
    from audit.publish import WitnessRefused, WitnessUnavailable, publish
    from runtime.connect import EngineUnreachable, connect
    from tlog.witness import witness_id

    settings = get_settings()

    async def main() -> Any:
        client = await connect(settings)
        return await publish(client, settings.task_queue, origin, tree, signed, public)

    try:
        with progress("publishing to the witness", quiet=quiet):
            state = run(main())
    except WitnessRefused as error:
        fail(
            f"checkpoint #{seq} is stored but the witness {witness_id(origin)} refused it: {error}",
            code=DISCREPANCY,
        )
    except (WitnessUnavailable, EngineUnreachable) as error:
        reason = unreachable(error) if isinstance(error, EngineUnreachable) else str(error)
        fail(
            f"checkpoint #{seq} is stored but NOT witnessed: {reason}; run `amity audit"
            " checkpoint` again once the witness is reachable"
        )
    if not quiet:
        say(
            f"witnessed by {witness_id(origin)}: it holds {state.size} entries"
            f" ({state.count} checkpoint(s) accepted)"
        )
    return {"id": witness_id(origin), "size": state.size, "accepted": state.count}


@app.command("verify")
@friendly
def verify_command(
    bundle: Annotated[
        Path | None,
        typer.Option(
            "--bundle",
            help="Check this evidence bundle offline, with the key from --public-key"
            " or AMITY_AUDIT_PUBLIC_KEY (never the one inside the bundle)",
        ),
    ] = None,
    public_key: PublicKeyOption = None,
    trusted_files: Annotated[
        list[Path] | None,
        typer.Option(
            "--trusted",
            help="A checkpoint note saved earlier; the log must be consistent with it (repeatable)",
        ),
    ] = None,
    save_checkpoint: Annotated[
        Path | None,
        typer.Option("--save-checkpoint", help="When the log verifies, save its checkpoint here"),
    ] = None,
    allow_unwitnessed: Annotated[
        bool,
        typer.Option(
            "--allow-unwitnessed", help="Entries no witnessed checkpoint covers are not a failure"
        ),
    ] = False,
    state_file: Annotated[
        Path | None,
        typer.Option(
            "--state",
            help="Go on from the tree state saved in this file by an earlier verify (only"
            " new entries are read; the entries it covers are trusted), and save the new one"
            " when the log verifies; a full verify when the file does not exist yet",
        ),
    ] = None,
    witness: WitnessOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Check the whole store's tamper evidence, or an exported bundle (offline).

    Exit 0: it verifies; 1: a discrepancy (each one listed); 2: it could not be checked."""
    if bundle is not None:
        _verify_bundle_file(bundle, bundle_trusted_key(public_key), as_json)
        return
    from amity.trust import Trust, configured_trust, trusted_checkpoints
    from audit.verify import Outside, StateError, verify_store

    store = open_store()  # first: with no store there is nothing to ask a witness about
    settings = get_settings()
    expected = settings.audit_origin
    trust = configured_trust(public_key, settings)
    outside = trusted_checkpoints(trusted_files or [])
    use_witness = _use_witness(witness)
    witnessed_by = "no witness consulted"
    if use_witness:
        from tlog.note import NoteError, parse_verifier_key
        from tlog.witness import witness_id

        with progress("asking the witness", quiet=as_json):
            held = _witness_state(expected)
        if held is None:
            witnessed_by = f"the witness {witness_id(expected)} holds no checkpoint"
        else:
            witnessed_by = f"the witness holds {held.size} entries"
            outside.insert(0, Outside(f"the witness {witness_id(expected)}", held.note))
            if trust is None:
                try:
                    pinned = parse_verifier_key(held.key)
                except NoteError as error:
                    raise UserError(f"the witness's pinned key: {error}") from None
                trust = Trust(pinned, "the key the witness pinned (trust on first use)")
    if trust is None:
        raise UserError(
            "no trusted key: give --public-key, set AMITY_AUDIT_PUBLIC_KEY or configure"
            " AMITY_AUDIT_KEY / AMITY_AUDIT_KEY_FILE (keys stored beside the log are not trusted)"
        )
    since = _read_state(state_file)
    with progress("verifying the log", log_size(store), quiet=as_json) as advance:
        try:
            report = verify_store(
                store, trust.key, origin=expected, outside=outside, progress=advance, since=since
            )
        except StateError as error:
            raise UserError(f"--state {state_file}: {error}") from None
    covered = report.witnessed if use_witness else report.covered
    unwitnessed = report.size - covered
    problems = [p.message for p in report.problems]
    if unwitnessed > 0 and not allow_unwitnessed:
        problems.append(
            f"{unwitnessed} entries are unwitnessed: no valid checkpoint"
            + (" witnessed outside the store" if use_witness else "")
            + f" covers positions {covered}..{report.size - 1}"
            " (run `amity audit checkpoint`, or pass --allow-unwitnessed)"
        )
    hashed = report.size - report.resumed_from
    rate = hashed / report.seconds if report.seconds else 0.0
    if as_json:
        print_json(
            {
                "ok": not problems,
                "size": report.size,
                "root": report.root.hex(),
                "checkpoints": report.checkpoints,
                "covered": covered,
                "unwitnessed": unwitnessed,
                "witness": witnessed_by if use_witness else None,
                "trusted_files": len(trusted_files or []),
                "key": trust.source,
                "problems": problems,
                "first_bad_position": report.first_bad_position,
                "resumed_from": report.resumed_from,
                "seconds": round(report.seconds, 3),
            }
        )
    if not problems:
        if not as_json:
            say(
                f"OK: {report.size} entries, root {report.root.hex()};"
                f" {report.checkpoints} checkpoint(s) consistent with the log"
                f" ({unwitnessed} entries after the last one);"
                f" {witnessed_by}; {len(trusted_files or [])} trusted file(s);"
                f" signatures checked with {trust.source};"
                f" {report.seconds:.2f} s ({rate:,.0f} entries/s)"
                + (
                    f"; went on from the saved tree state at {report.resumed_from} entries"
                    f" (only the {report.size - report.resumed_from} after it read;"
                    f" {report.before_state} older checkpoint(s) not checked again)"
                    if report.resumed_from
                    else ""
                )
            )
        if state_file is not None and report.state is not None:
            _write_state(state_file, report.state.to_json())
        if save_checkpoint is not None:
            if not report.latest_note:
                raise UserError("--save-checkpoint: no valid checkpoint to save yet")
            _save_note(save_checkpoint, report.latest_note, "--save-checkpoint", quiet=as_json)
        return
    if not as_json:
        for message in problems:
            say(f"FAIL {message}")
    first = report.first_bad_position
    fail(
        f"verify found {len(problems)} problem(s)"
        + (f"; first bad position {first}" if first is not None else "")
        + f": {problems[0]}",
        code=DISCREPANCY,
    )


def _read_state(path: Path | None) -> Any:
    """The tree state saved by an earlier `verify --state` (None: none yet)."""
    from audit.verify import StateError, TreeState

    if path is None or not path.exists():
        return None
    try:
        return TreeState.from_json(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"--state {path}: cannot read it: {error}") from None
    except StateError as error:
        raise UserError(f"--state {path}: {error}") from None


def _write_state(path: Path, text: str) -> None:
    """Replace the state file whole (a crash leaves the old one, never half of one)."""
    try:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        raise UserError(f"--state {path}: cannot write it: {error}") from None


@app.command("schedule")
@friendly
def schedule_command(
    every: Annotated[
        str, typer.Option("--every", help="How often: 1h, 30m, 90s, PT1H (default 1h)")
    ] = "1h",
    task_queue: Annotated[
        str | None,
        typer.Option(
            "--task-queue",
            help="Where the signing worker listens (default AMITY_TASK_QUEUE); in production"
            " a worker of its own on the signer host",
        ),
    ] = None,
    delete: Annotated[bool, typer.Option("--delete", help="Remove the schedule")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Checkpoint the log regularly: a Temporal Schedule runs sign, store and publish."""
    from amity import schedule
    from amity.cli_common import run
    from runtime.connect import connect
    from tlog.witness import schedule_id

    settings = get_settings()
    name = settings.audit_origin
    interval = schedule.parse_every(every)
    queue = task_queue or settings.task_queue

    async def main() -> str:
        client = await connect(settings)
        if delete:
            return "deleted" if await schedule.delete(client, name) else "not found"
        return await schedule.upsert(client, name, interval, queue)

    done = run(main())
    if as_json:
        print_json(
            {"schedule": schedule_id(name), "result": done}
            | ({} if delete else {"every": str(interval), "task_queue": queue})
        )
        return
    if delete:
        say(f"schedule {schedule_id(name)}: {done}")
        return
    say(
        f"schedule {schedule_id(name)} {done}: a checkpoint every {interval}"
        f" by a worker on task queue {queue} (it needs the signing key)"
    )


def _witness_state(origin: str) -> Any:
    """The witness's latest checkpoint (None if it holds none); exit 2 if it cannot answer."""
    from amity.cli_common import run
    from audit.publish import WitnessUnavailable, latest
    from runtime.connect import EngineUnreachable, connect

    async def main() -> Any:
        return await latest(await connect(get_settings()), origin)

    try:
        return run(main())
    except (WitnessUnavailable, EngineUnreachable) as error:
        from amity.cli_common import unreachable

        reason = unreachable(error) if isinstance(error, EngineUnreachable) else str(error)
        raise UserError(f"{reason} (pass --no-witness to verify without it)") from None


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


def _verify_bundle_file(path: Path, trusted: Any, as_json: bool = False) -> None:
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


# -- exports -----------------------------------------------------------------------------


class ExportFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    html = "html"


@app.command("export")
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
        from audit.bundle import BundleError, export_bundle

        signing = _store_key(store, create=False)
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


# -- Temporal and the store --------------------------------------------------------------


@app.command("reconcile")
@friendly
def reconcile_command(
    partnership_id: Annotated[
        str | None, typer.Argument(help="The partnership (workflow) id")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every partnership")] = False,
    query: Annotated[
        str | None,
        typer.Option("--query", help="With --all: narrow by a visibility query"),
    ] = None,
    as_json: JsonFlag = False,
    format: FormatOption = None,
) -> None:
    """Check that Temporal's history and the event store agree, per partnership.

    Exit 0: they agree; 1: a discrepancy (listed); 2: it could not be checked."""
    as_json = wants_json(as_json, format)
    if (partnership_id is None) == (not all_):
        raise UserError("give a partnership ID or --all (not both)")
    if query and not all_:
        raise UserError("--query goes with --all")
    from dataclasses import asdict

    from amity.cli_common import run
    from audit.export import partnership_ids as stored_ids
    from audit.reconcile import Reconciliation, partnership_ids, reconcile
    from runtime.connect import connect

    store = open_store()

    async def main() -> list[Reconciliation]:
        client = await connect(get_settings())
        if partnership_id is not None:
            ids = [partnership_id]
        else:
            ids = await partnership_ids(client, query)
            if not query:  # partnerships the store knows but Temporal does not
                ids += [pid for pid in stored_ids(store) if pid not in ids]
        reports = []
        with progress("reconciling", len(ids), quiet=as_json) as advance:
            for pid in ids:
                try:
                    reports.append(await reconcile(client, store, pid))
                except LookupError as error:
                    raise UserError(str(error)) from None
                advance(len(reports))
        return reports

    reports = run(main())
    bad = [r for r in reports if not r.ok]
    if as_json:
        print_json([{**asdict(r), "ok": r.ok} for r in reports])
    else:
        for r in reports:
            head = (
                f"{r.partnership_id}: {'OK' if r.ok else 'DISCREPANCY'} ({r.runs} run(s),"
                f" {r.commands} recorded command(s), {r.events} stored event(s);"
                f" {r.updates} update(s), {r.signals} signal(s), {r.timers} timer(s))"
            )
            say(head)
            for kind, lines in (
                ("missing", r.missing),
                ("extra", r.extra),
                ("different", r.different),
                ("note", r.notes),
            ):
                for line in lines:
                    say(f"  {kind}: {line}")
    if bad:
        fail(
            f"{len(bad)} of {len(reports)} partnership(s) disagree: "
            + ", ".join(r.partnership_id for r in bad),
            code=DISCREPANCY,
        )
    if not reports and not as_json:
        say("no partnerships found")


# -- read models -------------------------------------------------------------------------


@app.command("replay")
@friendly
def replay_command(
    projections: Annotated[
        bool, typer.Option("--projections", help="Rebuild the read models from the log")
    ] = False,
    workflows: Annotated[
        bool,
        typer.Option("--workflows", help="Replay workflow histories against the current code"),
    ] = False,
    query: Annotated[
        str | None, typer.Option("--query", help="With --workflows: a visibility query")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Rebuild read models from the event log; replay workflow histories against the code."""
    if not (projections or workflows):
        raise UserError("say what to replay: --projections and/or --workflows")
    failed = False
    result: dict[str, Any] = {}
    if projections:
        from audit.projections import ReadModels

        models = ReadModels(open_store())
        models.reset()
        total = models.pending()
        with progress("rebuilding read models", total, quiet=as_json) as advance:
            applied = models.catch_up(progress=lambda done, _pos: advance(done))
        result["projections"] = {"events": applied, "position": models.position()}
        if not as_json:
            say(f"read models rebuilt from {applied} events (position {models.position()})")
    if workflows:
        from amity.cli_common import run
        from audit.replay import replay_live_workflows
        from runtime.connect import connect

        async def main() -> Any:
            client = await connect(get_settings())
            return await replay_live_workflows(client, query)

        with progress("replaying workflow histories", quiet=as_json):
            report = run(main())
        result["workflows"] = {"replayed": report.replayed, "failures": list(report.failures)}
        if not as_json:
            say(f"replayed {report.replayed} workflow histories: {len(report.failures)} failure(s)")
            for failure in report.failures:
                say(f"  FAIL {failure}")
        failed = bool(report.failures)
    if as_json:
        print_json(result)
    if failed:
        fail("workflow histories do not replay against the current code", code=DISCREPANCY)


def pipeline_form_table(form: dict[str, int]) -> Table:
    """The pipeline as a provincial foreign-affairs office reports it (audit/pipeline.py)."""
    table = Table(title="Pipeline (report form)")
    table.add_column("stage")
    table.add_column("partnerships", justify="right")
    for row, count in form.items():
        table.add_row(row, str(count))
    table.add_row("total", str(sum(form.values())), style="bold")
    return table


def _stats_on(store: PartnershipStore, ids: list[str], on: str, as_json: bool) -> None:
    from audit.asof import AsOfError, parse_moment
    from audit.on_date import portfolio_on, states_on

    try:
        moment = parse_moment(on, "--on")
    except AsOfError as error:
        raise UserError(str(error)) from None
    with progress("folding histories", len(ids), quiet=as_json):
        found = portfolio_on(states_on(store, ids, moment))
    if as_json:
        print_json({"on": on, **found})
        return
    cities = Table(title=f"In force on {on} per city and tier")
    for column in ("city", "country", "tier", "partnerships"):
        cities.add_column(column)
    for row in found["in_force_by_city_and_tier"]:
        cities.add_row(Text(row["city"]), row["country"], row["tier"], str(row["count"]))
    console.print(cities)
    console.print(pipeline_form_table(found["pipeline_form"]))


class StatsFormat(StrEnum):
    table = "table"
    json = "json"
    html = "html"


@app.command("stats")
@friendly
def stats_command(
    on: Annotated[
        str | None,
        typer.Option(
            "--on",
            help="As in effect on this date (effective dates): in force per city and tier,"
            " and the report's pipeline",
        ),
    ] = None,
    as_json: JsonFlag = False,
    format: Annotated[
        StatsFormat | None,
        typer.Option("--format", help="table (default), json, or html: a page of charts"),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="The HTML page to write (with --format html)")
    ] = None,
) -> None:
    """Partnerships in force per city and tier, the pipeline by stage, exchanges by field/year."""
    from audit.projections import ReadModels

    html = format is StatsFormat.html
    if html and out is None:
        raise UserError("--format html writes a page: give --out FILE.html")
    if out is not None and not html:
        raise UserError("--out is for --format html")
    if out is not None and out.parent and not out.parent.exists():
        raise UserError(f"--out {out}: the folder {out.parent} does not exist")
    as_json = as_json or format is StatsFormat.json
    store = open_store()
    models = ReadModels(store)
    with progress("catching up the read models", models.pending(), quiet=as_json) as advance:
        models.catch_up(progress=lambda done, _pos: advance(done))  # resume where they stopped
    if on is not None:
        _stats_on(store, models.partnership_ids(), on, as_json)
        return
    stats = models.stats()
    if html and out is not None:
        from audit.portfolio import render_portfolio

        out.write_text(render_portfolio(stats), encoding="utf-8")
        if as_json:
            print_json({"out": str(out), "format": "html", "position": stats.position})
        else:
            say(f"wrote {out}: the portfolio at log position {stats.position}")
        return
    if as_json:
        print_json(stats.as_json())
        return
    cities = Table(title="In force (active or dormant) per city and tier")
    for column in ("city", "country", "tier", "partnerships"):
        cities.add_column(column)
    for row in stats.in_force:
        cities.add_row(Text(row["city"]), row["country"], row["tier"], str(row["count"]))
    pipeline = Table(title="Pipeline by stage")
    pipeline.add_column("stage")
    pipeline.add_column("partnerships", justify="right")
    for stage, count in stats.pipeline.items():
        pipeline.add_row(stage, str(count))
    form = pipeline_form_table(stats.form)
    exchanges = Table(title="Exchanges by field and year")
    for column in ("year", "field", "exchanges"):
        exchanges.add_column(column)
    for row in stats.exchanges:
        exchanges.add_row(str(row["year"]), row["field"], str(row["count"]))
    for table in (cities, pipeline, form, exchanges):
        console.print(table)
    say(f"read models at position {stats.position}")


@app.command("report")
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
