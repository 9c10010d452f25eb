"""The audit's pictures in a real Chromium: the timeline on a date axis, the folder report's
index, the portfolio's charts; every page offline, under its own strict CSP, and a hostile
name from the store shown as text. Screenshots are kept under test-artifacts/audit/."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from amity import story
from audit.timeline import Mark, ticks, year_groups
from store.application import PartnershipStore
from tests.audit.conftest import AuditCli, tell_story
from tests.audit.long_story import DORMANT_AT, WOKEN_AT, tell_long_story
from tests.chromium import ARGS, chromium_or_skip, private_dirs

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "audit"
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)>"
LONG = "partnership-mianyang-cupertino"


class Browser:
    """One page of a headless Chromium that records every console error, page error,
    request to anywhere and dialog (a script that ran would open one)."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.problems: list[str] = []
        page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        page.on("pageerror", lambda e: self.problems.append(str(e)))
        page.on(
            "request", lambda r: None if r.url.startswith("file:") else self.problems.append(r.url)
        )
        page.on("dialog", lambda d: (self.problems.append(f"dialog {d.message}"), d.dismiss()))

    def open(self, path: Path) -> Any:
        self.page.goto(path.as_uri())
        return self.page

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_or_skip()
    home = Path(tempfile.mkdtemp(prefix="amity-chromium-", dir="/tmp"))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(executable), args=ARGS, env=private_dirs(home)
            )
            yield browser
            browser.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(5_000)
    opened = Browser(page)
    yield opened
    page.close()
    assert opened.problems == []


