"""The size caps' reasons: the boundary is inclusive, and the one line names the command,
the largest field (cut short) and both sizes, so a person knows what to shorten."""

from __future__ import annotations

from domain.limits import MAX_PAYLOAD_BYTES, MAX_STATE_BYTES, state_too_large, too_large


def test_a_payload_at_the_cap_passes_one_byte_more_is_refused_with_the_whole_reason() -> None:
    assert MAX_PAYLOAD_BYTES == 1_500_000
    assert too_large("draft_memorandum", MAX_PAYLOAD_BYTES, {"text": "x"}) is None
    assert too_large("draft_memorandum", MAX_PAYLOAD_BYTES + 1, {"text": "x"}) == (
        "draft_memorandum: text: too large: the payload is 1,500,001 bytes,"
        " at most 1,500,000 (send text_sha256 instead of a long text)"
    )


def test_the_largest_field_is_named_by_its_text_length_and_cut_at_60() -> None:
    data = {"actor": "ops", "summary": "y" * 50, "text": "x" * 40, 7: "z" * 10}
    assert too_large("c", MAX_PAYLOAD_BYTES + 1, data).startswith("c: summary: too large")
    numbers = {"small": 5, "large": 10**30}
    assert too_large("c", MAX_PAYLOAD_BYTES + 1, numbers).startswith("c: large: too large")
    long_key = "k" * 61
    reason = too_large("c", MAX_PAYLOAD_BYTES + 1, {long_key: "v"})
    assert reason is not None and reason.startswith(f"c: {'k' * 60}: too large")


def test_without_fields_to_name_the_reason_names_only_the_command() -> None:
    for data in ({}, ["x" * 10], "text", None):
        reason = too_large("c", MAX_PAYLOAD_BYTES + 1, data)
        assert reason is not None and reason.startswith("c: too large: the payload is")


def test_the_state_cap_is_inclusive_and_its_reason_gives_both_sizes() -> None:
    assert MAX_STATE_BYTES == 1_100_000
    assert state_too_large("record_exchange", MAX_STATE_BYTES) is None
    assert state_too_large("record_exchange", MAX_STATE_BYTES + 1) == (
        "record_exchange: refused: the partnership's working state would grow to 1,100,001"
        " bytes, more than the 1,100,000 a workflow carries; keep long participant lists and"
        " texts in a document and give its reference"
    )
