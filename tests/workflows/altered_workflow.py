"""A deliberately broken copy of PartnershipWorkflow: it sleeps before its first command,
as a careless edit might, without `workflow.patched`. Replaying saved histories with it
must fail; that is how the replay test proves it can catch nondeterminism."""

from __future__ import annotations

from temporalio import workflow
from temporalio.common import RawValue

with workflow.unsafe.imports_passed_through():
    from domain.state import Status
    from workflows.partnership import NOTHING, PartnershipWorkflow


@workflow.defn(name="PartnershipWorkflow", failure_exception_types=[])
class CarelesslyChangedWorkflow(PartnershipWorkflow):
    @workflow.run
    async def run(self, input: RawValue = NOTHING) -> Status:
        await workflow.sleep(0.001)  # a new timer command where history has an activity
        return await super().run(input)
