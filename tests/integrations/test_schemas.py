"""schemas/ and the docs' command table are generated from the catalogue and must be
regenerated when it changes; every command has an example that fits its model and schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic import Field

from amity import schemas, story
from domain.catalogue import USER_COMMANDS
from domain.parsing import parse_command, parse_proposal
from domain.slices.open_talks import OpenTalks


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


def test_the_docs_command_table_matches_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not schemas.doc_is_stale(), "run `.venv/bin/python -m amity.schemas`"
    doc = tmp_path / "operators.md"
    doc.write_text(schemas.OPERATORS_DOC.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setitem(USER_COMMANDS, "open_talks", OpenTalks)  # unchanged: still fresh
    assert not schemas.doc_is_stale(doc)
    doc.write_text(doc.read_text().replace("| `renew` | `active`, `dormant` |", "| `renew` | x |"))
    assert schemas.doc_is_stale(doc)
    schemas.write_table(doc)
    assert not schemas.doc_is_stale(doc)
    for name in USER_COMMANDS:
        assert f"| `{name}` |" in doc.read_text()


def test_every_command_has_an_example_and_every_example_a_command() -> None:
    inputs = set(schemas.inputs())
    for name in inputs:
        assert schemas.examples_of(name), f"examples/{name}.json is missing"
    for path in schemas.EXAMPLES.glob("*.json"):
        assert any(path in schemas.examples_of(name) for name in inputs), path.name


EXAMPLES = sorted(
    (name, path.name) for name in schemas.inputs() for path in schemas.examples_of(name)
)


@pytest.mark.parametrize(("schema", "example"), EXAMPLES)
def test_every_example_fits_its_model_and_schema(schema: str, example: str) -> None:
    """Its model parses it; known and required keys; the full JSON Schema check (2020-12)."""
    document = json.loads((schemas.SCHEMAS / f"{schema}.schema.json").read_text())
    payload = json.loads((schemas.EXAMPLES / example).read_text())
    if schema == "proposal":
        parse_proposal(payload, printable=True)
    else:
        parse_command(schema, payload, printable=True)
    assert document["additionalProperties"] is False
    assert set(payload) <= set(document["properties"]), example
    assert set(document.get("required", [])) <= set(payload), example
    jsonschema.Draft202012Validator.check_schema(document)
    jsonschema.validate(payload, document, cls=jsonschema.Draft202012Validator)


def test_the_schema_check_refuses_a_wrong_example() -> None:
    """The full check looks at values too, not only keys: a wrong type is refused."""
    document = json.loads((schemas.SCHEMAS / "record_meeting.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(document)
    payload = {**story.load("record_meeting.json"), "date": 20171115}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(payload, document, cls=jsonschema.Draft202012Validator)
