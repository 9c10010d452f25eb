"""`amity audit ...`: read-only commands for auditors (they never write to the store)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from amity.cli_common import BAD_INPUT, DISCREPANCY, UserError, console, errors, fail, friendly
from audit.history import HistoryLine, history
from runtime.redact import redact_url
from runtime.settings import get_settings
from runtime.settings import open_store as open_configured_store
from store.application import PartnershipStore

app = typer.Typer(help="Audit: history, state on any date, tamper evidence, reconcile, export.")


class Format(StrEnum):
    table = "table"
    json = "json"


def open_store() -> PartnershipStore:
    return open_configured_store(settings=get_settings())


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
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Every event of one partnership, in order, with who, when and what."""
    store = open_store()
    lines = history(store, partnership_id)
    if not lines:
        raise UserError(f"no history for {partnership_id} in {redact_url(store.url)}")
    if format is Format.json:
        print(
            json.dumps(
                [line.model_dump(mode="json") for line in lines], indent=2, ensure_ascii=False
            )
        )
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
            help="ISO 8601 time (no zone = UTC; a date alone = the end of that day)",
        ),
    ] = None,
    version: Annotated[int | None, typer.Option("--version", help="Aggregate version")] = None,
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """The partnership's state as it was at a time or a version."""
    from audit.asof import AsOfError, as_of, parse_moment
    from domain.state import to_status

    try:
        moment = parse_moment(at) if at is not None else None
        state = as_of(open_store(), partnership_id, at=moment, version=version)
    except AsOfError as error:
        raise UserError(str(error)) from None
    status = to_status(state).model_dump(mode="json")
    if format is Format.json:
        print(json.dumps(status, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"{partnership_id} at version {state.version}", show_header=False)
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
        signed = checkpoint_log(store, signing.key, get_settings().audit_origin)
    except NotConsistent as error:
        for problem in error.problems:
            say(f"FAIL {problem}")
        fail(
            "refusing to sign: the log is not consistent with its earlier checkpoints",
            code=DISCREPANCY,
        )
    say(signed.note.rstrip("\n"))
    if signed.fresh:
        say(
            f"checkpoint #{signed.seq}: {signed.size} entries, root {signed.root.hex()};"
            f" key {signed.public_key}"
        )
    else:
        say(f"checkpoint #{signed.seq} already covers all {signed.size} entries")
    if out is not None:
        _save_note(out, signed.note, "--out")
    if _use_witness(witness):
        _publish(
            signed.seq, get_settings().audit_origin, signed.tree, signed.note, signed.public_key
        )


def _save_note(path: Path, signed: str, option: str) -> None:
    try:
        path.write_text(signed, encoding="utf-8")
    except OSError as error:
        raise UserError(f"{option} {path}: {error.strerror}") from None
    say(f"saved the checkpoint note to {path}")


def _publish(seq: int, origin: str, tree: Any, signed: str, public: str) -> None:
    """Give the witness this checkpoint: refused is exit 1, not reached is exit 2."""
    from amity.cli_common import run
    from audit.publish import WitnessRefused, WitnessUnavailable, publish
    from runtime.connect import EngineUnreachable, connect
    from tlog.witness import witness_id

    settings = get_settings()

    async def main() -> Any:
        client = await connect(settings)
        return await publish(client, settings.task_queue, origin, tree, signed, public)

    try:
        state = run(main())
    except WitnessRefused as error:
        fail(
            f"checkpoint #{seq} is stored but the witness {witness_id(origin)} refused it: {error}",
            code=DISCREPANCY,
        )
    except (WitnessUnavailable, EngineUnreachable) as error:
        fail(
            f"checkpoint #{seq} is stored but NOT witnessed: {error}; run `amity audit"
            " checkpoint` again once the witness is reachable"
        )
    say(
        f"witnessed by {witness_id(origin)}: it holds {state.size} entries"
        f" ({state.count} checkpoint(s) accepted)"
    )


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
    witness: WitnessOption = None,
) -> None:
    """Check the whole store's tamper evidence, or an exported bundle (offline)."""
    if bundle is not None:
        _verify_bundle_file(bundle, bundle_trusted_key(public_key))
        return
    from amity.trust import Trust, configured_trust, trusted_checkpoints
    from audit.verify import Outside, verify_store

    settings = get_settings()
    expected = settings.audit_origin
    trust = configured_trust(public_key, settings)
    outside = trusted_checkpoints(trusted_files or [])
    use_witness = _use_witness(witness)
    witnessed_by = "no witness consulted"
    if use_witness:
        from tlog.note import NoteError, parse_verifier_key
        from tlog.witness import witness_id

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
    store = open_store()
    report = verify_store(store, trust.key, origin=expected, outside=outside)
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
    rate = report.size / report.seconds if report.seconds else 0.0
    if not problems:
        say(
            f"OK: {report.size} entries, root {report.root.hex()};"
            f" {report.checkpoints} checkpoint(s) consistent with the log"
            f" ({unwitnessed} entries after the last one);"
            f" {witnessed_by}; {len(trusted_files or [])} trusted file(s);"
            f" signatures checked with {trust.source};"
            f" {report.seconds:.2f} s ({rate:,.0f} entries/s)"
        )
        if save_checkpoint is not None:
            if not report.latest_note:
                raise UserError("--save-checkpoint: no valid checkpoint to save yet")
            _save_note(save_checkpoint, report.latest_note, "--save-checkpoint")
        return
    for message in problems:
        say(f"FAIL {message}")
    first = report.first_bad_position
    fail(
        f"verify found {len(problems)} problem(s)"
        + (f"; first bad position {first}" if first is not None else "")
        + f": {problems[0]}",
        code=DISCREPANCY,
    )


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
        raise UserError(f"{error} (pass --no-witness to verify without it)") from None


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


