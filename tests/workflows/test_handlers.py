"""Every command of the catalogue is a named Update (with its validator) and a named Signal
of PartnershipWorkflow, as the Temporal UI lists them, and nothing else is."""

from __future__ import annotations

from temporalio import workflow
from temporalio.api.sdk.v1 import WorkflowMetadata
from temporalio.workflow import HandlerUnfinishedPolicy

from amity import story
from domain.catalogue import USER_COMMANDS
from tests.conftest import Engine
from workflows.partnership import PartnershipWorkflow


def test_the_class_defines_one_update_and_one_signal_per_command() -> None:
    defn = workflow._Definition.must_from_class(PartnershipWorkflow)
    assert {name for name in defn.updates if name} == set(USER_COMMANDS)
    assert {name for name in defn.signals if name} == {*USER_COMMANDS, "forget_person"}
    for name in USER_COMMANDS:
        update = defn.updates[name]
        assert update.validator is not None, name
        assert update.unfinished_policy == HandlerUnfinishedPolicy.ABANDON, name


async def test_the_ui_lists_every_command_by_name(engine: Engine) -> None:
    handle = await engine.start(story.proposal())
    metadata = await handle.query("__temporal_workflow_metadata", result_type=WorkflowMetadata)
    definition = metadata.definition
    # The dynamic handlers (unknown names) are listed first, without a name.
    assert [u.name for u in definition.update_definitions] == ["", *sorted(USER_COMMANDS)]
    assert [s.name for s in definition.signal_definitions] == [
        "",
        *sorted([*USER_COMMANDS, "forget_person"]),
    ]
