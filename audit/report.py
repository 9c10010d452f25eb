"""The auditor's HTML report: self-contained pages (inline CSS and SVG, no network, no script).

For each partnership: the parties, its history on a date axis (quiet and dormant years show
as such), a section per year, the signatories, exchanges by field; and at the top, the
result of checking the whole log's tamper evidence. `render_html` puts every partnership
asked for on one page; `audit.report_site` writes a page each and an index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from audit.export import partnership_ids
from audit.history import summarise
from audit.html_page import page, safe_id, stage_badge
from audit.timeline import Mark, overview_svg, year_groups
from audit.verify import TrustedKey, VerifyReport, verify_store
from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.state import PartnershipState
from store.application import PartnershipStore

TABLE_HEAD = (
    "<thead><tr><th>v</th><th>decided (UTC)</th><th>actor</th><th>via</th>"
    "<th>event</th><th>stage after</th><th>what</th></tr></thead>"
)


def placed_at(stored: PartnershipEvent) -> datetime:
    """Where an event sits on the timeline: when the engine decided it (the workflow's
    clock, carried in the event), which follows the history's order."""
    return stored.event.at


def _bars(counts: dict[str, int]) -> str:
    if not counts:
        return '<p class="muted">No exchanges recorded.</p>'
    top = max(counts.values())
    rows = []
    for i, (name, n) in enumerate(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))):
        y = 4 + i * 24
        w = 160 * n / top
        rows.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(name.replace("_", " "))}</text>'
            f'<rect x="130" y="{y}" width="{w:.0f}" height="16" fill="#3c7ac0"'
            f' data-field="{escape(name)}" data-count="{n}"/>'
            f'<text x="{136 + w:.0f}" y="{y + 13}" font-size="12">{n}</text>'
        )
    height = 8 + 24 * len(counts)
    return (
        f'<svg class="exchanges" width="330" height="{height}"'
        f' viewBox="0 0 330 {height}">{"".join(rows)}</svg>'
    )


def _party(label: str, state: PartnershipState, side: str) -> str:
    party = state.initiator if side == "initiator" else state.partner
    region = f", {escape(party.region)}" if party.region else ""
    return (
        f"<div><strong>{escape(label)}:</strong> {escape(party.name)}{region}"
        f" ({escape(party.country)})</div>"
    )


def parties(state: PartnershipState) -> str:
    """`Mianyang (CN) – Cupertino (US)`, as plain text (escape it to print it)."""
    return (
        f"{state.initiator.name} ({state.initiator.country}) – "
        f"{state.partner.name} ({state.partner.country})"
    )


@dataclass(frozen=True)
class Section:
    """One partnership's part of a report, and what an index says about it."""

    partnership_id: str
    state: PartnershipState
    events: int
    last_event: datetime
    html: str


