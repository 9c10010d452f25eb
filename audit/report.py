"""The auditor's HTML report: one self-contained file (inline CSS and SVG, no network).

For each partnership: the parties, a timeline of its stages and events a person can read
at a glance, the signatories, exchanges by field; and at the top, the result of checking
the whole log's tamper evidence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from pathlib import Path

from audit.export import partnership_ids
from audit.history import summarise
from audit.verify import TrustedKey, VerifyReport, verify_store
from domain.aggregate import PartnershipEvent
from domain.decider import evolve
from domain.state import PartnershipState
from store.application import PartnershipStore

STAGE_COLOURS = {
    "proposed": "#8aa4c8",
    "in_talks": "#e0b050",
    "active": "#3c9a5f",
    "dormant": "#9a9a9a",
    "withdrawn": "#b06060",
    "rejected": "#c04040",
    "expired": "#806080",
    "terminated": "#803030",
}

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;
background:#f5f6f8}
header.top{background:#1d2f4a;color:#fff;padding:18px 28px}
header.top h1{margin:0;font-size:22px}
main{padding:10px 28px 40px}
section.partnership{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;
margin:18px 0;padding:16px 22px}
h2{margin:4px 0 2px;font-size:19px}
.muted{color:#5b6575;font-size:13px}
.verdict{padding:10px 14px;border-radius:6px;margin:14px 0;font-weight:600}
.verdict.ok{background:#e3f4e8;color:#1d6b37}
.verdict.bad{background:#fbe4e4;color:#8a1f1f}
.verdict.none{background:#eef0f4;color:#3b4556}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:14px}
.card{border:1px solid #e1e4ea;border-radius:6px;padding:10px 12px}
.card h3{margin:0 0 6px;font-size:14px;text-transform:uppercase;letter-spacing:.04em;
color:#46536a}
table.events{border-collapse:collapse;width:100%;font-size:13px;margin-top:10px}
table.events th,table.events td{border-bottom:1px solid #e6e8ee;padding:4px 6px;
text-align:left;vertical-align:top}
.stage{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px}
svg text{font-family:system-ui,sans-serif}
.timeline{overflow-x:auto}
"""


def _stage_badge(stage: str) -> str:
    colour = STAGE_COLOURS.get(stage, "#666")
    return f'<span class="stage" style="background:{colour}">{escape(stage)}</span>'


def _timeline(pid: str, events: list[PartnershipEvent], stages: list[str]) -> str:
    """One dot per event on a line, over bands coloured by the stage it led to."""
    step, left, height = 90, 120, 175
    width = left + 40 + step * max(len(events) - 1, 1)
    parts = [
        f'<svg class="timeline-svg" id="timeline-{escape(pid)}" width="{width}"'
        f' height="{height}" viewBox="0 0 {width} {height}" role="img"'
        f' aria-label="timeline of {escape(pid)}">'
    ]
    last = len(stages) - 1
    for i, stage in enumerate(stages):
        start = left - 24 if i == 0 else left + step * i - step / 2
        end = left + step * i + (24 if i == last else step / 2)
        parts.append(
            f'<rect class="band" x="{start:.0f}" y="52" width="{end - start:.0f}" height="16"'
            f' fill="{STAGE_COLOURS.get(stage, "#666")}" opacity="0.85"/>'
        )
    changes = [i for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]]
    for i in changes:
        parts.append(
            f'<text x="{left + step * i}" y="44" font-size="12" font-weight="600"'
            f' fill="{STAGE_COLOURS.get(stages[i], "#666")}">{escape(stages[i])}</text>'
        )
    for i, stored in enumerate(events):
        x = left + step * i
        label = stored.event.type.replace("_", " ")
        when = f"{stored.timestamp:%Y-%m-%d %H:%M:%S} UTC"
        parts.append(
            f'<g class="event" data-version="{stored.originator_version}"'
            f' data-type="{escape(stored.event.type)}">'
            f"<title>v{stored.originator_version} {escape(label)} — {escape(when)}"
            f" — {escape(stored.actor)}</title>"
            f'<circle cx="{x}" cy="60" r="9" fill="#fff" stroke="#1d2f4a" stroke-width="3"/>'
            f'<text x="{x}" y="64" font-size="9" text-anchor="middle">'
            f"{stored.originator_version}</text>"
            f'<text x="{x}" y="90" font-size="11" text-anchor="end"'
            f' transform="rotate(-35 {x} 90)">{escape(label)}</text>'
            "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)


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
            f'<rect x="130" y="{y}" width="{w:.0f}" height="16" fill="#3c7ac0"/>'
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


def _section(store: PartnershipStore, pid: str) -> str:
    events = store.history(pid)
    state: PartnershipState | None = None
    stages: list[str] = []
    for stored in events:
        state = evolve(state, stored.event, stored.originator_version)
        stages.append(state.stage.value)
    if state is None:
        return ""
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
    rows = "".join(
        f"<tr class='event-row'><td>{e.originator_version}</td>"
        f"<td>{e.timestamp:%Y-%m-%d %H:%M:%S}</td><td>{escape(e.actor)}</td>"
        f"<td>{escape(e.via)}</td><td>{escape(e.event.type)}</td>"
        f"<td>{_stage_badge(stage)}</td><td>{escape(summarise(e))}</td></tr>"
        for e, stage in zip(events, stages, strict=True)
    )
    return f"""
<section class="partnership" id="p-{escape(pid)}" data-partnership="{escape(pid)}">
  <h2>{escape(state.initiator.name)} – {escape(state.partner.name)}</h2>
  <div class="muted">{escape(pid)} · {escape(state.tier.label)}
   · now {_stage_badge(state.stage.value)} · {len(events)} events</div>
  <div class="timeline">{_timeline(pid, events, stages)}</div>
  <div class="grid">
    <div class="card"><h3>Parties</h3>{_party("Initiator", state, "initiator")}
      {_party("Partner", state, "partner")}
      <div><strong>Proposed by:</strong> {escape(state.proposed_by.name)}</div>
      <div><strong>Fields:</strong> {escape(", ".join(f.value for f in state.fields))}</div></div>
    <div class="card"><h3>Signatories</h3>{signing}</div>
    <div class="card"><h3>Exchanges by field</h3>{_bars(by_field)}</div>
  </div>
  <table class="events"><thead><tr><th>v</th><th>recorded (UTC)</th><th>actor</th><th>via</th>
  <th>event</th><th>stage after</th><th>what</th></tr></thead><tbody>{rows}</tbody></table>
</section>"""


def _verdict(report: VerifyReport, trusted: bool, origin: str) -> str:
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
    sections = [_section(store, pid) for pid in ids]
    count = sum(len(store.history(pid)) for pid in ids)
    title = f"Amity audit report: {partnership_id or 'all partnerships'}"
    made = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    verdict = _verdict(verify_store(store, trusted, origin=origin), trusted is not None, origin)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{CSS}</style></head>
<body><header class="top"><h1>{escape(title)}</h1>
<div>{len(ids)} partnership(s), {count} events · generated {made}</div></header>
<main>{verdict}{"".join(sections)}</main></body></html>
"""
    return page, count


def write_html(
    store: PartnershipStore,
    partnership_id: str | None,
    out: Path,
    trusted: TrustedKey | None = None,
    *,
    origin: str,
) -> int:
    page, count = render_html(store, partnership_id, trusted, origin=origin)
    out.write_text(page, encoding="utf-8")
    return count
