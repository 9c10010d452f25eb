"""Properties over any sequence of commands (hypothesis).

Whatever people send, in whatever order and at whatever time: decide either refuses with
one line or emits events that `evolve` accepts; the version is always the number of
events; the store, rebuilding from canonical JSON, agrees with the fold.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.decider import decide, fold
from domain.events import EVENT_LIST_ADAPTER
from domain.parsing import InvalidInput, parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.expire import Expire
from domain.slices.mark_dormant import MarkDormant
from domain.slices.note_renewal_due import NoteRenewalDue
from domain.slices.note_talks_deadline import NoteTalksDeadline
from domain.slices.propose import Proposal, decide_proposal
from domain.slices.record_rejected_signal import RecordRejectedSignal
from domain.state import PartnershipState, to_status
from domain.values import Stage
from runtime.settings import open_store
from store.application import CommandMeta

from .scenario import CUPERTINO, JING, MIANYANG, PID, T0, ZHANG
from .test_stage_matrix import CONTRACT_ALLOWED, ENGINE_ALLOWED

AUTHORITIES = [
    ("partner", "Cupertino City Council"),
    ("initiator", "Sichuan FAO"),
    ("initiator", "CPAFFC"),
]
days = st.integers(min_value=1, max_value=800).map(lambda n: f"P{n}D")


@st.composite
def proposals(draw):
    policy = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "talks_deadline": days,
                "dormant_after": days,
                "term": days,
                "renewal_notice": days,
            },
        )
    )
    required = draw(st.lists(st.sampled_from(AUTHORITIES), unique=True, max_size=2))
    return parse_proposal(
        {
            "initiator": MIANYANG,
            "partner": CUPERTINO,
            "tier": draw(st.sampled_from(["friendly_relations", "friendship_city", "sister_city"])),
            "proposed_by": JING,
            "fields": draw(
                st.lists(st.sampled_from(["trade", "culture", "sport"]), min_size=1, max_size=4)
            ),
            "required_approvals": [{"side": s, "authority": a} for s, a in required],
            "policy": policy,
        }
    )


CORRECTIONS = [
    {"rationale": "Corrected."},
    {"rationale": None},
    {"policy": {"term": "P30D"}},
    {"policy": {"dormant_after": None, "renewal_notice": "P5D"}},
    {"policy": None},
    {"fields": ["sport", "youth"]},
    {"fields": None},
    {"required_approvals": []},
    {"required_approvals": [{"side": "initiator", "authority": "CPAFFC"}]},
    {"initiator": None},
    {"place": "Elsewhere"},
    {"place": None},
    {"date": "2018-01-01"},
    {"date": None},
    {"outcome": None},
    {"topics": None},
    {"delegation": None},
    {"title": "Final"},
    {"languages": ["en"]},
    {"field": "sport"},
    {"kind": "event"},
    {"participants": None},
    {"reference": None},
    {"event": "Renamed"},
    {"decision": "denied"},
    {"tier": "sister_city"},
]


def correctable_versions(state):
    records = [
        *state.meetings,
        *state.drafts,
        *state.approvals,
        *state.exchanges,
        *state.invitations,
    ]
    signing = [state.signing] if state.signing else []
    return [state.proposed_version, *(r.version for r in [*records, *signing])]


def payloads(name, state):
    """A strategy of payloads for `name`, mostly valid for `state`, sometimes not."""
    sided = st.sampled_from([JING, ZHANG])
    if name == "open_talks":
        return st.just({"by": JING})
    if name == "record_meeting":
        return st.fixed_dictionaries(
            {
                "date": st.sampled_from(["2017-11-15", "2019-01-01"]),
                "place": st.just("Cupertino"),
                "delegation": st.lists(sided, min_size=1, max_size=2),
            }
        )
    if name == "draft_memorandum":
        return st.fixed_dictionaries(
            {
                "title": st.just("Memo"),
                "languages": st.just(["en"]),
                "text": st.sampled_from(["A", "B"]),
            }
        )
    if name == "record_approval":
        return st.sampled_from(
            [*AUTHORITIES, ("partner", "cupertino city council"), ("partner", "Sister Cities")]
        ).flatmap(
            lambda auth: st.fixed_dictionaries(
                {
                    "side": st.just(auth[0]),
                    "authority": st.just(auth[1]),
                    "decision": st.sampled_from(["granted", "granted", "denied"]),
                }
            )
        )
    if name == "sign_memorandum":
        return st.fixed_dictionaries(
            {
                "date": st.just("2017-11-15"),
                "place": st.just("Cupertino"),
                "signatories": st.just([JING, ZHANG]),
            },
            optional={"draft_version": st.integers(1, 4)},
        )
    if name == "record_exchange":
        return st.fixed_dictionaries(
            {
                "date": st.sampled_from(["2018-04-20", "2019-11-15"]),
                "field": st.sampled_from(["trade", "culture", "sport"]),
                "kind": st.just("visit"),
                "title": st.just("Trip"),
            }
        )
    if name == "extend_invitation":
        return st.sampled_from(
            [
                {"event": "Expo", "from_side": "initiator", "to_side": "partner"},
                {"event": "Summit", "from_side": "partner", "to_side": "initiator"},
            ]
        )
    if name == "answer_invitation":
        return st.fixed_dictionaries(
            {
                "invitation_id": st.sampled_from(["inv-1", "inv-2", "inv-3"]),
                "accepted": st.booleans(),
            }
        )
    if name == "upgrade":
        return st.fixed_dictionaries(
            {"to_tier": st.sampled_from(["friendly_relations", "friendship_city", "sister_city"])}
        )
    if name == "renew":
        return st.fixed_dictionaries({}, optional={"term": days})
    if name == "correct":
        return st.fixed_dictionaries(
            {
                "target_version": st.one_of(
                    st.sampled_from(correctable_versions(state)),
                    st.integers(1, max(1, state.version + 1)),
                ),
                "reason": st.just("typo"),
                "correction": st.sampled_from(CORRECTIONS),
            }
        )
    if name in ("withdraw", "terminate"):
        return st.just({"reason": "no budget"})
    raise AssertionError(name)


ENGINE = {
    "note_talks_deadline": NoteTalksDeadline(),
    "mark_dormant": MarkDormant(),
    "note_renewal_due": NoteRenewalDue(),
    "expire": Expire(),
    "record_rejected_signal": RecordRejectedSignal(command="x", reason="y"),
}
NAMES = sorted([*CONTRACT_ALLOWED, *ENGINE_ALLOWED])
ALLOWED = {**CONTRACT_ALLOWED, **ENGINE_ALLOWED}


@st.composite
def lives(draw, max_steps=30):
    """A run of commands: [(command, now, events | Rejection)], the state after each."""
    now = T0
    emitted = list(decide_proposal(PID, draw(proposals()), now))
    state = fold(emitted)
    steps = []
    for _ in range(draw(st.integers(0, max_steps))):
        now += timedelta(days=draw(st.integers(0, 400)))
        name = draw(st.sampled_from(NAMES))
        if state.stage.is_terminal and draw(st.booleans()):
            cmd = draw(proposals())
            result = decide_proposal(PID, cmd, now)
        elif name in ENGINE:
            cmd = ENGINE[name]
            result = decide(state, cmd, now)
        else:
            try:
                cmd = parse_command(name, draw(payloads(name, state)))
            except InvalidInput:
                continue
            result = decide(state, cmd, now)
        if not isinstance(result, Rejection):
            stage_before = state.stage
            state = fold(result, state)  # raises if decide emitted an event evolve refuses
            emitted.extend(result)
            if isinstance(cmd, Proposal):
                assert stage_before.is_terminal
            else:
                assert stage_before in ALLOWED[cmd.name], (cmd.name, stage_before)
        steps.append((cmd, now, result, state))
    return emitted, steps, state


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lives())
def test_any_sequence_keeps_version_and_never_emits_an_illegal_event(life):
    emitted, steps, state = life
    assert state.version == len(emitted)
    assert fold(emitted) == state
    # every value in the state is still valid (nothing None where a value is required)
    assert PartnershipState.model_validate(state.model_dump()) == state
    # what the store does: the events survive JSON and rebuild the same state
    assert fold(EVENT_LIST_ADAPTER.validate_json(EVENT_LIST_ADAPTER.dump_json(emitted))) == state
    for cmd, _, result, after in steps:
        if isinstance(result, Rejection):
            assert result.reason and "\n" not in result.reason
            if not isinstance(cmd, Proposal) and after.stage not in ALLOWED[cmd.name]:
                assert "not allowed while" in result.reason
        else:
            assert result, "an applied command records at least one event"
    status = to_status(state)
    assert status.version == state.version
    assert sum(status.exchanges.values()) == status.exchange_count == len(state.exchanges)
    assert all(i.accepted is None for i in status.open_invitations)
    if state.stage in (Stage.ACTIVE, Stage.DORMANT):
        assert state.signing is not None and status.signed_on == state.signing.date
        assert [d.draft_version for d in state.drafts] == list(range(1, len(state.drafts) + 1))
    if state.stage == Stage.REJECTED:
        assert state.closing_reason and "required approval denied" in state.closing_reason


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lives(max_steps=15))
def test_the_store_agrees_with_the_fold_after_any_sequence(life):
    emitted, steps, state = life
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'events.db'}", snapshot_interval=5)
        try:
            version = 0
            first = emitted[:1]
            store.append(PID, first, CommandMeta("propose", "a", "r-0", PID, "run"), None)
            version = 1
            for number, (cmd, _, result, after) in enumerate(steps, start=1):
                if isinstance(result, Rejection):
                    continue
                expected = None if isinstance(cmd, Proposal) else version
                meta = CommandMeta(cmd.name, "a", f"r-{number}", PID, "run")
                landed = store.append(PID, result, meta, expected)
                assert landed.version == version + len(result) == after.version
                assert landed.duplicate is False
                version = landed.version
                assert store.state(PID) == after
            assert store.state(PID) == state
            assert [h.event for h in store.history(PID)] == emitted
        finally:
            store.close()
