"""draft_memorandum: drafts are numbered 1, 2, 3...; the text and its sha256 must agree."""

from __future__ import annotations

import pytest

from domain.decider import evolve
from domain.errors import IllegalEvent
from domain.parsing import InvalidInput
from domain.slices.draft_memorandum import MemorandumDrafted, text_digest

from ..scenario import (
    FIELDS,
    NOW,
    TEXT,
    after,
    command,
    drafted,
    given,
    proposed,
    talks_opened,
    then_events,
    then_rejected,
    when,
)


def test_draft_memorandum_numbers_versions_1_2_3():
    state = given(proposed(), talks_opened())
    for number in (1, 2, 3):
        result = when(
            state,
            command("draft_memorandum", title=f"T{number}", languages=["zh", "en"], text=TEXT),
            NOW,
        )
        then_events(
            result,
            [
                MemorandumDrafted(
                    at=NOW,
                    draft_version=number,
                    title=f"T{number}",
                    languages=["zh", "en"],
                    text_sha256=text_digest(TEXT),
                    text=TEXT,
                    fields=FIELDS,  # the proposal's fields by default
                )
            ],
        )
        state = after(state, result)
    assert [d.draft_version for d in state.drafts] == [1, 2, 3]


def test_draft_by_hash_only_and_with_own_fields():
    state = given(proposed(), talks_opened())
    digest = text_digest(TEXT).upper()
    result = when(
        state,
        command(
            "draft_memorandum",
            title="T",
            languages=["en"],
            text_sha256=digest,
            fields=["culture", "culture", "sport"],
        ),
        NOW,
    )
    then_events(
        result,
        [
            MemorandumDrafted(
                at=NOW,
                draft_version=1,
                title="T",
                languages=["en"],
                text_sha256=digest.lower(),
                text=None,
                fields=["culture", "sport"],
            )
        ],
    )


def test_draft_with_text_and_matching_hash():
    state = given(proposed(), talks_opened())
    result = when(
        state,
        command(
            "draft_memorandum",
            title="T",
            languages=["en"],
            text=TEXT,
            text_sha256=text_digest(TEXT),
        ),
        NOW,
    )
    assert [(ev.draft_version, ev.text, ev.text_sha256) for ev in result] == [
        (1, TEXT, text_digest(TEXT))
    ]


def test_draft_refused_when_text_sha256_does_not_match_text():
    state = given(proposed(), talks_opened())
    assert (
        then_rejected(
            when(
                state,
                command(
                    "draft_memorandum", title="T", languages=["en"], text=TEXT, text_sha256="0" * 64
                ),
            ),
            "text_sha256 does not match",
        )
        == "text_sha256 does not match the sha256 of text"
    )


@pytest.mark.parametrize("text", [None, "", "   \n "])
def test_draft_without_text_or_hash_is_invalid_input(text):
    payload = {"title": "T", "languages": ["en"]}
    if text is not None:
        payload["text"] = text
    with pytest.raises(InvalidInput, match="text or its text_sha256"):
        command("draft_memorandum", **payload)


def test_text_of_spaces_with_a_hash_keeps_the_hash():
    state = given(proposed(), talks_opened())
    digest = text_digest(TEXT)
    result = when(
        state,
        command("draft_memorandum", title="T", languages=["en"], text="  ", text_sha256=digest),
    )
    assert result[0].text is None and result[0].text_sha256 == digest


# -- what the store refuses to apply: events illegal for what they say ---------------------


@pytest.mark.parametrize("number", [1, 3])
def test_a_draft_out_of_sequence(number):
    state = given(proposed(), talks_opened(), drafted(1))
    with pytest.raises(IllegalEvent, match="draft_version"):
        evolve(state, drafted(number, NOW), state.version + 1)
