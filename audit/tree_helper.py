"""A Merkle tree hashed by a helper process while `verify` reads the log.

Above n leaves an RFC 6962 tree has n - 1 interior nodes, each one SHA-256 call on 65 bytes:
the call costs about a microsecond whatever its input (hashlib's set-up, not the hashing),
as much as hashing a whole leaf, so building the tree in the verifying process makes it a
third slower than reading and hashing the log. hashlib keeps the GIL for inputs under
2 KiB, so a thread cannot take that work; a second process can. `HelperTree` sends each
batch through a pipe to `python -m audit.tree_helper`, which extends its own `Tree` while
this process reads the next batch, and hands back the tree's levels at the end.

Two ways to feed it: leaf hashes (`extend`: the helper hashes the levels above them), or
leaf inputs (`HelperTree(inputs=True)`, `extend_inputs`: the helper hashes the leaves too,
which is what `verify` does, leaving this process to read the rows, build the inputs and
check the versions: about as much work as the helper's).

The result is the same `Tree`, level by level (each level must have exactly the nodes its
leaves give, or the answer is refused). Should the helper fail in any way (it could not
start, died, answered short), a tree fed leaf hashes is built here from the hashes kept for
that purpose, slower, never different; one fed inputs gives None, and `verify` walks the
log again by itself.
"""

from __future__ import annotations

import contextlib
import struct
import subprocess
import sys
from array import array
from hashlib import sha256
from itertools import accumulate, chain
from operator import methodcaller
from pathlib import Path
from typing import BinaryIO, Protocol, cast

from tlog.merkle import HASH_SIZE, Tree

#: A frame of leaf hashes (its length first) to the helper; each level's length back.
_LENGTH = struct.Struct(">Q")
#: A frame of leaf inputs: how many, their total length; then their sizes, then them.
_INPUTS = struct.Struct(">QQ")
_SIZES_ITEM = array("I").itemsize
_digest = methodcaller("digest")
#: Linux's fcntl code for a pipe's size: a bigger pipe lets the reader run a few batches
#: ahead of the helper instead of waiting on every write.
_F_SETPIPE_SZ = 1031
PIPE_BYTES = 1 << 20
#: Where the `audit` package lives: the helper runs with it first on its path, so it
#: imports the same code as this process.
_ROOT = Path(__file__).resolve().parent.parent


class _Answer(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...
    def readinto(self, buffer: memoryview, /) -> int | None: ...


class HelperTree:
    """Collects leaf hashes (`extend`, `size` as on a `Tree`); `finish` returns the tree."""

    def __init__(self, command: list[str] | None = None, *, inputs: bool = False) -> None:
        self.size = 0
        self.leaves = bytearray()
        #: Given leaf inputs (`extend_inputs`), the helper hashes the leaves too, and the
        #: tree cannot be built here if it fails: `finish` returns None.
        self.inputs = inputs
        #: Why the tree was built in this process after all (empty: the helper built it).
        self.fallback = ""
        self._process: subprocess.Popen[bytes] | None = None
        mode = ["inputs"] if inputs else []
        try:
            self._process = subprocess.Popen(
                command or [sys.executable, "-m", "audit.tree_helper", *mode],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                cwd=_ROOT,
            )
        except OSError as error:
            self.fallback = f"the helper process did not start: {error}"
            return
        assert self._process.stdin is not None
        with contextlib.suppress(OSError, ImportError):
            import fcntl

            fcntl.fcntl(self._process.stdin.fileno(), _F_SETPIPE_SZ, PIPE_BYTES)

    def extend(self, leaf_hashes: bytes) -> None:
        if self.inputs:
            raise ValueError("this helper hashes leaf inputs (extend_inputs)")
        if len(leaf_hashes) % HASH_SIZE:
            raise ValueError("leaf hashes must be whole 32-byte hashes")
        self.leaves += leaf_hashes
        self.size += len(leaf_hashes) // HASH_SIZE
        if leaf_hashes:
            self._send(_LENGTH.pack(len(leaf_hashes)), leaf_hashes)

    def extend_inputs(self, inputs: bytes, sizes: bytes) -> None:
        """Add leaves by their inputs (concatenated; `sizes`: each one's, an array "I"):
        the helper hashes them, so this process does not."""
        if not self.inputs:
            raise ValueError("this helper is given leaf hashes (extend)")
        count = len(sizes) // _SIZES_ITEM
        if len(sizes) % _SIZES_ITEM or sum(array("I", sizes)) != len(inputs):
            raise ValueError("the inputs' sizes do not add up to the inputs")
        self.size += count
        if count:
            self._send(_INPUTS.pack(count, len(inputs)), sizes, inputs)

    def _send(self, *parts: bytes) -> None:
        if self._process is None:
            return
        stdin = self._process.stdin
        assert stdin is not None
        try:
            for part in parts:
                stdin.write(part)
        except OSError as error:  # the helper is gone: see finish()
            self._stop(f"the helper process stopped reading: {error}")

    def finish(self) -> Tree | None:
        """The tree of every leaf given: the helper's levels; if the helper failed, built
        here from the leaf hashes, or None when it was given inputs (not kept here)."""
        levels = self._answer()
        tree = Tree()
        if levels is None:
            if self.inputs:
                return None
            tree.extend(bytes(self.leaves))
            return tree
        tree.levels = levels if self.inputs else [self.leaves, *levels]
        tree.offsets = [0] * len(tree.levels)
        tree.size = self.size
        return tree

    def _answer(self) -> list[bytearray] | None:
        process = self._process
        if process is None:
            return None
        assert process.stdin is not None and process.stdout is not None
        try:
            process.stdin.close()
            levels = _read_levels(cast(_Answer, process.stdout), self.size, 0 if self.inputs else 1)
        except OSError as error:
            self._stop(f"the helper process failed: {error}")
            return None
        if levels is None:
            try:  # an answer cut short most likely means the helper failed: say how
                code = process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                code = 0
            self._stop(
                f"the helper process exited with {code}"
                if code
                else "the helper process gave a tree of another shape"
            )
            return None
        if process.wait() != 0:
            self._stop(f"the helper process exited with {process.returncode}")
            return None
        process.stdout.close()
        self._process = None
        return levels

    def _stop(self, why: str) -> None:
        process, self._process = self._process, None
        self.fallback = why
        if process is not None:
            process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout):
                with contextlib.suppress(OSError):
                    if stream is not None:
                        stream.close()

    def close(self) -> None:
        """Stop the helper without its answer (the walk was cut short)."""
        if self._process is not None:
            self._stop("closed")


