"""The frame every audit page shares: one self-contained HTML file under a strict CSP.

The page loads nothing (no script, font, image or style from anywhere): its only style
sheet is inline and allowed by its sha256 in the page's own Content-Security-Policy, so
the page works offline, opened from a file or served behind `default-src 'none'`, and a
string from the store that slipped past escaping still could not run. Style attributes
are never used (the policy blocks them); SVG presentation attributes carry the colours.
"""

from __future__ import annotations

import base64
import hashlib
import re
from html import escape

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
#: The lifecycle's order, for charts and legends.
STAGE_ORDER = tuple(STAGE_COLOURS)
OTHER_COLOUR = "#666666"

BASE_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d2430;
background:#f5f6f8}
header.top{background:#1d2f4a;color:#fff;padding:18px 28px}
header.top h1{margin:0;font-size:22px}
header.top a{color:#cfe0ff}
main{padding:10px 28px 40px}
section.partnership,section.chart{background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002;
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
table.events,table.index{border-collapse:collapse;width:100%;font-size:13px;margin-top:10px}
table.events th,table.events td,table.index th,table.index td{border-bottom:1px solid #e6e8ee;
padding:4px 6px;text-align:left;vertical-align:top}
table.index{background:#fff;font-size:14px}
.stage{display:inline-block;border-radius:10px;padding:0 8px;color:#fff;font-size:12px}
.stage.s-other{background:#666}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600}
.tag.verified{background:#e3f4e8;color:#1d6b37}
.tag.tampered{background:#fbe4e4;color:#8a1f1f}
.tag.uncovered,.tag.unverified{background:#eef0f4;color:#3b4556}
svg text{font-family:system-ui,sans-serif}
.timeline{overflow-x:auto}
details.year{border-top:1px solid #e6e8ee;padding:4px 0}
details.year>summary{cursor:pointer;font-weight:600;padding:4px 0}
p.quiet-years{margin:4px 0;color:#6b5a2a;font-size:13px}
"""


def _stage_css() -> str:
    return "".join(
        f".stage.s-{stage}{{background:{colour}}}" for stage, colour in STAGE_COLOURS.items()
    )


def stage_token(stage: str) -> str:
    """A stage as a CSS class suffix: a known stage, or `other` (never a stored string)."""
    return stage if stage in STAGE_COLOURS else "other"


def stage_colour(stage: str) -> str:
    return STAGE_COLOURS.get(stage, OTHER_COLOUR)


def stage_badge(stage: str) -> str:
    return f'<span class="stage s-{stage_token(stage)}">{escape(stage.replace("_", " "))}</span>'


def safe_id(text: str) -> str:
    """An element id or file name made from a stored string: only [a-z0-9_.-] survive."""
    return re.sub(r"[^a-z0-9_.-]+", "-", text.lower())[:120] or "x"


def policy(css: str) -> str:
    """The page's Content-Security-Policy: nothing may load or run; only this style sheet."""
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode()
    return (
        f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'none'; "
        "base-uri 'none'; form-action 'none'"
    )


def page(title: str, header: str, body: str, extra_css: str = "") -> str:
    """A whole page: `header` and `body` are HTML the caller escaped already."""
    css = BASE_CSS + _stage_css() + extra_css
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{escape(policy(css))}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{css}</style></head>
<body><header class="top"><h1>{escape(title)}</h1>{header}</header>
<main>{body}</main></body></html>
"""
