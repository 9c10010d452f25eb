"""The portfolio as in effect on a date: partnerships in force per city and tier, and the
pipeline in the report's form, from every partnership's events by their effective dates.

The read models (audit/projections.py) hold each partnership's current state; a past date
needs the history, so this folds each partnership's events with `audit.effective.in_effect`
(one read of its history per partnership)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from audit.effective import in_effect
from audit.gc import paused_gc
from audit.pipeline import pipeline_form
from domain.state import PartnershipState
from domain.values import Stage
from store.application import PartnershipStore

IN_FORCE = frozenset({Stage.ACTIVE, Stage.DORMANT})


def states_on(
    store: PartnershipStore, partnership_ids: list[str], at: datetime
) -> list[PartnershipState]:
    """Each partnership's state in effect at `at` (those not yet in effect left out)."""
    found = []
    with paused_gc():
        for partnership_id in partnership_ids:
            state = in_effect(store.history(partnership_id), at)
            if state is not None:
                found.append(state)
    return found


def portfolio_on(states: list[PartnershipState]) -> dict[str, Any]:
    """In force per city and tier (both sides counted), and the report's pipeline."""
    in_force: Counter[tuple[str, str, str]] = Counter()
    for state in states:
        if state.stage in IN_FORCE:
            for party in (state.initiator, state.partner):
                in_force[(party.name, party.country, state.tier.value)] += 1
    return {
        "in_force_by_city_and_tier": [
            {"city": city, "country": country, "tier": tier, "count": count}
            for (city, country, tier), count in sorted(
                in_force.items(), key=lambda item: (-item[1], item[0])
            )
        ],
        "pipeline_form": pipeline_form(states),
    }
