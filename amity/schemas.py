"""JSON Schemas of every input, generated from the pydantic models, so integrations can
validate a payload before they send it.

    python -m amity.schemas            # (re)write schemas/*.schema.json
    python -m amity.schemas --check    # exit 1 if schemas/ is out of date

One file per input: `proposal.schema.json` (the workflow's start input) and
`<command>.schema.json` for each command (the Update and the Signal of that name).
A test compares these files with freshly generated ones, so a model change without
regeneration fails the suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from domain.commands import Proposal
from domain.registry import USER_COMMANDS

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"
BASE_ID = "https://amity.example/schemas/"


def inputs() -> dict[str, type[BaseModel]]:
    """Every input by name: `proposal`, then the commands in the contract's order."""
    return {"proposal": Proposal, **USER_COMMANDS}


def schema_for(name: str, model: type[BaseModel]) -> dict[str, Any]:
    """The validation schema of one input (what a sender must send)."""
    generated = model.model_json_schema(mode="validation")
    kind = "start input" if name == "proposal" else "Update and Signal payload"
    header: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{BASE_ID}{name}.schema.json",
        "title": generated.pop("title", model.__name__),
        "x-amity-input": name,
        "x-amity-kind": kind,
    }
    if "description" not in generated:
        generated["description"] = f"PartnershipWorkflow {kind}: {name}"
    return {**header, **generated}


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def generate() -> dict[str, str]:
    """File name -> content, for every input."""
    return {
        f"{name}.schema.json": render(schema_for(name, model)) for name, model in inputs().items()
    }


def differences(folder: Path = SCHEMAS) -> list[str]:
    """File names that are missing, stale or unexpected in `folder`."""
    expected = generate()
    found = {path.name for path in folder.glob("*.schema.json")} if folder.is_dir() else set()
    stale = [
        name
        for name, text in expected.items()
        if name not in found or (folder / name).read_text(encoding="utf-8") != text
    ]
    extra = sorted(found - set(expected))
    return sorted(stale) + extra


def write(folder: Path = SCHEMAS) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    expected = generate()
    for path in folder.glob("*.schema.json"):
        if path.name not in expected:
            path.unlink()
    written = []
    for name, text in expected.items():
        path = folder / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m amity.schemas", description="Write or check the JSON Schemas of inputs."
    )
    parser.add_argument("--out", type=Path, default=SCHEMAS, help="folder (default: schemas/)")
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the folder is out of date, write nothing"
    )
    args = parser.parse_args(argv)
    if args.check:
        stale = differences(args.out)
        if stale:
            print(
                f"schemas out of date: {', '.join(stale)} (run python -m amity.schemas)",
                file=sys.stderr,
            )
            return 1
        print(f"{len(generate())} schemas up to date in {args.out}")
        return 0
    written = write(args.out)
    print(f"wrote {len(written)} schemas to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
