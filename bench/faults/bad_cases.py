"""Bad inputs, generated: hypothesis draws payloads for every command and the start input
from the pydantic models (wrong types, missing and unknown fields, oversized text, control
characters, impossible dates, ...), each with the words its refusal must name."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from typing import Any

from amity import story
from domain.catalogue import USER_COMMANDS
from domain.parsing import InvalidInput, parse_command, parse_proposal
from domain.slices.propose import Proposal

#: A valid payload of every user command (the story's, plus the commands it never sends).
EXTRA_BASES: dict[str, dict[str, Any]] = {
    "upgrade": {"to_tier": "sister_city", "reference": "council resolution 2020-14"},
    "renew": {"term": "P2Y", "reference": "renewal letter"},
    "correct": {"target_version": 3, "reason": "a typo", "correction": {"place": "Cupertino"}},
    "withdraw": {"reason": "priorities changed"},
    "terminate": {"reason": "no longer active"},
}
MIXED_NAMES = ["绵阳 Mianyang", "Мянъян-Cupertino", "ميانيانغ Mianyang", "Ἀθῆναι–東京", "Zoë Ñúñez"]
CONTROL = "".join(chr(i) for i in (*range(0, 32), 127))


def bases() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for command, payload in story.steps(without_request_ids=True):
        found.setdefault(command, {k: v for k, v in payload.items() if k != "actor"})
    return {**found, **EXTRA_BASES}


def setup_payload(number: int) -> dict[str, Any]:
    """The payload of the `number`th setup command (bad_input._target), without its
    request_id: a case resending it is a true repeat."""
    return dict(story.steps(without_request_ids=True)[number][1])


@dataclass
class BadInput:
    """One generated bad input: where it goes and what the refusal must name."""

    kind: str
    channel: str  # update | signal | start | cli
    command: str
    payload: Any
    expect: str
    cli_signal: bool = False


def _schema_props(model: type[Any]) -> tuple[dict[str, Any], set[str], dict[str, Any]]:
    schema = model.model_json_schema()
    return schema.get("properties", {}), set(schema.get("required", [])), schema.get("$defs", {})


def _resolve(prop: dict[str, Any], defs: dict[str, Any]) -> dict[str, Any]:
    if "anyOf" in prop:
        options = [o for o in prop["anyOf"] if o.get("type") != "null"]
        prop = {**prop, **options[0]} if options else prop
        prop.pop("anyOf", None)
    if "$ref" in prop:
        prop = {
            **defs[prop["$ref"].split("/")[-1]],
            **{k: v for k, v in prop.items() if k != "$ref"},
        }
    return prop


def _strategies() -> Any:
    """Hypothesis strategies for bad inputs, derived from the pydantic models."""
    from hypothesis import strategies as st

    valid = bases()
    proposal = story.proposal()
    models: dict[str, type[Any]] = {**USER_COMMANDS, "propose": Proposal}
    junk = st.one_of(
        st.integers(-(10**12), 10**12),
        st.floats(allow_nan=False),
        st.booleans(),
        st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
        st.text(max_size=30),
    )
    names = st.text(alphabet=st.sampled_from(list(CONTROL) + list("Mianyang绵阳Мянь")), max_size=12)

    @st.composite
    def mutated(draw: Any) -> BadInput:
        command = draw(st.sampled_from(sorted(models)))
        base = dict(proposal if command == "propose" else valid[command])
        base.pop("request_id", None)
        props, required, defs = _schema_props(models[command])
        props = {k: v for k, v in props.items() if k not in ("actor", "request_id")} or props
        kind = draw(
            st.sampled_from(
                [
                    "wrong_type",
                    "missing",
                    "extra",
                    "enum",
                    "empty",
                    "huge_string",
                    "huge_list",
                    "control_name",
                    "bad_date",
                    "not_object",
                    "broken_token",
                ]
            )
        )
        payload: Any = dict(base)
        expect = ""
        name = draw(st.sampled_from(sorted(props)))
        prop = _resolve(dict(props[name]), defs)
        kind_of = prop.get("type")
        if kind == "wrong_type":
            payload[name] = draw(junk)
            expect = name
        elif kind == "missing":
            options = sorted(required & set(base)) or sorted(required)
            if not options:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(options))
            payload.pop(name, None)
            expect = f"{name}: required field is missing"
        elif kind == "extra":
            key = draw(st.from_regex(r"\A[A-Za-z][A-Za-z0-9_-]{0,15}\Z"))
            if key in props or key in ("actor", "request_id"):
                draw(st.just(None).filter(lambda _: False))
            payload[key] = draw(junk)
            expect = f"{key}: unknown field"
        elif kind == "enum":
            enums = {k: _resolve(dict(v), defs).get("enum") for k, v in props.items()}
            enums = {k: v for k, v in enums.items() if v}
            if not enums:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(enums)))
            value = draw(st.text(min_size=0, max_size=20))
            if value.strip() in enums[name]:
                draw(st.just(None).filter(lambda _: False))
            payload[name] = value
            expect = name
        elif kind == "empty":
            texts = [k for k, v in props.items() if _resolve(dict(v), defs).get("minLength")]
            if not texts:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(texts)))
            payload[name] = draw(st.sampled_from(["", " ", "\t \n"]))
            expect = name
        elif kind == "huge_string":
            texts = {k: _resolve(dict(v), defs).get("maxLength") for k, v in props.items()}
            texts = {k: v for k, v in texts.items() if v}
            if not texts:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(texts)))
            extra = draw(st.integers(1, 2_000))
            payload[name] = draw(st.sampled_from(["x", "绵", "😀", "\u0301a"])) * (
                texts[name] + extra
            )
            expect = name
        elif kind == "huge_list":
            lists = {k: _resolve(dict(v), defs) for k, v in props.items()}
            lists = {k: v.get("maxItems") for k, v in lists.items() if v.get("type") == "array"}
            lists = {k: v for k, v in lists.items() if v}
            if not lists:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(lists)))
            item = (base.get(name) or ["economy"])[0]
            payload[name] = [item] * (lists[name] + draw(st.integers(1, 50)))
            expect = name
        elif kind == "control_name":
            # a bad field elsewhere, and control characters / mixed scripts in a name
            people = [
                k for k, v in base.items() if isinstance(v, list) and v and isinstance(v[0], dict)
            ]
            people += [k for k, v in base.items() if isinstance(v, dict) and "name" in v]
            if not people:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(people)))
            value = base[name]
            strange = draw(names)
            if isinstance(value, list):
                payload[name] = [{**value[0], "name": strange, "shoe_size": 44}, *value[1:]]
                expect = f"{name}[0].shoe_size: unknown field"
            else:
                payload[name] = {**value, "name": strange, "shoe_size": 44}
                expect = f"{name}.shoe_size: unknown field"
        elif kind == "bad_date":
            dates = [k for k, v in props.items() if _resolve(dict(v), defs).get("format") == "date"]
            if not dates:
                draw(st.just(None).filter(lambda _: False))
            name = draw(st.sampled_from(sorted(dates)))
            payload[name] = draw(
                st.one_of(
                    st.dates(max_value=date(1899, 12, 31)).map(str),
                    st.dates(min_value=date(2201, 1, 1)).map(str),
                    st.sampled_from(["2017-02-30", "yesterday", "2017-13-01", "", "17/11/2017"]),
                )
            )
            expect = name
        elif kind == "not_object":
            payload = draw(
                st.one_of(
                    st.lists(st.integers(), max_size=3),
                    st.text(max_size=10),
                    st.integers(),
                    st.booleans(),
                )
            )
            expect = "one JSON object"
        elif kind == "broken_token":
            payload["request_id"] = draw(st.sampled_from(["", "  ", "a\x00b", "x" * 201, 42]))
            expect = "request_id"
        if kind_of is None and kind == "wrong_type" and payload.get(name) is None:
            draw(st.just(None).filter(lambda _: False))
        # only what the model really refuses is a bad input; the refusal names the field
        try:
            if command == "propose":
                parse_proposal(payload)
            else:
                parse_command(command, payload)
        except InvalidInput as error:
            if expect not in str(error):
                return BadInput("unnamed:" + kind, "local", command, payload, expect)
        else:
            draw(st.just(None).filter(lambda _: False))
        channel = (
            "start"
            if command == "propose"
            else draw(st.sampled_from(["update", "update", "update", "signal", "signal", "cli"]))
        )
        return BadInput(kind, channel, command, payload, expect, cli_signal=draw(st.booleans()))

    @st.composite
    def semantic(draw: Any) -> BadInput:
        kind = draw(
            st.sampled_from(
                [
                    "unknown_invitation",
                    "missing_draft",
                    "unknown_command",
                    "replayed",
                    "conflicting",
                    "broken_json",
                ]
            )
        )
        channel = draw(st.sampled_from(["update", "update", "signal", "cli"]))
        if kind == "unknown_invitation":
            # Prefixed: a short id ("1") may have been extended, and answered, by an input
            # of the same run that was valid after all; then the refusal rightly says so.
            invitation = "never-extended-" + draw(st.from_regex(r"\A[A-Za-z0-9:_-]{1,30}\Z"))
            return BadInput(
                kind,
                channel,
                "answer_invitation",
                {"invitation_id": invitation, "accepted": True},
                "invitation_id",
            )
        if kind == "missing_draft":
            payload = {**valid["sign_memorandum"], "draft_version": draw(st.integers(2, 10**9))}
            payload.pop("request_id", None)
            return BadInput(kind, channel, "sign_memorandum", payload, "draft_version")
        if kind == "unknown_command":
            name = draw(st.text(min_size=1, max_size=40))
            if name in USER_COMMANDS or not name.strip():
                draw(st.just(None).filter(lambda _: False))
            return BadInput(kind, channel, name, {"reason": "x"}, "unknown command")
        if kind == "replayed":
            # the setup's record_meeting exactly (a true resend): answered as a duplicate
            channel = draw(st.sampled_from(["update", "signal"]))
            return BadInput(kind, channel, "record_meeting", setup_payload(1), "duplicate")
        if kind == "conflicting":
            # open_talks' request_id on another command: refused, naming open_talks
            channel = draw(st.sampled_from(["update", "signal"]))
            command = draw(st.sampled_from(["record_meeting", "extend_invitation", "withdraw"]))
            return BadInput(
                kind, channel, command, {**valid[command]}, "was already used for open_talks"
            )
        text = draw(st.sampled_from(["{", '{"a":', "[1,", "nul", '{"reason": "x",}', "'x'"]))
        return BadInput(
            kind, "cli", draw(st.sampled_from(sorted(USER_COMMANDS))), text, "invalid JSON"
        )

    return st.one_of(mutated(), mutated(), mutated(), semantic())


def generate(count: int, seed: int = 7, oversize: int = 4) -> list[BadInput]:
    """`count` bad inputs drawn by hypothesis (deterministic for a seed)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as with_seed

    found: list[BadInput] = []
    strategy = _strategies()

    @with_seed(seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(case: BadInput) -> None:
        found.append(case)

    collect()
    rng = random.Random(seed)
    # payloads over Temporal's 2 MiB limit (and just under it): the text of a draft
    text_base = {k: v for k, v in bases()["draft_memorandum"].items() if k != "text_sha256"}
    sizes = [2_096_000, 2_096_000, 1_600_000, 3_000_000, 2_500_000]
    for number in range(oversize):
        channel = "signal" if number % 2 == 0 else "update"
        text = "\x01" * (sizes[number % len(sizes)] // 6)  # each is 6 bytes of JSON
        found.append(
            BadInput("oversize", channel, "draft_memorandum", {**text_base, "text": text}, "text")
        )
    rng.shuffle(found)
    return found[: max(count, 0) + oversize] if count else found