def _centre_x(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None and box["width"] > 0 and box["height"] > 0
    return float(box["x"] + box["width"] / 2)


def _site(store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path) -> Path:
    tell_long_story(store, LONG)
    hostile = {**story.proposal(), "initiator": {"name": HOSTILE, "country": "CN"}}
    tell_long_story(store, "partnership-hostile", hostile)
    assert audit_cli("checkpoint").exit_code == 0
    tell_story(store, "partnership-a-b")  # after the checkpoint: not covered yet
    out = tmp_path / "report"
    made = audit_cli("report", "--out", str(out), "--json")
    assert made.exit_code == 0, made.stderr
    assert json.loads(made.stdout)["verdicts"] == {
        LONG: "verified",
        "partnership-hostile": "verified",
        "partnership-a-b": "uncovered",
    }
    return out


def test_timeline_places_every_event_by_date_with_the_dormant_years_visible(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path, browser: Browser
) -> None:
    dates = tell_long_story(store, LONG)
    out = tmp_path / "report"
    assert audit_cli("report", "--out", str(out)).exit_code == 0
    html = (out / f"{LONG}.html").read_text()
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert 'style="' not in html  # the page's CSP would block it

    page = browser.open(out / f"{LONG}.html")
    marks = page.locator(f"#timeline-{LONG} g.event")
    assert marks.count() == len(dates) == 16
    xs = [_centre_x(marks.nth(i)) for i in range(len(dates))]
    shown = [marks.nth(i).get_attribute("data-date") for i in range(len(dates))]
    assert shown == [f"{d:%Y-%m-%d}" for d in dates]
    for i in range(1, len(dates)):  # left to right by date; the same day shares an x
        if dates[i] > dates[i - 1] + timedelta(days=1):
            assert xs[i] > xs[i - 1], (i, xs)
        else:
            assert abs(xs[i] - xs[i - 1]) < 2, (i, xs)
    # distances on screen are proportional to time: the 620 dormant days take 620/1662 of it
    span = (dates[-1] - dates[0]).total_seconds()
    dormant = dates.index(DORMANT_AT), dates.index(WOKEN_AT)
    share = (WOKEN_AT - DORMANT_AT).total_seconds() / span
    assert (xs[dormant[1]] - xs[dormant[0]]) / (xs[-1] - xs[0]) == pytest.approx(share, abs=0.01)
    three_weeks = xs[1] - xs[0]
    assert xs[dormant[1]] - xs[dormant[0]] > 25 * three_weeks
    # the dormant stage is a grey band over exactly that stretch, and it is marked as quiet
    band = page.locator(f"#timeline-{LONG} rect.band[data-stage='dormant']")
    assert band.count() == 1
    box = band.bounding_box()
    assert box is not None
    assert box["x"] == pytest.approx(xs[dormant[0]], abs=1.5)
    assert box["x"] + box["width"] == pytest.approx(xs[dormant[1]], abs=1.5)
    quiet = page.locator(f"#timeline-{LONG} g.quiet[data-from='2019-06-01']")
    assert quiet.get_attribute("data-to") == "2021-02-10"
    assert quiet.locator("text").text_content() == "quiet 20 months"

    # a section per year with events, the empty year named, each one folding away
    years = page.locator("details.year")
    assert [years.nth(i).get_attribute("data-year") for i in range(years.count())] == [
        "2017",
        "2018",
        "2019",
        "2021",
        "2022",
    ]
    assert page.locator("p.quiet-years").inner_text() == "No events in 2020 (stage: dormant)."
    year_2018 = page.locator("details.year[data-year='2018']")
    assert year_2018.locator("svg.year-svg g.year-event").count() == 6
    assert year_2018.locator("tr.event-row").count() == 6
    assert year_2018.locator("svg.year-svg").is_visible()
    browser.shot("timeline-long-history")
    year_2018.locator("summary").click()
    assert not year_2018.locator("svg.year-svg").is_visible()
    assert page.locator("details.year[data-year='2019'] tr.event-row").is_visible()
    page.locator(f"#timeline-{LONG}").screenshot(path=str(ARTIFACTS / "timeline-overview.png"))
    # the inline style sheet was allowed by the page's CSP (its hash), so it applied
    colour = page.evaluate("getComputedStyle(document.querySelector('header.top')).backgroundColor")
    assert colour == "rgb(29, 47, 74)"


def test_index_lists_every_partnership_and_its_links_open_their_pages(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path, browser: Browser
) -> None:
    out = _site(store, audit_cli, tmp_path)
    page = browser.open(out / "index.html")
    rows = page.locator("tr.partnership-row")
    assert rows.count() == 3
    first = rows.nth(0)
    cells = [first.locator("td").nth(i).inner_text() for i in range(7)]
    assert cells == [
        LONG,
        "Mianyang (CN) – Cupertino (US)",
        "friendly relations",
        "active",
        "16",
        "2022-04-20",
        "verified",
    ]
    assert rows.nth(2).get_attribute("data-verdict") == "uncovered"
    browser.shot("index")
    for i in range(3):
        row = page.locator("tr.partnership-row").nth(i)
        pid = row.get_attribute("data-partnership")
        row.get_by_role("link").click()
        assert page.locator("section.partnership").get_attribute("data-partnership") == pid
        assert page.locator(f"#timeline-{pid} g.event").count() >= 11
        page.get_by_role("link", name="← all partnerships").click()
        assert page.locator("tr.partnership-row").count() == 3


def test_a_hostile_name_from_the_store_is_shown_as_text(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path, browser: Browser
) -> None:
    out = _site(store, audit_cli, tmp_path)
    for name in ("index.html", "partnership-hostile.html"):
        html = (out / name).read_text()
        assert "<script" not in html and "<img" not in html
        page = browser.open(out / name)
        assert page.locator("script, img").count() == 0
        assert page.get_by_text(HOSTILE).first.is_visible()
    page.locator("section.partnership h2").screenshot(path=str(ARTIFACTS / "hostile-name.png"))
    # the same through the single-file export
    single = tmp_path / "one.html"
    assert audit_cli("export", "--format", "html", "--out", str(single)).exit_code == 0
    page = browser.open(single)
    assert page.locator("script, img").count() == 0
    assert page.locator("section.partnership").count() == 3


def test_portfolio_bars_carry_the_read_models_numbers(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path, browser: Browser
) -> None:
    tell_long_story(store, LONG)
    tell_story(store, "partnership-a-b")
    hostile = {**story.proposal(), "partner": {"name": HOSTILE, "country": "US"}}
    tell_long_story(store, "partnership-hostile", hostile)
    out = tmp_path / "portfolio.html"
    made = audit_cli("stats", "--format", "html", "--out", str(out))
    assert made.exit_code == 0, made.stderr
    stats = json.loads(audit_cli("stats", "--json").stdout)
    assert stats["pipeline_by_stage"] == {"active": 3}

    page = browser.open(out)
    browser.shot("portfolio")

    def segments(chart: str) -> dict[tuple[str, str], int]:
        found = page.locator(f"#{chart} g.bar rect.segment")
        result = {}
        for i in range(found.count()):
            rect = found.nth(i)
            bar = rect.locator("xpath=..").get_attribute("data-label")
            result[(bar, rect.get_attribute("data-key"))] = int(rect.get_attribute("data-count"))
            assert rect.bounding_box()["width"] > 0  # type: ignore[index]
        return result

    assert segments("chart-in-force") == {
        ("Mianyang (CN)", "friendly_relations"): 3,
        ("Cupertino (US)", "friendly_relations"): 2,
        (f"{HOSTILE} (US)", "friendly_relations"): 1,
    }
    assert segments("chart-pipeline") == {("active", "active"): 3}
    expected: dict[tuple[str, str], int] = {}
    for row in stats["exchanges_by_field_and_year"]:
        expected[(str(row["year"]), row["field"])] = row["count"]
    assert segments("chart-exchanges") == expected
    assert expected[("2018", "science_technology")] == 3  # the story's summit, three times
    assert expected[("2022", "culture")] == 2
    mianyang = page.locator("#chart-in-force g.bar[data-label='Mianyang (CN)']")
    assert mianyang.locator("text.total").text_content() == "3"
    assert mianyang.locator("title").first.text_content() == "Mianyang (CN) · friendly relations: 3"
    # longest bar for the largest count
    widths = {
        label: page.locator(f"#chart-in-force g.bar[data-label='{label}'] rect").bounding_box()
        for label in ("Mianyang (CN)", "Cupertino (US)")
    }
    assert widths["Mianyang (CN)"]["width"] == pytest.approx(  # type: ignore[index]
        1.5 * widths["Cupertino (US)"]["width"],
        rel=0.01,  # type: ignore[index]
    )
    assert page.locator("script, img").count() == 0


# -- without a browser -------------------------------------------------------------------


def test_stats_and_report_options_refuse_mistakes_in_one_line(
    store: PartnershipStore, audit_cli: AuditCli, tmp_path: Path
) -> None:
    tell_story(store, "partnership-a-b")
    for args, says in [
        (("stats", "--format", "html"), "--format html writes a page: give --out FILE.html"),
        (("stats", "--out", str(tmp_path / "x.html")), "--out is for --format html"),
        (("stats", "--format", "html", "--out", "/nonexistent/x.html"), "does not exist"),
        (("report", "--out", "/nonexistent/folder"), "does not exist"),
    ]:
        made = audit_cli(*args)
        assert made.exit_code == 2, (args, made.stdout)
        assert says in made.stderr and len(made.stderr.strip().splitlines()) == 1
    (tmp_path / "file").write_text("")
    made = audit_cli("report", "--out", str(tmp_path / "file"))
    assert made.exit_code == 2 and "not a folder" in made.stderr
    table = audit_cli("stats")
    assert table.exit_code == 0 and "Pipeline by stage" in table.stdout


def test_ticks_follow_the_calendar_at_every_span() -> None:
    day = datetime(2019, 5, 14, 9, tzinfo=UTC)
    assert [t for _, t in ticks(day, day + timedelta(days=3))] == [
        "2019-05-15",
        "2019-05-16",
        "2019-05-17",
    ]
    assert [t for _, t in ticks(day, day + timedelta(days=200))][:3] == [
        "Jun 2019",
        "Jul 2019",
        "Aug 2019",
    ]
    assert [t for _, t in ticks(day, day + timedelta(days=365 * 7))][:2] == ["2020", "2021"]
    assert [t for _, t in ticks(day, day + timedelta(days=365 * 60))][:2] == ["2020", "2025"]


def test_a_long_history_opens_its_latest_year_only() -> None:
    start = datetime(2001, 1, 1, tzinfo=UTC)
    marks = [
        Mark(v, "exchange_recorded", start + timedelta(days=30 * v), "active", f"v{v}")
        for v in range(1, 301)
    ]
    html = year_groups(marks, [f"<tr><td>{m.version}</td></tr>" for m in marks], "")
    assert html.count('<details class="year"') == 25
    assert html.count(" open>") == 1 and 'data-year="2025" open>' in html
    few = year_groups(marks[:20], ["<tr></tr>"] * 20, "")
    assert few.count(" open>") == few.count('<details class="year"') == 2
