"""The pipeline as provincial foreign-affairs offices report it (Shaanxi, 2018: 88
established, 8 approved awaiting signing, 29 letters of intent, 15 first contacts).

- established: a signed friendship-city or sister-city agreement in force;
- approved, awaiting signing: not signed yet, every required approval granted (at least one);
- letter of intent: a signed memorandum of friendly relations (the letter-of-intent tier) in
  force, the step before a formal agreement;
- first contact: proposed or in talks, approvals still missing.

Ended partnerships (withdrawn, rejected, expired, terminated) are not in the pipeline.
"""

from __future__ import annotations

from domain.state import PartnershipState
from domain.values import Decision, Stage, Tier

ESTABLISHED = "established"
APPROVED = "approved, awaiting signing"
INTENT = "letter of intent"
CONTACT = "first contact"
#: The report's rows, in its order.
FORM = (ESTABLISHED, APPROVED, INTENT, CONTACT)


def pipeline_row(state: PartnershipState) -> str | None:
    """The report row a partnership counts in, or None once it has ended."""
    if state.stage in (Stage.ACTIVE, Stage.DORMANT):
        return INTENT if state.tier == Tier.FRIENDLY_RELATIONS else ESTABLISHED
    if state.stage in (Stage.PROPOSED, Stage.IN_TALKS):
        granted = any(a.decision == Decision.GRANTED for a in state.approvals)
        return APPROVED if granted and not state.missing_approvals() else CONTACT
    return None


def pipeline_form(states: list[PartnershipState]) -> dict[str, int]:
    """Partnerships per report row, every row present (0 where none)."""
    counts = dict.fromkeys(FORM, 0)
    for state in states:
        row = pipeline_row(state)
        if row is not None:
            counts[row] += 1
    return counts
