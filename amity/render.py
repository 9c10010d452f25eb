"""How `amity` shows a partnership to people: rich summaries and tables (JSON is for scripts)."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text


def _label(value: str | None) -> str:
    return (value or "-").replace("_", " ")


def _party(party: dict[str, Any]) -> str:
    return f"{party['name']} ({party['country']})"


def _person(person: dict[str, Any] | None) -> str:
    if not person:
        return "-"
    text = str(person["name"])
    if person.get("title"):
        text += f", {person['title']}"
    if person.get("side"):
        text += f" [{person['side']}]"
    return text


def _day(value: str | None) -> str:
    """`2019-11-15T00:00:00+00:00` -> `2019-11-15 00:00 UTC`; dates stay as they are."""
    if not value:
        return "-"
    if "T" not in value:
        return value
    day, _, time = value.partition("T")
    return f"{day} {time[:5]} UTC"


def outcome_line(status: dict[str, Any]) -> str:
    """One line about what an Update just did."""
    outcome = status.get("outcome") or {}
    command = outcome.get("command", "command")
    if outcome.get("duplicate"):
        text = (
            f"{command}: already applied (request_id {outcome.get('request_id')}), nothing changed"
        )
    else:
        text = f"{command} applied: version {outcome.get('version', status['version'])}"
        if outcome.get("request_id"):
            text += f" (request_id {outcome['request_id']})"
    extras = []
    if outcome.get("draft_version") is not None:
        extras.append(f"draft version {outcome['draft_version']}")
    if outcome.get("invitation_id"):
        extras.append(f"invitation {outcome['invitation_id']}")
    if extras:
        text += " · " + ", ".join(extras)
    return f"{text} · stage {_label(status['stage'])}"


def status_view(status: dict[str, Any]) -> RenderableType:
    """The readable summary of a `status` object."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")

    def row(name: str, value: str | Text) -> None:
        grid.add_row(name, value if isinstance(value, Text) else Text(value))

    row("partnership", status["partnership_id"])
    row("stage", f"{_label(status['stage'])} (since {_day(status.get('stage_since'))})")
    row("tier", _label(status["tier"]))
    row("parties", f"{_party(status['initiator'])} ↔ {_party(status['partner'])}")
    row("proposed by", _person(status.get("proposed_by")))
    row("fields", ", ".join(_label(f) for f in status.get("fields", [])) or "-")
    if status.get("closing_reason"):
        row("closed", str(status["closing_reason"]))

    required = status.get("required_approvals") or []
    approvals = status.get("approvals") or []
    approval_lines = [
        f"{a['authority']} ({a['side']}): {a['decision']}"
        + (f", ref {a['reference']}" if a.get("reference") else "")
        + (f", {a['date']}" if a.get("date") else "")
        for a in approvals
    ]
    missing = status.get("missing_approvals") or []
    approval_lines += [f"{m['authority']} ({m['side']}): missing" for m in missing]
    if approval_lines or required:
        row("approvals", "\n".join(approval_lines) or "-")

    meetings = status.get("meetings") or []
    if meetings:
        row("meetings", "\n".join(f"{m['date']} at {m['place']}" for m in meetings))

    drafts = status.get("drafts") or []
    row(
        "drafts",
        "\n".join(
            f"v{d['draft_version']}: {d['title']} ({', '.join(d.get('languages', []))})"
            for d in drafts
        )
        or "-",
    )
    signing = status.get("signing")
    if signing:
        signatories = "; ".join(_person(p) for p in signing.get("signatories", []))
        row(
            "signed",
            f"{signing['date']} at {signing['place']} (draft v{signing['draft_version']})"
            f" by {signatories}",
        )
    else:
        row("signed", "not yet")

    exchanges = status.get("exchanges") or {}
    if exchanges:
        row(
            "exchanges",
            ", ".join(f"{_label(field)}: {count}" for field, count in exchanges.items())
            + (f" (last {status['last_exchange_on']})" if status.get("last_exchange_on") else ""),
        )
    else:
        row("exchanges", "none yet")

    invitations = status.get("open_invitations") or []
    if invitations:
        row(
            "open invitations",
            "\n".join(
                f"{i['invitation_id']}: {i['from_side']} invites {i['to_side']} to {i['event']}"
                + (f" ({i['date']})" if i.get("date") else "")
                for i in invitations
            ),
        )
    if status.get("talks_deadline") and status["stage"] in ("proposed", "in_talks"):
        row("talks deadline", _day(status["talks_deadline"]))
    row("expires", _day(status.get("expires_on")) if status.get("expires_on") else "no term")
    rejected = status.get("rejected") or []
    if rejected:
        row(
            "rejected signals",
            Text("\n".join(f"{r['command']}: {r['reason']}" for r in rejected), style="red"),
        )
    corrections = status.get("corrections") or []
    if corrections:
        row(
            "corrections",
            "\n".join(f"v{c['target_version']}: {c['reason']}" for c in corrections),
        )
    row("version", str(status["version"]))
    return grid


def send_view(status: dict[str, Any]) -> RenderableType:
    return Group(Text(outcome_line(status), style="green"), status_view(status))


def list_table(rows: list[dict[str, Any]], title: str) -> Table:
    """Fits an 80-column terminal: a stage never wraps, a tier or a date wraps between its
    words, and the long texts (ids, cities) fold, so no word is cut into letters."""
    table = Table(
        title=title,
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("id", overflow="fold", min_width=10)
    table.add_column("stage", no_wrap=True, min_width=10)
    table.add_column("tier", min_width=9)  # words wrap: "friendly / relations"
    table.add_column("cities", overflow="fold", min_width=8)
    table.add_column("countries", min_width=3)
    table.add_column("started (UTC)", min_width=10)  # the time goes below the date
    table.add_column("workflow", overflow="fold", min_width=9)
    for item in rows:
        started = (item.get("started_at") or "")[:16].replace("T", " ")
        table.add_row(
            *map(Text, cells(item, started)),
        )
    return table


def cells(item: dict[str, Any], started: str) -> list[str]:
    return [
        item["partnership_id"],
        _label(item.get("stage")),
        _label(item.get("tier")),
        " ↔ ".join(item.get("cities") or []),
        ", ".join(item.get("countries") or []),
        started,
        item.get("status") or "-",
    ]
