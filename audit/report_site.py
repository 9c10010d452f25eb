"""The report for every partnership as a folder: `index.html` and one page per partnership.

The index lists each partnership with its parties, tier, stage, last event and the tamper
verdict for its own records: `tampered` when a record of it is where verification found a
discrepancy, `uncovered` when some of its records are newer than every checkpoint, `verified`
when all of them are under a checkpoint checked with a trusted key, `unverified` otherwise
(no trusted key, no checkpoint, or the log failed elsewhere). The log is verified once and
walked once more to know whose records sit at which positions; each page is written as soon
as it is made, so memory holds the index rows, not the pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from audit.html_page import page, safe_id, stage_badge
from audit.log import entries
from audit.report import generated, parties, section, verdict
from audit.verify import TrustedKey, VerifyReport, verify_store
from store.application import PartnershipStore

VERDICTS = {
    "verified": "every record is under a checkpoint verified with a trusted key",
    "tampered": "verification found a discrepancy in a record of this partnership",
    "uncovered": "some records are newer than the last checkpoint: run `amity audit checkpoint`",
    "unverified": "not verified with a trusted key (no key, no checkpoint, or the log failed)",
}


@dataclass(frozen=True)
class Row:
    partnership_id: str
    page: str
    parties: str
    tier: str
    stage: str
    events: int
    last_event: datetime
    verdict: str


@dataclass(frozen=True)
class Site:
    index: Path
    rows: list[Row]
    events: int
    report: VerifyReport


def verdicts(
    store: PartnershipStore, report: VerifyReport, trusted: bool
) -> tuple[list[str], dict[str, str]]:
    """Every partnership in order of first appearance, and the verdict on its records."""
    bad = {p.position for p in report.problems if p.position is not None}
    owner: dict[bytes, str] = {}
    order: list[str] = []
    found: dict[str, str] = {}
    for entry in entries(store):
        if entry.originator_version == 1:
            pid = str(store.readable(entry.state)["workflow_id"])
            owner[entry.originator] = pid
            order.append(pid)
        pid = owner.get(entry.originator, "")
        if entry.position in bad:
            found[pid] = "tampered"
        elif found.get(pid) != "tampered" and entry.position >= report.covered:
            found[pid] = "uncovered"
    settled = report.ok and trusted and report.checkpoints > 0
    return order, {
        pid: found.get(pid) or ("verified" if settled else "unverified") for pid in order
    }


def _tag(name: str) -> str:
    return f'<span class="tag {name}" title="{escape(VERDICTS[name])}">{name}</span>'


def _file_names(ids: list[str]) -> dict[str, str]:
    """A distinct, harmless file name per partnership (never `index.html`)."""
    taken = {"index"}
    names: dict[str, str] = {}
    for pid in ids:
        stem = base = safe_id(pid)
        n = 2
        while stem in taken:
            stem, n = f"{base}-{n}", n + 1
        taken.add(stem)
        names[pid] = f"{stem}.html"
    return names


def write_site(
    store: PartnershipStore,
    out: Path,
    trusted: TrustedKey | None = None,
    *,
    origin: str,
) -> Site:
    """Write `out/index.html` and a page per partnership into the folder `out`."""
    report = verify_store(store, trusted, origin=origin)
    checked = verdict(report, trusted is not None, origin)
    ids, judged = verdicts(store, report, trusted is not None)
    names = _file_names(ids)
    out.mkdir(exist_ok=True)
    rows: list[Row] = []
    for pid in ids:
        made = section(store, pid)
        if made is None:
            continue
        own = f"<p>Records of this partnership: {_tag(judged[pid])}</p>"
        header = '<div><a href="index.html">← all partnerships</a></div>'
        (out / names[pid]).write_text(
            page(f"Amity audit report: {pid}", header, checked + own + made.html),
            encoding="utf-8",
        )
        rows.append(
            Row(
                pid,
                names[pid],
                parties(made.state),
                made.state.tier.label,
                made.state.stage.value,
                made.events,
                made.last_event,
                judged[pid],
            )
        )
    total = sum(r.events for r in rows)
    body = "".join(
        f'<tr class="partnership-row" data-partnership="{escape(r.partnership_id)}"'
        f' data-stage="{escape(r.stage)}" data-verdict="{r.verdict}">'
        f'<td><a href="{escape(r.page)}">{escape(r.partnership_id)}</a></td>'
        f"<td>{escape(r.parties)}</td><td>{escape(r.tier)}</td><td>{stage_badge(r.stage)}</td>"
        f"<td>{r.events}</td><td>{r.last_event:%Y-%m-%d}</td><td>{_tag(r.verdict)}</td></tr>"
        for r in rows
    )
    table = (
        '<table class="index"><thead><tr><th>partnership</th><th>parties</th><th>tier</th>'
        "<th>stage</th><th>events</th><th>last event</th><th>verdict</th></tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )
    header = f"<div>{len(rows)} partnership(s), {total} events · generated {generated()}</div>"
    index = out / "index.html"
    index.write_text(
        page("Amity audit report: all partnerships", header, checked + table), encoding="utf-8"
    )
    return Site(index, rows, total, report)
