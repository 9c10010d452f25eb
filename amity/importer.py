"""`amity import`: a portfolio's rows made live partnerships, each with its real history.

Every row becomes one PartnershipWorkflow, started with its proposal and then sent the steps
it went through (talks, approvals, the memorandum and its signing, exchanges) as Updates,
each carrying its effective date. Ids are derived from the row: the workflow id is the row's
(or the contract's convention), and each step's request_id is a digest of the step, so a
second import of the same file, or a re-run after a crash, sends only what is missing and the
workflow answers the rest as repeats. A row's policy (term, renewal notice, dormancy) is set
last, by a correction of the proposal: its clocks then run from the effective dates, and a
clock already past fires at once, after the whole history is in, never between two steps.

Before anything is sent every row is checked twice: against the command models the workflow
uses, and by running the pure decider over its steps in memory (so a signing before the
approvals it needs is refused here, with the row's line, not half-way through an import).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from amity.checks import proposal_details, proposal_summary
from amity.cli_common import UserError
from amity.portfolio import CONCURRENCY, Line, Parsed, PortfolioRow, TargetStage, parse_row
from domain.decider import decide, evolve, fold
from domain.identity import conventional_id
from domain.parsing import InvalidInput, parse_command, parse_proposal
from domain.registry import Rejection
from domain.slices.propose import decide_proposal, refuse_proposal
from domain.values import Side, SidedPerson

if TYPE_CHECKING:  # Temporal's client loads to import, not to check a file (--dry-run)
    from temporalio.client import Client

#: Who the imported steps are recorded as having been sent by.
ACTOR = "amity-import"
CORRECTION_REASON = "imported: the policy applies once the imported history is in"


@dataclass(frozen=True)
class Step:
    command: str
    payload: dict[str, Any]


@dataclass(frozen=True)
class Plan:
    """What one row sends: the proposal, then its steps in order."""

    line: int
    partnership_id: str
    proposal: dict[str, Any]
    steps: list[Step]

    @property
    def versions(self) -> int:
        """How many events the row's history holds once every step is in (a required
        approval denied adds the rejection)."""
        extra = sum(
            1
            for step in self.steps
            if step.command == "record_approval" and step.payload["decision"] == "denied"
        )
        return 1 + len(self.steps) + extra


@dataclass
class BadRow:
    line: int
    error: str


@dataclass
class Checked:
    plans: list[Plan] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def _request_id(partnership_id: str, command: str, payload: dict[str, Any]) -> str:
    """The same step of the same row always has the same id; a changed step a new one."""
    text = json.dumps([partnership_id, command, payload], sort_keys=True, ensure_ascii=False)
    return f"import:{command}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def _step(partnership_id: str, command: str, payload: dict[str, Any]) -> Step:
    clean = {key: value for key, value in payload.items() if value is not None}
    return Step(
        command,
        {**clean, "actor": ACTOR, "request_id": _request_id(partnership_id, command, clean)},
    )


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", exclude_none=True)


def plan_row(row: PortfolioRow, line: int) -> Plan:
    """The proposal and the steps one row sends, with their effective dates."""
    pid = row.id or conventional_id(row.initiator.name, row.partner.name)
    # Who proposed it is often not on record: the initiating party itself, then.
    proposed_by = row.proposed_by or SidedPerson(name=row.initiator.name, side=Side.INITIATOR)
    proposal = {
        "initiator": _dump(row.initiator),
        "partner": _dump(row.partner),
        "tier": row.tier.value,
        "proposed_by": _dump(proposed_by),
        "fields": [f.value for f in row.fields],
        "date": row.proposed_on.isoformat(),
        "required_approvals": [
            {"side": a.side.value, "authority": a.authority} for a in row.approvals
        ],
        "actor": ACTOR,
    }
    steps: list[Step] = []
    if row.talks_opened_on is not None:
        steps.append(_step(pid, "open_talks", {"date": row.talks_opened_on.isoformat()}))
    for approval in sorted(
        row.approvals, key=lambda a: a.date or row.talks_opened_on or row.proposed_on
    ):
        steps.append(_step(pid, "record_approval", _dump(approval)))
    before_signing = row.signed_on or row.talks_opened_on
    for invitation in row.invitations if row.stage != TargetStage.ACTIVE else []:
        steps.append(_step(pid, "extend_invitation", _dump(invitation)))
    if row.stage == TargetStage.ACTIVE:
        assert row.signed_on is not None and before_signing is not None
        title = (
            row.memorandum_title
            or f"Memorandum of {row.tier.label} between {row.initiator.name} and {row.partner.name}"
        )
        steps.append(
            _step(
                pid,
                "draft_memorandum",
                {
                    "title": title,
                    "languages": row.languages,
                    "text": f"{title} (imported record: the signed text is kept outside Amity)",
                    "date": row.signed_on.isoformat(),
                },
            )
        )
        steps.append(
            _step(
                pid,
                "sign_memorandum",
                {
                    "date": row.signed_on.isoformat(),
                    "place": row.signed_at,
                    "signatories": [_dump(s) for s in row.signatories],
                },
            )
        )
        for invitation in row.invitations:
            steps.append(_step(pid, "extend_invitation", _dump(invitation)))
        for exchange in sorted(row.exchanges, key=lambda x: x.date):
            steps.append(_step(pid, "record_exchange", _dump(exchange)))
    if row.policy is not None and _dump(row.policy):
        steps.append(
            _step(
                pid,
                "correct",
                {
                    "target_version": 1,
                    "reason": CORRECTION_REASON,
                    "correction": {"policy": _dump(row.policy)},
                },
            )
        )
    return Plan(line=line, partnership_id=pid, proposal=proposal, steps=steps)


def simulate(plan: Plan, now: datetime) -> str | None:
    """Run the row's steps through the pure decider, as the workflow will: why the first
    refused step would be refused, or None."""
    try:
        proposal = parse_proposal(plan.proposal, printable=True)
    except InvalidInput as error:
        return f"proposal: {str(error).removeprefix('propose: ')}"
    refused = refuse_proposal(proposal, now)
    if refused is not None:
        return f"proposal: {refused}"
    first = decide_proposal(plan.partnership_id, proposal, now, effective_clock=True)
    state = evolve(None, first[0], 1)
    for step in plan.steps:
        try:
            command = parse_command(step.command, step.payload, printable=True)
        except InvalidInput as error:
            return str(error)
        decision = decide(state, command, now)
        if isinstance(decision, Rejection):
            return f"{step.command}: {decision.reason}"
        folded = fold(decision, state)
        assert folded is not None
        state = folded
    return None


def check(lines: list[Line], now: datetime | None = None) -> Checked:
    """Every row validated and simulated; ALL bad rows reported, with their lines."""
    now = now or datetime.now(UTC)
    checked = Checked()
    seen: dict[str, int] = {}
    for line in lines:
        parsed: Parsed = parse_row(line)
        if parsed.row is None:
            checked.bad.append(BadRow(line.line, parsed.error or "invalid row"))
            continue
        plan = plan_row(parsed.row, line.line)
        earlier = seen.get(plan.partnership_id)
        if earlier is not None:
            message = f"partnership {plan.partnership_id} is already on line {earlier}"
            checked.bad.append(BadRow(line.line, message))
            continue
        seen[plan.partnership_id] = line.line
        refused = simulate(plan, now)
        if refused is not None:
            checked.bad.append(BadRow(line.line, refused))
            continue
        checked.plans.append(plan)
    return checked


# -- sending -------------------------------------------------------------------------------

CREATED, PRESENT, RESUMED, FAILED = "created", "present", "resumed", "failed"


@dataclass
class RowResult:
    line: int
    partnership_id: str
    outcome: str
    error: str | None = None


async def import_plan(client: Client, task_queue: str, plan: Plan) -> RowResult:
    """Start the row's workflow unless it exists, then send what it does not hold yet."""
    from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
    from temporalio.exceptions import WorkflowAlreadyStartedError
    from temporalio.service import RPCError

    from amity.commands import WORKFLOW_TYPE, answered, first_line, translated
    from runtime.sending import send_update

    pid = plan.partnership_id
    proposal = parse_proposal(plan.proposal)
    try:
        await client.start_workflow(
            WORKFLOW_TYPE,
            plan.proposal,
            id=pid,
            task_queue=task_queue,
            # A partnership that has ended (expired at once, say) must not start again.
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            static_summary=proposal_summary(proposal),
            static_details=proposal_details(proposal),
        )
        created = True
    except WorkflowAlreadyStartedError:
        created = False
    except RPCError as error:
        return RowResult(plan.line, pid, FAILED, f"cannot start: {first_line(error.message)}")
    try:
        if not created and await _complete(client, plan):
            return RowResult(plan.line, pid, PRESENT)
        fresh = 0
        for step in plan.steps:
            async with translated(pid, step.command):
                result = await answered(send_update(client, pid, step.command, step.payload))
            if not (result.get("outcome") or {}).get("duplicate"):
                fresh += 1
    except UserError as error:
        return RowResult(plan.line, pid, FAILED, str(error))
    if created:
        return RowResult(plan.line, pid, CREATED)
    return RowResult(plan.line, pid, RESUMED if fresh else PRESENT)