def _verify_bundle_file(path: Path, trusted: Any) -> None:
    from audit.bundle import verify_bundle
    from audit.bundle_file import NotABundle, read_bundle

    try:
        bundle = read_bundle(path, get_settings().bundle_max_bytes)
    except NotABundle as error:
        raise UserError(f"{path}: {error}") from None
    report = verify_bundle(bundle, trusted, get_settings().audit_origin)
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
            made, uncovered = export_bundle(store, partnership_id, signing.key)
        except BundleError as error:
            fail(str(error), code=DISCREPANCY if "fails verification" in str(error) else BAD_INPUT)
        out.write_text(json.dumps(made, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
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
        count = writer(store, partnership_id, out)
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
    format: Annotated[Format, typer.Option("--format", help="table or json")] = Format.table,
) -> None:
    """Check that Temporal's history and the event store agree, per partnership."""
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
        for pid in ids:
            try:
                reports.append(await reconcile(client, store, pid))
            except LookupError as error:
                raise UserError(str(error)) from None
        return reports

    reports = run(main())
    bad = [r for r in reports if not r.ok]
    if format is Format.json:
        print(
            json.dumps([{**asdict(r), "ok": r.ok} for r in reports], indent=2, ensure_ascii=False)
        )
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
    if not reports:
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
) -> None:
    """Rebuild read models from the event log; replay workflow histories against the code."""
    if not (projections or workflows):
        raise UserError("say what to replay: --projections and/or --workflows")
    failed = False
    if projections:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from audit.projections import ReadModels

        models = ReadModels(open_store())
        models.reset()
        total = models.pending()
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=errors,
            transient=False,
        ) as bar:
            task = bar.add_task("rebuilding read models", total=total)
            applied = models.catch_up(progress=lambda done, _pos: bar.update(task, completed=done))
            bar.update(task, completed=applied, total=max(applied, total))
        say(f"read models rebuilt from {applied} events (position {models.position()})")
    if workflows:
        from amity.cli_common import run
        from audit.replay import replay_live_workflows
        from runtime.connect import connect

        async def main() -> Any:
            client = await connect(get_settings())
            return await replay_live_workflows(client, query)

        report = run(main())
        say(f"replayed {report.replayed} workflow histories: {len(report.failures)} failure(s)")
        for failure in report.failures:
            say(f"  FAIL {failure}")
        failed = bool(report.failures)
    if failed:
        fail("workflow histories do not replay against the current code", code=DISCREPANCY)


@app.command("stats")
@friendly
def stats_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False,
) -> None:
    """Partnerships in force per city and tier, the pipeline by stage, exchanges by field/year."""
    from audit.projections import ReadModels

    models = ReadModels(open_store())
    models.catch_up()  # resume where the read models stopped
    stats = models.stats()
    if as_json:
        print(json.dumps(stats.as_json(), indent=2, ensure_ascii=False))
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
    exchanges = Table(title="Exchanges by field and year")
    for column in ("year", "field", "exchanges"):
        exchanges.add_column(column)
    for row in stats.exchanges:
        exchanges.add_row(str(row["year"]), row["field"], str(row["count"]))
    for table in (cities, pipeline, exchanges):
        console.print(table)
    say(f"read models at position {stats.position}")
