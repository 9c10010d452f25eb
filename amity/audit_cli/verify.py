"""`audit verify`: the whole store's tamper evidence, checked with a trusted key against
checkpoints kept outside the store (the witness, saved notes), or an exported bundle offline."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from amity.audit_cli.bundle import bundle_trusted_key, verify_bundle_file
from amity.audit_cli.checkpoint import save_note
from amity.audit_cli.common import (
    PublicKeyOption,
    WitnessOption,
    log_size,
    open_store,
    say,
    use_witness,
)
from amity.cli_common import DISCREPANCY, JsonFlag, UserError, fail, friendly, print_json
from amity.progress import progress
from runtime.settings import get_settings

if TYPE_CHECKING:
    from amity.trust import Trust
    from audit.verify import Outside, VerifyReport
    from store.application import PartnershipStore


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
        verify_bundle_file(bundle, bundle_trusted_key(public_key), as_json)
        return
    store = open_store()  # first: with no store there is nothing to ask a witness about
    sources = trusted_sources(public_key, trusted_files or [], use_witness(witness), as_json)
    report = verify_log(store, sources, state_file, as_json)
    verdict = judge(report, sources, allow_unwitnessed)
    if as_json:
        print_json(verdict_json(report, sources, verdict))
    if verdict.problems:
        report_failure(report, verdict.problems, as_json)
    if not as_json:
        say(ok_line(report, sources, verdict))
    keep_state(report, state_file, save_checkpoint, as_json)


@dataclass
class Sources:
    """What the log is checked against: the key trusted for signatures, and checkpoints
    held outside the store (which a rewrite of the store cannot rewrite too)."""

    trust: Trust
    outside: list[Outside]
    origin: str
    witnessed: bool
    witnessed_by: str
    trusted_files: int


@dataclass
class Verdict:
    problems: list[str]
    covered: int
    unwitnessed: int


def trusted_sources(
    public_key: str | None, trusted_files: list[Path], witnessed: bool, quiet: bool
) -> Sources:
    """The trusted key and outside checkpoints; exit 2 when no key can be trusted."""
    from amity.trust import configured_trust, trusted_checkpoints

    settings = get_settings()
    trust = configured_trust(public_key, settings)
    outside = trusted_checkpoints(trusted_files)
    witnessed_by = "no witness consulted"
    if witnessed:
        witnessed_by, trust = consult_witness(settings.audit_origin, outside, trust, quiet)
    if trust is None:
        raise UserError(
            "no trusted key: give --public-key, set AMITY_AUDIT_PUBLIC_KEY or configure"
            " AMITY_AUDIT_KEY / AMITY_AUDIT_KEY_FILE (keys stored beside the log are not trusted)"
        )
    return Sources(
        trust, outside, settings.audit_origin, witnessed, witnessed_by, len(trusted_files)
    )


def consult_witness(
    origin: str, outside: list[Outside], trust: Trust | None, quiet: bool
) -> tuple[str, Trust | None]:
    """Put the witness's checkpoint first among the outside ones; with no key configured,
    trust the key the witness pinned (trust on first use). Returns what to say about it."""
    from amity.trust import Trust
    from audit.verify import Outside
    from tlog.note import NoteError, parse_verifier_key
    from tlog.witness import witness_id

    with progress("asking the witness", quiet=quiet):
        held = witness_state(origin)
    if held is None:
        return f"the witness {witness_id(origin)} holds no checkpoint", trust
    outside.insert(0, Outside(f"the witness {witness_id(origin)}", held.note))
    if trust is None:
        try:
            pinned = parse_verifier_key(held.key)
        except NoteError as error:
            raise UserError(f"the witness's pinned key: {error}") from None
        trust = Trust(pinned, "the key the witness pinned (trust on first use)")
    return f"the witness holds {held.size} entries", trust


def verify_log(
    store: PartnershipStore, sources: Sources, state_file: Path | None, quiet: bool
) -> VerifyReport:
    """Walk the log (or only what follows the saved tree state) and check it."""
    from audit.verify import StateError, verify_store

    since = read_state(state_file)
    with progress("verifying the log", log_size(store), quiet=quiet) as advance:
        try:
            return verify_store(
                store,
                sources.trust.key,
                origin=sources.origin,
                outside=sources.outside,
                progress=advance,
                since=since,
            )
        except StateError as error:
            raise UserError(f"--state {state_file}: {error}") from None


def judge(report: VerifyReport, sources: Sources, allow_unwitnessed: bool) -> Verdict:
    """The report's problems, plus entries no (witnessed) checkpoint covers yet."""
    covered = report.witnessed if sources.witnessed else report.covered
    unwitnessed = report.size - covered
    problems = [p.message for p in report.problems]
    if unwitnessed > 0 and not allow_unwitnessed:
        problems.append(
            f"{unwitnessed} entries are unwitnessed: no valid checkpoint"
            + (" witnessed outside the store" if sources.witnessed else "")
            + f" covers positions {covered}..{report.size - 1}"
            " (run `amity audit checkpoint`, or pass --allow-unwitnessed)"
        )
    return Verdict(problems, covered, unwitnessed)


