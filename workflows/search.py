"""The search attributes the contract names, so the UI's list filters by stage, tier, city."""

from __future__ import annotations

from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributeUpdate

from domain.state import PartnershipState

STAGE = SearchAttributeKey.for_keyword("PartnershipStage")
TIER = SearchAttributeKey.for_keyword("PartnershipTier")
CITIES = SearchAttributeKey.for_keyword_list("PartnershipCities")
COUNTRIES = SearchAttributeKey.for_keyword_list("PartnershipCountries")

#: name -> type, as `temporal server start-dev --search-attribute NAME=TYPE` wants them.
SEARCH_ATTRIBUTES: dict[str, str] = {
    STAGE.name: "Keyword",
    TIER.name: "Keyword",
    CITIES.name: "KeywordList",
    COUNTRIES.name: "KeywordList",
}


def search_updates(state: PartnershipState) -> list[SearchAttributeUpdate[Any]]:
    """The attribute values for `state` (both parties' names and countries)."""
    return [
        STAGE.value_set(state.stage.value),
        TIER.value_set(state.tier.value),
        CITIES.value_set([state.initiator.name, state.partner.name]),
        COUNTRIES.value_set(sorted({state.initiator.country, state.partner.country})),
    ]


def search_key(state: PartnershipState) -> tuple[str, ...]:
    """What the search attributes are made of: upsert only when this changes."""
    return (
        state.stage.value,
        state.tier.value,
        state.initiator.name,
        state.partner.name,
        state.initiator.country,
        state.partner.country,
    )


def summary(state: PartnershipState) -> str:
    """One line for the UI: `Mianyang (CN) ↔ Cupertino (US) · friendly relations · in talks`."""
    exchanges = state.exchange_count
    parts = [
        f"{state.initiator.name} ({state.initiator.country}) ↔"
        f" {state.partner.name} ({state.partner.country})",
        state.tier.label,
        state.stage.label,
    ]
    if exchanges:
        parts.append(f"{exchanges} exchange{'s' if exchanges != 1 else ''}")
    return " · ".join(parts)
