"""`audit checkpoint`: sign the log's head and give it to the witness."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from amity.audit_cli.common import (
    WitnessOption,
    log_size,
    open_store,
    say,
    store_key,
    use_witness,
)
from amity.cli_common import (
    DISCREPANCY,
    JsonFlag,
    UserError,
    errors,
    fail,
    friendly,
    print_json,
)
from amity.progress import progress
from runtime.settings import get_settings


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
    signing = store_key(store, create=True)
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
        save_note(out, signed.note, "--out", quiet=as_json)
        result["saved_to"] = str(out)
    try:
        if use_witness(witness):
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


def save_note(path: Path, signed: str, option: str, *, quiet: bool = False) -> None:
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
