"""Generated portfolios for the import's tests and bench: rows in the JSON form of
docs/import.md, in the Shaanxi report's proportions (88 established, 8 approved awaiting
signing, 29 letters of intent, 15 first contacts), with bad rows where asked.

The names are made up ("Partner 0042"); only the shape and the dates are realistic.
"""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import date, timedelta
from typing import Any

from amity.portfolio import CSV_COLUMNS

FIELDS = ["economy", "trade", "science_technology", "culture", "education", "tourism"]
COUNTRIES = ["US", "DE", "FR", "JP", "KR", "IT", "GB", "BR", "AU", "NZ", "ZA", "RU"]
#: (stage, tier, share of 140) as the Shaanxi 2018 figures.
MIX = (
    ("established", 88),
    ("approved", 8),
    ("intent", 29),
    ("contact", 15),
)


def _day(rng: random.Random, start: date, days: int) -> date:
    return start + timedelta(days=rng.randrange(max(days, 1)))


def row(index: int, kind: str, rng: random.Random, initiator: str = "Xianyang") -> dict[str, Any]:
    """One generated partnership of `kind`: established, approved, intent or contact."""
    country = COUNTRIES[index % len(COUNTRIES)]
    proposed = _day(rng, date(1985, 1, 1), 365 * 38)
    talks = proposed + timedelta(days=rng.randrange(30, 400))
    data: dict[str, Any] = {
        "id": f"import-{initiator.lower()}-{index:05d}",
        "initiator": {"name": initiator, "country": "CN", "kind": "city", "region": "Shaanxi"},
        "partner": {"name": f"Partner {index:04d}", "country": country, "kind": "city"},
        "tier": "sister_city" if kind == "established" and index % 3 else "friendship_city",
        "stage": "proposed",
        "proposed_on": proposed.isoformat(),
        "fields": rng.sample(FIELDS, rng.randrange(1, 4)),
    }
    if kind == "contact":
        return data
    data["stage"] = "in_talks"
    data["talks_opened_on"] = talks.isoformat()
    approved = talks + timedelta(days=rng.randrange(10, 200))
    if kind == "intent":
        data["tier"] = "friendly_relations"
    data["approvals"] = [
        {
            "side": "initiator",
            "authority": "Shaanxi Foreign Affairs Office",
            "decision": "granted",
            "date": approved.isoformat(),
        }
    ]
    if kind == "approved":
        return data
    signed = approved + timedelta(days=rng.randrange(5, 120))
    if signed > date(2026, 6, 1):
        signed = date(2026, 6, 1)
    data["stage"] = "active"
    data["signed_on"] = signed.isoformat()
    data["signed_at"] = initiator if index % 2 else data["partner"]["name"]
    data["signatories"] = [
        {"side": "initiator", "name": f"Mayor of {initiator}"},
        {"side": "partner", "name": f"Mayor of Partner {index:04d}"},
    ]
    data["exchanges"] = [
        {
            "date": min(_day(rng, signed, 365 * 3), date(2026, 6, 1)).isoformat(),
            "field": rng.choice(FIELDS),
            "kind": "visit",
            "title": f"Delegation visit {n + 1}",
        }
        for n in range(rng.randrange(0, 3))
    ]
    return data


def portfolio(count: int, seed: int = 7, initiator: str = "Xianyang") -> list[dict[str, Any]]:
    """`count` rows in the Shaanxi proportions, in a shuffled but repeatable order."""
    rng = random.Random(seed)
    kinds = [kind for kind, share in MIX for _ in range(share)]
    rng.shuffle(kinds)  # every 140 rows hold the report's counts exactly
    return [row(i, kinds[i % len(kinds)], rng, initiator) for i in range(count)]


def spoil(rows: list[dict[str, Any]], every: int) -> list[int]:
    """Make every `every`-th row bad in a different way; returns their indexes (0-based)."""
    spoiled = []
    for n, index in enumerate(range(every - 1, len(rows), every)):
        bad = rows[index]
        match n % 5:
            case 0:
                bad["tier"] = "best_friends"
            case 1:
                bad["partner"]["country"] = "USA"
            case 2:
                bad["proposed_on"] = "2019-02-30"
            case 3:
                bad["stage"] = "active"  # without a signing
                bad["talks_opened_on"] = bad.get("talks_opened_on") or bad["proposed_on"]
                bad.pop("signed_on", None)
            case _:
                bad["id"] = rows[index - 1]["id"]  # the same partnership twice
        spoiled.append(index)
    return spoiled


def to_json(rows: list[dict[str, Any]]) -> str:
    """One row per line, so a row's line number in the file is its index + 2."""
    return "[\n" + ",\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n]\n"


def _compact(items: list[dict[str, Any]], keys: tuple[str, ...]) -> str:
    return "; ".join("|".join(str(item.get(k, "")) for k in keys).rstrip("|") for item in items)


def to_csv(rows: list[dict[str, Any]]) -> str:
    """The CSV form (header on line 1, so a row's line number is its index + 2)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        cells: dict[str, Any] = {name: r.get(name, "") for name in CSV_COLUMNS}
        for side in ("initiator", "partner"):
            party = r[side]
            cells[side] = party["name"]
            cells[f"{side}_country"] = party["country"]
            cells[f"{side}_kind"] = party.get("kind", "")
            cells[f"{side}_region"] = party.get("region", "")
        cells["fields"] = ";".join(r["fields"])
        cells["languages"] = ";".join(r.get("languages", []))
        by = r.get("proposed_by")
        cells["proposed_by"] = "|".join(filter(None, [by["name"], by.get("title")])) if by else ""
        cells["approvals"] = _compact(
            r.get("approvals", []), ("side", "authority", "decision", "date", "reference")
        )
        cells["signatories"] = _compact(r.get("signatories", []), ("side", "name", "title"))
        cells["exchanges"] = _compact(r.get("exchanges", []), ("date", "field", "kind", "title"))
        cells["invitations"] = _compact(
            r.get("invitations", []), ("from_side", "to_side", "event", "date")
        )
        policy = r.get("policy") or {}
        for name in ("term", "renewal_notice", "dormant_after"):
            cells[name] = policy.get(name, "")
        writer.writerow([cells[name] for name in CSV_COLUMNS])
    return out.getvalue()
