"""Text files from outside (a command's JSON, an import portfolio) read with a size cap.

A file is read as bytes, at most `limit + 1` of them, so a huge or endless input (a device,
`/dev/zero`, a pipe that never ends) is refused after `limit` bytes, never read whole. Every
refusal is one line naming the file; callers turn `FileRefused` into their own user error.
"""

from __future__ import annotations

import sys
from pathlib import Path


class FileRefused(ValueError):  # noqa: N818 - reads as what happened
    """The file cannot be read as text Amity accepts; the message is one line."""


def read_text(path: Path, limit: int, kind: str, hint: str = "") -> str:
    """`path`'s text (UTF-8, a leading byte-order mark dropped), or standard input for `-`.

    `kind` names what the file should be ("a JSON file"), for the refusal of a directory;
    `hint` follows the refusal of a file over `limit` bytes ("split the portfolio").
    """
    try:
        if str(path) == "-":
            raw = sys.stdin.buffer.read(limit + 1)
        else:
            with path.open("rb") as stream:
                raw = stream.read(limit + 1)
    except FileNotFoundError:
        raise FileRefused(f"{path}: no such file") from None
    except IsADirectoryError:
        raise FileRefused(f"{path}: is a directory, not {kind}") from None
    except OSError as error:
        raise FileRefused(f"{path}: {error.strerror}") from None
    if len(raw) > limit:
        raise FileRefused(f"{path}: larger than {limit:,} bytes{'; ' + hint if hint else ''}")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FileRefused(f"{path}: not UTF-8 text (byte {error.start})") from None