def section(store: PartnershipStore, pid: str) -> Section | None:
    """The partnership's section, from one pass over its history."""
    history = store.history(pid)
    state: PartnershipState | None = None
    marks: list[Mark] = []
    rows: list[str] = []
    for stored in history:
        state = evolve(state, stored.event, stored.originator_version)
        stage = state.stage.value
        when = placed_at(stored)
        label = stored.event.type.replace("_", " ")
        marks.append(
            Mark(
                version=stored.originator_version,
                type=stored.event.type,
                when=when,
                stage=stage,
                title=f"v{stored.originator_version} {label} — {when:%Y-%m-%d %H:%M} UTC"
                f" — {stored.actor} — {summarise(stored)}",
            )
        )
        rows.append(
            f"<tr class='event-row' data-version='{stored.originator_version}'>"
            f"<td>{stored.originator_version}</td>"
            f"<td>{when:%Y-%m-%d %H:%M:%S}</td><td>{escape(stored.actor)}</td>"
            f"<td>{escape(stored.via)}</td><td>{escape(stored.event.type)}</td>"
            f"<td>{stage_badge(stage)}</td><td>{escape(summarise(stored))}</td></tr>"
        )
    if state is None:
        return None
    signatories = (
        "".join(
            f"<li>{escape(s.name)}"
            + (f", {escape(s.title)}" if s.title else "")
            + f" <span class='muted'>({escape(s.side.value)})</span></li>"
            for s in state.signing.signatories
        )
        if state.signing
        else ""
    )
    signing = (
        f"<p>Signed {escape(str(state.signing.date))} at {escape(state.signing.place)}"
        f" (draft {state.signing.draft_version})</p><ul>{signatories}</ul>"
        if state.signing
        else '<p class="muted">Not signed.</p>'
    )
    by_field = dict(state.exchanges_by_field)
    anchor = safe_id(pid)
    html = f"""
<section class="partnership" id="p-{anchor}" data-partnership="{escape(pid)}">
  <h2>{escape(state.initiator.name)} – {escape(state.partner.name)}</h2>
  <div class="muted">{escape(pid)} · {escape(state.tier.label)}
   · now {stage_badge(state.stage.value)} · {len(history)} events
   · {marks[0].when:%Y-%m-%d} to {marks[-1].when:%Y-%m-%d}</div>
  <div class="timeline">{overview_svg(f"timeline-{anchor}", marks)}</div>
  <div class="grid">
    <div class="card"><h3>Parties</h3>{_party("Initiator", state, "initiator")}
      {_party("Partner", state, "partner")}
      <div><strong>Proposed by:</strong> {escape(state.proposed_by.name)}</div>
      <div><strong>Fields:</strong> {escape(", ".join(f.value for f in state.fields))}</div></div>
    <div class="card"><h3>Signatories</h3>{signing}</div>
    <div class="card"><h3>Exchanges by field</h3>{_bars(by_field)}</div>
  </div>
  <div class="years">{year_groups(marks, rows, TABLE_HEAD)}</div>
</section>"""
    return Section(pid, state, len(history), marks[-1].when, html)


def verdict(report: VerifyReport, trusted: bool, origin: str) -> str:
    if not report.ok:
        first = escape(report.problems[0].message)
        return f'<div class="verdict bad" id="verification">Tamper check FAILED: {first}</div>'
    if not report.checkpoints:
        return (
            '<div class="verdict none" id="verification">Tamper check: no signed checkpoint'
            f" yet ({report.size} entries, root {report.root.hex()[:16]}…)</div>"
        )
    if not trusted:
        # Keys stored beside the log are the writer's to replace: agreeing with them proves
        # nothing, so the page must not call that a pass.
        return (
            '<div class="verdict none" id="verification">Tamper check NOT done against a'
            f" trusted key: {report.size} entries agree with {report.checkpoints} checkpoint(s)"
            " signed by keys stored in the log itself; run `amity audit verify` with a trusted"
            f" key for a proof (root {report.root.hex()[:16]}…)</div>"
        )
    return (
        f'<div class="verdict ok" id="verification">Tamper check passed: {report.size} entries,'
        f" consistent with {report.checkpoints} checkpoint(s) of {escape(origin)} signed by"
        f" the trusted key; root {report.root.hex()[:16]}…</div>"
    )


def generated() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def render_html(
    store: PartnershipStore,
    partnership_id: str | None,
    trusted: TrustedKey | None = None,
    *,
    origin: str,
) -> tuple[str, int]:
    """The report page; its tamper verdict is a pass only under a `trusted` key from outside
    the store."""
    ids = [partnership_id] if partnership_id else partnership_ids(store)
    sections = [s for s in (section(store, pid) for pid in ids) if s is not None]
    count = sum(s.events for s in sections)
    title = f"Amity audit report: {partnership_id or 'all partnerships'}"
    checked = verdict(verify_store(store, trusted, origin=origin), trusted is not None, origin)
    header = f"<div>{len(ids)} partnership(s), {count} events · generated {generated()}</div>"
    return page(title, header, checked + "".join(s.html for s in sections)), count


def write_html(
    store: PartnershipStore,
    partnership_id: str | None,
    out: Path,
    trusted: TrustedKey | None = None,
    *,
    origin: str,
) -> int:
    html, count = render_html(store, partnership_id, trusted, origin=origin)
    out.write_text(html, encoding="utf-8")
    return count
