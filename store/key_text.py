"""A key given as base64 text (a variable or a file), decoded once the same way everywhere."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Collection


def key_bytes(text: str | bytes, sizes: Collection[int]) -> bytes | None:
    """The bytes of the base64 `text` when their length is one of `sizes`, else None: the
    caller says what was expected, and never repeats the text (it is a secret)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key if len(key) in sizes else None