def verdict_json(report: VerifyReport, sources: Sources, verdict: Verdict) -> dict[str, Any]:
    return {
        "ok": not verdict.problems,
        "size": report.size,
        "root": report.root.hex(),
        "checkpoints": report.checkpoints,
        "covered": verdict.covered,
        "unwitnessed": verdict.unwitnessed,
        "witness": sources.witnessed_by if sources.witnessed else None,
        "trusted_files": sources.trusted_files,
        "key": sources.trust.source,
        "problems": verdict.problems,
        "first_bad_position": report.first_bad_position,
        "resumed_from": report.resumed_from,
        "seconds": round(report.seconds, 3),
    }


def ok_line(report: VerifyReport, sources: Sources, verdict: Verdict) -> str:
    hashed = report.size - report.resumed_from
    rate = hashed / report.seconds if report.seconds else 0.0
    return (
        f"OK: {report.size} entries, root {report.root.hex()};"
        f" {report.checkpoints} checkpoint(s) consistent with the log"
        f" ({verdict.unwitnessed} entries after the last one);"
        f" {sources.witnessed_by}; {sources.trusted_files} trusted file(s);"
        f" signatures checked with {sources.trust.source};"
        f" {report.seconds:.2f} s ({rate:,.0f} entries/s)"
        + (
            f"; went on from the saved tree state at {report.resumed_from} entries"
            f" (only the {report.size - report.resumed_from} after it read;"
            f" {report.before_state} older checkpoint(s) not checked again)"
            if report.resumed_from
            else ""
        )
    )


def report_failure(report: VerifyReport, problems: list[str], quiet: bool) -> NoReturn:
    """Every problem on stdout, the first one on stderr, exit 1."""
    if not quiet:
        for message in problems:
            say(f"FAIL {message}")
    first = report.first_bad_position
    fail(
        f"verify found {len(problems)} problem(s)"
        + (f"; first bad position {first}" if first is not None else "")
        + f": {problems[0]}",
        code=DISCREPANCY,
    )


def keep_state(
    report: VerifyReport, state_file: Path | None, save_checkpoint: Path | None, quiet: bool
) -> None:
    """After a clean verify: the tree state for next time, and the latest checkpoint note."""
    if state_file is not None and report.state is not None:
        write_state(state_file, report.state.to_json())
    if save_checkpoint is not None:
        if not report.latest_note:
            raise UserError("--save-checkpoint: no valid checkpoint to save yet")
        save_note(save_checkpoint, report.latest_note, "--save-checkpoint", quiet=quiet)


def read_state(path: Path | None) -> Any:
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


def write_state(path: Path, text: str) -> None:
    """Replace the state file whole (a crash leaves the old one, never half of one)."""
    try:
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(path)
    except OSError as error:
        raise UserError(f"--state {path}: cannot write it: {error}") from None


def witness_state(origin: str) -> Any:
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
