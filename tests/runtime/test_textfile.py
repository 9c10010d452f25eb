"""Files from outside read with a cap: each refusal is one line naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.textfile import FileRefused, read_text


def test_a_file_at_the_limit_is_read_and_a_byte_order_mark_dropped(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"a": "\xc3\xa9"}')
    assert read_text(path, len(path.read_bytes()), "a JSON file") == '{"a": "é"}'


@pytest.mark.parametrize(
    ("make", "limit", "hint", "expected"),
    [
        (lambda p: None, 10, "", "no such file"),
        (lambda p: p.mkdir(), 10, "", "is a directory, not a JSON file"),
        (lambda p: p.write_bytes(b"x" * 11), 10, "", "larger than 10 bytes"),
        (lambda p: p.write_bytes(b"x" * 11), 10, "split it", "larger than 10 bytes; split it"),
        (lambda p: p.write_bytes(b"ok \xff"), 10, "", "not UTF-8 text (byte 3)"),
    ],
    ids=["missing", "directory", "one byte over", "over, with the hint", "latin-1"],
)
def test_each_refusal_is_one_line_naming_the_file(
    tmp_path: Path, make: object, limit: int, hint: str, expected: str
) -> None:
    path = tmp_path / "input"
    make(path)  # type: ignore[operator]
    with pytest.raises(FileRefused) as refused:
        read_text(path, limit, "a JSON file", hint)
    assert str(refused.value) == f"{path}: {expected}"


def test_an_endless_input_is_refused_after_the_limit_not_read_whole() -> None:
    with pytest.raises(FileRefused, match="larger than 1,000 bytes"):
        read_text(Path("/dev/zero"), 1_000, "a JSON file")
