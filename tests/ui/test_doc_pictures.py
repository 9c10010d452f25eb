"""docs/operators.md shows exactly the pictures the browser tests take, and they stay small."""

from __future__ import annotations

import re
import struct

from tests.ui import test_operator_ui, test_reasons_ui
from tests.ui.conftest import DOC_IMAGES, DOC_VIEWPORT, ROOT

DOC = ROOT / "docs" / "operators.md"
#: A picture in the docs is a screenshot of one viewport at most, with a 256-colour palette.
MAX_BYTES = 80_000


def test_the_operator_doc_shows_every_picture_the_ui_tests_take_and_no_other() -> None:
    referenced = re.findall(r"!\[[^\]]+\]\(img/([a-z0-9-]+)\.png\)", DOC.read_text())
    taken = test_operator_ui.DOC_PICTURES + test_reasons_ui.DOC_PICTURES
    assert sorted(referenced) == sorted(taken)
    assert sorted(p.stem for p in DOC_IMAGES.glob("*.png")) == sorted(taken)


def test_the_pictures_are_small_pngs_of_the_docs_viewport_at_most() -> None:
    for picture in sorted(DOC_IMAGES.glob("*.png")):
        data = picture.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", picture.name
        width, height, _depth, colour = struct.unpack(">IIBB", data[16:26])
        assert width <= DOC_VIEWPORT["width"] and height <= DOC_VIEWPORT["height"], picture.name
        assert colour == 3, f"{picture.name}: not a palette image"  # shrink_png made it
        assert len(data) <= MAX_BYTES, (picture.name, len(data))