def _read_levels(answer: _Answer, size: int, first: int) -> list[bytearray] | None:
    """The levels from `first` up from the helper's answer, if they are the shape a tree
    of `size` leaves has: level k holds size >> k nodes, up to the root's level, and
    nothing follows. Each level is read straight into its own buffer (tens of MB)."""
    levels: list[bytearray] = []
    for level in range(first, max(size.bit_length(), 1)):
        head = answer.read(_LENGTH.size)
        if len(head) != _LENGTH.size or _LENGTH.unpack(head)[0] != (size >> level) * HASH_SIZE:
            return None
        nodes = bytearray(_LENGTH.unpack(head)[0])
        view, got = memoryview(nodes), 0
        while got < len(nodes):
            read = answer.readinto(view[got:])
            if not read:
                return None
            got += read
        levels.append(nodes)
    return levels if not answer.read(1) else None


def serve(source: BinaryIO, sink: BinaryIO, inputs: bool = False) -> int:
    """The helper's side: extend a tree with each frame of leaf hashes (or, with `inputs`,
    of leaf inputs, hashed here) until the input ends, then write every level above the
    leaves (with `inputs`: and the leaves), each as its length and its nodes."""
    tree = Tree()
    head_size = _INPUTS.size if inputs else _LENGTH.size
    while True:
        head = source.read(head_size)
        if not head:
            break
        if len(head) != head_size:
            return 2
        if not inputs:
            (length,) = _LENGTH.unpack(head)
            frame = source.read(length)
            if len(frame) != length:
                return 2
            tree.extend(frame)
            continue
        count, length = _INPUTS.unpack(head)
        sizes = source.read(count * _SIZES_ITEM)
        data = source.read(length)
        if len(sizes) != count * _SIZES_ITEM or len(data) != length:
            return 2
        ends = list(accumulate(array("I", sizes)))
        if ends[-1] != length:
            return 2
        cuts = map(slice, chain((0,), ends), ends)
        tree.extend(b"".join(map(_digest, map(sha256, map(data.__getitem__, cuts)))))
    for nodes in tree.levels[0 if inputs else 1 :]:
        sink.write(_LENGTH.pack(len(nodes)))
        sink.write(nodes)
    sink.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(serve(sys.stdin.buffer, sys.stdout.buffer, sys.argv[1:] == ["inputs"]))
