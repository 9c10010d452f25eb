"""schemas/ is generated from the pydantic models and must be regenerated when they change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import Field

try:
    import jsonschema
except ImportError:  # optional: the structural check below still runs
    jsonschema = None

from amity import schemas, story
from domain.commands import OpenTalks
from domain.registry import USER_COMMANDS


def test_schemas_folder_matches_the_models() -> None:
    stale = schemas.differences()
    assert stale == [], (
        f"schemas/ is out of date for {stale}: run `.venv/bin/python -m amity.schemas`"
    )


def test_one_schema_per_input() -> None:
    names = {path.name for path in schemas.SCHEMAS.glob("*.schema.json")}
    assert names == {"proposal.schema.json"} | {f"{name}.schema.json" for name in USER_COMMANDS}


def test_a_model_change_without_regeneration_is_detected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []

    class ChangedOpenTalks(OpenTalks):
        venue: str | None = Field(default=None, description="a field added to the model")

    monkeypatch.setitem(USER_COMMANDS, "open_talks", ChangedOpenTalks)
    assert schemas.differences(tmp_path) == ["open_talks.schema.json"]
    assert schemas.main(["--check", "--out", str(tmp_path)]) == 1
    assert schemas.main(["--out", str(tmp_path)]) == 0
    assert schemas.differences(tmp_path) == []
    assert "venue" in json.loads((tmp_path / "open_talks.schema.json").read_text())["properties"]


def test_a_hand_edited_or_stray_schema_is_detected(tmp_path: Path) -> None:
    schemas.write(tmp_path)
    (tmp_path / "renew.schema.json").write_text("{}\n")
    (tmp_path / "stray.schema.json").write_text("{}\n")
    assert schemas.differences(tmp_path) == ["renew.schema.json", "stray.schema.json"]
    schemas.write(tmp_path)
    assert schemas.differences(tmp_path) == []


@pytest.mark.parametrize(
    ("schema", "example"),
    [("proposal", "proposal.json"), *[(command, file) for command, file in story.STEPS]],
)
def test_every_example_fits_its_schema(schema: str, example: str) -> None:
    """Known keys and required keys; the full JSON Schema check when jsonschema is installed."""
    document = json.loads((schemas.SCHEMAS / f"{schema}.schema.json").read_text())
    payload = story.load(example)
    assert document["additionalProperties"] is False
    assert set(payload) <= set(document["properties"]), example
    assert set(document.get("required", [])) <= set(payload), example
    if jsonschema is not None:  # full validation where the library is installed
        jsonschema.validate(payload, document)