async def _complete(client: Client, plan: Plan) -> bool:
    """Whether an existing partnership already holds every step of the row: it has ended
    (its steps all went in before a clock could end it), or its version has reached the
    row's. Otherwise an earlier import stopped part-way and the steps are sent again."""
    from temporalio.client import WorkflowExecutionStatus

    from amity.commands import answered, translated

    handle = client.get_workflow_handle(plan.partnership_id)
    async with translated(plan.partnership_id, "import"):
        described = await handle.describe()
        if described.status != WorkflowExecutionStatus.RUNNING:
            return True
        status: dict[str, Any] = await answered(handle.query("status"))
    return int(status.get("version", 0)) >= plan.versions


@dataclass
class Summary:
    rows: int
    created: int = 0
    present: int = 0
    resumed: int = 0
    failed: list[RowResult] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)
    seconds: float = 0.0
    dry_run: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "dry_run": self.dry_run,
            "valid": self.rows - len(self.bad),
            "created": self.created,
            "already_present": self.present,
            "resumed": self.resumed,
            "failed": [
                {"line": r.line, "partnership_id": r.partnership_id, "error": r.error}
                for r in self.failed
            ],
            "bad_rows": [{"line": b.line, "error": b.error} for b in self.bad],
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.imported / self.seconds, 2)
            if self.seconds and self.imported
            else None,
        }

    @property
    def imported(self) -> int:
        return self.created + self.present + self.resumed


async def run_import(
    client: Client,
    task_queue: str,
    plans: list[Plan],
    advance: Callable[[int, int | None], None],
    concurrency: int = CONCURRENCY,
) -> list[RowResult]:
    """Import every plan, `concurrency` rows at once; results in the file's order."""
    semaphore = asyncio.Semaphore(concurrency)
    done = 0

    async def one(plan: Plan) -> RowResult:
        nonlocal done
        async with semaphore:
            result = await import_plan(client, task_queue, plan)
        done += 1
        advance(done, None)
        return result

    return list(await asyncio.gather(*(one(plan) for plan in plans)))


def summarise(rows: int, checked: Checked, results: list[RowResult], started: float) -> Summary:
    summary = Summary(rows=rows, bad=checked.bad, seconds=time.monotonic() - started)
    for result in results:
        if result.outcome == CREATED:
            summary.created += 1
        elif result.outcome == PRESENT:
            summary.present += 1
        elif result.outcome == RESUMED:
            summary.resumed += 1
        else:
            summary.failed.append(result)
    return summary
