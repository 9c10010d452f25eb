"""Reading an evidence bundle from a file an adversary may have written.

Everything that is not a well-formed bundle is refused here with one reason (`NotABundle`):
too large, not UTF-8, not JSON, nested too deep (Python's parser would recurse), numbers that
are not finite or absurdly long, duplicate keys (two parsers could read two different
bundles), unknown or missing fields, fields of the wrong type. What passes has the exact shape
`audit.bundle.verify_bundle` expects, so checking it can only find discrepancies.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

FORMAT = "amity-evidence-bundle/2"
MAX_BYTES_ENV = "AMITY_BUNDLE_MAX_BYTES"
MAX_DEPTH = 64
#: Integers in a bundle are positions, ids and versions: 64-bit at most.
MAX_INT = 2**63 - 1
MAX_DIGITS = 19
MAX_PROOF = 64  # a tree of 2**63 leaves needs 63 hashes


class NotABundle(ValueError):  # noqa: N818 - reads best at the call site
    """The file is not an evidence bundle at all (bad input, not a failed check)."""


def read_bundle(path: Path, limit: int) -> dict[str, Any]:
    """The bundle in `path`, read no further than `limit` bytes (settings.bundle_max_bytes)."""
    try:
        with path.open("rb") as stream:
            if os.fstat(stream.fileno()).st_size > limit:
                raise NotABundle(f"larger than {limit} bytes (set {MAX_BYTES_ENV} to allow more)")
            data = stream.read(limit + 1)
    except OSError as error:
        raise NotABundle(error.strerror or str(error)) from None
    if len(data) > limit:
        raise NotABundle(f"larger than {limit} bytes (set {MAX_BYTES_ENV} to allow more)")
    return load_bundle(data)


_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def nesting(data: bytes) -> int:
    """How deep arrays and objects nest (strings skipped), without recursing."""
    brackets = _STRING.sub(b"", data).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    break
        else:
            depth -= 1
    return deepest


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise NotABundle(f"an integer of {len(text)} digits")
    return int(text)


def _number(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotABundle(f"a number out of range ({text[:30]})")
    return value


def _constant(text: str) -> Any:
    raise NotABundle(f"{text} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    made: dict[str, Any] = {}
    for key, value in pairs:
        if key in made:
            raise NotABundle(f"key {key[:40]!r} appears twice in one object")
        made[key] = value
    return made


def parse_json(data: bytes) -> Any:
    """Strict JSON: UTF-8, bounded depth, finite numbers, 64-bit integers, unique keys."""
    if nesting(data) > MAX_DEPTH:
        raise NotABundle(f"nested deeper than {MAX_DEPTH} levels")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotABundle("not UTF-8 text") from None
    try:
        return json.loads(
            text,
            parse_int=_integer,
            parse_float=_number,
            parse_constant=_constant,
            object_pairs_hook=_object,
        )
    except NotABundle:
        raise
    except (ValueError, RecursionError) as error:
        raise NotABundle(f"not JSON: {str(error)[:120]}") from None


TOP = {
    "format": str,
    "partnership_id": (str, type(None)),
    "checkpoint": str,
    "head": (str, type(None)),
    "public_key": str,
    "tree_size": int,
    "root_hash": str,
    "entries": list,
}
ENTRY = {
    "position": int,
    "notification_id": int,
    "originator_id": str,
    "originator_version": int,
    "topic": str,
    "state": str,
    "record": object,
    "proof": list,
}


def _shape(value: dict[str, Any], fields: dict[str, Any], where: str) -> None:
    if set(value) != set(fields):
        missing = sorted(set(fields) - set(value))
        extra = sorted(set(value) - set(fields))
        detail = f"missing {missing}" if missing else f"unknown {extra}"
        raise NotABundle(f"{where}: fields {detail}"[:200])
    for key, kind in fields.items():
        item = value[key]
        if isinstance(item, bool) and kind is not object:
            raise NotABundle(f"{where}: {key} has the wrong type (bool)")
        if not isinstance(item, kind):
            raise NotABundle(f"{where}: {key} has the wrong type ({type(item).__name__})")
        if isinstance(item, int) and not isinstance(item, bool) and not 0 <= item <= MAX_INT:
            raise NotABundle(f"{where}: {key} out of range")
        if isinstance(item, str) and not _encodable(item):
            raise NotABundle(f"{where}: {key} is not valid Unicode (a lone surrogate)")


def _encodable(text: str) -> bool:
    """JSON's \\uD800 escapes decode to strings that cannot be encoded (signed, hashed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def load_bundle(data: bytes) -> dict[str, Any]:
    """A bundle of the expected shape from raw bytes, or `NotABundle`."""
    bundle = parse_json(data)
    if not isinstance(bundle, dict):
        raise NotABundle("not an evidence bundle (a JSON object expected)")
    found = bundle.get("format")
    if found != FORMAT:
        hint = (
            " (a format /1 bundle cannot prove completeness: export it again)"
            if found == "amity-evidence-bundle/1"
            else ""
        )
        raise NotABundle(f"not an evidence bundle (format {FORMAT} expected){hint}")
    _shape(bundle, TOP, "bundle")
    if (bundle["partnership_id"] is None) != (bundle["head"] is None):
        raise NotABundle("bundle: a partnership bundle has a head, a whole-log bundle none")
    for index, item in enumerate(bundle["entries"]):
        if not isinstance(item, dict):
            raise NotABundle(f"entry {index}: not an object")
        _shape(item, ENTRY, f"entry {index}")
        proof = item["proof"]
        if len(proof) > MAX_PROOF or not all(isinstance(p, str) and p.isascii() for p in proof):
            raise NotABundle(f"entry {index}: proof is not a list of hashes")
    return bundle
