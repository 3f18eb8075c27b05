"""Browser tests: the portal in Debian's Chromium, driven by Playwright, as a resident sees it.

The browser is ``/usr/bin/chromium`` (``CHROMIUM`` to choose another), which
scripts/test installs with apt; Playwright's own browser downloads are never
used. A Chromium that cannot start fails the tests with a message saying so.

One browser per pytest process, for all the tests of this folder; each test that acts
has a fresh context (its own cookies, so its own resident). The tests that only read
pages (test_pages.py) share one context and one tab per module, emptied of cookies
before each test (a new resident every time, as a fresh context would be; Playwright's
routing keeps the HTTP cache off): a fresh context's renderer process and first page
(fonts found, scripts compiled) cost more than a page's checks. The pages come from a real
HTTP server on 127.0.0.1 (Django's ``LiveServerThread``, which pytest-django's
``live_server`` also runs) serving the real 2023 report and survey, with enough
residents' scores that the charts, the map's colours and the intervals are drawn,
loaded and committed once for this folder and flushed after it. pytest-django's
``live_server`` fixture itself would make every test transactional, which empties
the database after each test and would load the report ~40 times; and its static
handler looks files up by their source names, not the fingerprinted names the
pages link, so this server hands static files to WhiteNoise, as production does.

Every page a test opens is watched: a console error, an uncaught exception, or a
request to any host but the live server (which is refused) fails the test.

A failed test's pages are saved as they were then (``failed-<test>-<n>.png``, named in the
test's output) in ``$BROWSER_SCREENSHOTS`` (default ``<tmp>/portal-browser-screenshots``).
With ``BROWSER_SCREENSHOTS`` set, the pages a reviewer looks at are saved there too: each
page's (``page-<type>-<width>.png``) and the journey's end (``journey-<display>-my-data.png``);
without it they are not taken (a whole phone page costs a second to encode).
"""

import io
import os
import re
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.base import AXE_SCRIPT
from django.core.management import call_command
from django.db import connection
from django.test.testcases import LiveServerThread
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from feedback.models import Survey
from indicators.models import Chapter, District, Edition, Indicator, Story
from tests.browser.viewports import PHONE
from tests.scores import residents_rate_and_answer

ROOT = Path(__file__).resolve().parents[2]
REPORT_FILE = ROOT / "indicators" / "data" / "report_2023.yaml"
SURVEY_FILE = ROOT / "feedback" / "data" / "survey_2023.yaml"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(
    os.environ.get("BROWSER_SCREENSHOTS") or Path(tempfile.gettempdir()) / "portal-browser-screenshots"
)

# Nothing in the background: no update checks, no sync, no field trials; QUIC off so
# that every request the page makes goes through the request interception below.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]
AXE_BLOCKING = {"serious", "critical"}
# axe-core's rules for WCAG 2.0 and 2.1 A and AA, and its best practices: the rules it runs
# by default, named (its experimental and deprecated rules stay off, as by default).
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
# Radios and checkboxes count by their label, which is what a finger presses.
_SMALL_CONTROLS = """(min) => Array.from(document.querySelectorAll(
    'input:not([type=hidden]), select, textarea, button'))
  .filter((el) => el.offsetParent !== null && !el.closest('[aria-hidden=true]'))
  .map((el) => [el, ['radio', 'checkbox'].includes(el.type) && el.labels.length ? el.labels[0] : el])
  .map(([el, target]) => [el, target.getBoundingClientRect()])
  .filter(([el, box]) => box.height < min || box.width < min)
  .map(([el, box]) => `${el.outerHTML.slice(0, 80)} ${Math.round(box.width)}×${Math.round(box.height)}`)"""

# Runs of text drawn over two lines (a line box below the run's first): each match of ``runs``
# in the visible text, and of ``labelRuns`` in the text inside ``labels``; text inside ``skip``
# and, with ``skipAddresses``, text holding a web address is passed over.
_BROKEN_RUNS = """({runs, skip = null, skipAddresses = false, labels = null, labelRuns = null}) => {
  const broken = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.offsetParent === null || (skip && parent.closest(skip))) continue;
    const address = skipAddresses && node.data.includes('://');
    const found = address ? [] : Array.from(node.data.matchAll(new RegExp(runs, 'g')));
    if (labels && parent.closest(labels)) found.push(...node.data.matchAll(new RegExp(labelRuns, 'g')));
    for (const match of found) {
      const range = document.createRange();
      range.setStart(node, match.index);
      range.setEnd(node, match.index + match[0].length);
      const [first, ...rest] = Array.from(range.getClientRects());
      if (first && rest.some((rect) => rect.top >= first.bottom - 1)) {
        broken.push(`${match[0]} in <${parent.localName} class="${parent.className}">`);
      }
    }
  }
  return broken;
}"""
# Figures: each run of digits with its decimal point or separators.
_FIGURES = {"runs": r"\d[\d.,]*\d"}
# Words: each run of Latin letters, outside a web address; and, in a table's column heads, the
# phrase a cell shows in place of a figure (件数不足), a case's actions (立案) and the workspace's
# chapter names (第1章 首都功能), each run of Chinese characters (between two Han characters a
# line may break, but a label cut in two reads as two words).
_WORDS = {
    "runs": "[A-Za-z]{2,}",
    "skip": "[aria-hidden=true]",
    "skipAddresses": True,
    "labels": (
        ".data-table thead th, .data-table .no-figure,"
        " .review thead th, .review .event__action, .review .chapter-cell, .review .no-figure"
    ),
    "labelRuns": r"[\u4e00-\u9fff]{2,}",
}

# Chinese text that leaves one character alone on its last line (孤字: "…稳步提" above "高"):
# each visible block of text holding no other such block (a paragraph, a heading, a list item,
# a table cell, a label…) with a run of three Han characters, its characters grouped into the
# lines they are drawn on.
_TEXT_BLOCKS = "p, li, th, td, h1, h2, h3, h4, caption, dt, dd, figcaption, label, summary, legend"
_LONE_CHARACTERS = r"""(blocks) => {
  const lone = [];
  for (const block of document.querySelectorAll(blocks)) {
    if (block.querySelector(blocks) || block.offsetParent === null) continue;
    if (block.getBoundingClientRect().width <= 2) continue;  // visually hidden (a honeypot's label)
    if (!/[\u4e00-\u9fff]{3}/.test(block.textContent)) continue;
    const lines = [];  // [top, characters]
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) {
        if (/\s/.test(node.data[i])) continue;
        const range = document.createRange();
        range.setStart(node, i);
        range.setEnd(node, i + 1);
        const box = range.getClientRects()[0];
        if (!box) continue;
        const line = lines.find(([top]) => Math.abs(top - box.top) < box.height / 2);
        if (line) line[1] += node.data[i];
        else lines.push([box.top, node.data[i]]);
      }
    }
    lines.sort((a, b) => a[0] - b[0]);
    if (lines.length > 1 && lines[lines.length - 1][1].length === 1) {
      const text = lines.map(([, characters]) => characters).join(' / ');
      lone.push(`${text} in <${block.localName} class="${block.className}">`);
    }
  }
  return lone;
}"""


# What reaches past the right edge of the window, which a reader would have to scroll sideways
# to see: the page's width, and the innermost boxes that stick out (not those inside a box that
# scrolls or clips them: a wide table in its own scrolling frame is meant to).
_OVERFLOWING = """() => {
  const width = document.documentElement.clientWidth;
  const wide = document.documentElement.scrollWidth;
  if (wide <= width) return [];
  const clipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (getComputedStyle(up).overflowX !== 'visible') return true;
    }
    return false;
  };
  // An element's box, or the content spilling out of it (a line that does not wrap).
  const reach = (el) => {
    const box = el.getBoundingClientRect();
    return Math.max(box.right, box.left + el.scrollWidth);
  };
  const out = (el) => reach(el) > width + 1;
  const culprits = Array.from(document.body.querySelectorAll('*'))
    .filter((el) => out(el) && !clipped(el) && !Array.from(el.children).some(out))
    .slice(0, 5)
    .map((el) => `<${el.localName} class="${el.className}"> "${el.textContent.trim().slice(0, 40)}" `
      + `to ${Math.round(reach(el))} px`);
  return [`the page is ${wide} px wide in a ${width} px window`, ...culprits];
}"""


# Resolves once the browser has drawn two frames: what a resize set off has been drawn.
_TWO_FRAMES = "() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))"


@dataclass(frozen=True)
class Report:
    """Where the loaded report's pages are: one of each kind."""

    year: int
    chapter: str
    indicator: str
    indicator_name: str
    series_indicator: str
    story: str
    district: str
    survey_pk: int


@pytest.fixture(scope="package")
def report(django_db_setup, django_db_blocker) -> Iterator[Report]:
    """The real 2023 report and survey, committed (the server's threads read them), then flushed."""
    with django_db_blocker.unblock():
        try:
            call_command("load_report", str(REPORT_FILE), stdout=io.StringIO())
            call_command("load_survey", str(SURVEY_FILE), stdout=io.StringIO())
            pages = _report_pages(Edition.objects.get(year=2023))
            _residents_scores(pages)
            yield pages
        finally:
            _database_emptied()


def _report_pages(edition: Edition) -> Report:
    # Pages of the report with the most on them (the ones scripts/a11y checks too):
    # a figure with a previous value, a monthly series with a chart, a ranked alley.
    indicator = Indicator.objects.get(edition=edition, code="c4-park-500m-coverage")
    series = Indicator.objects.get(edition=edition, code="c5-hotline-monthly-calls-phone")
    return Report(
        year=edition.year,
        chapter=Chapter.objects.get(edition=edition, slug="capital-functions").slug,
        indicator=indicator.code,
        indicator_name=indicator.name,
        series_indicator=series.code,
        story=Story.objects.get(edition=edition, slug="best-alley-dongbuyaqiao-hutong").slug,
        district=District.objects.first().slug,
        survey_pk=Survey.objects.get(edition=edition).pk,
    )


def _residents_scores(pages: Report) -> None:
    """Enough residents' scores that the pages draw what they withhold below the minimum:
    the chapter's chart with intervals, the indicator's satisfaction, two districts on the
    map, the survey's results (by district too). The series indicator and the story stay
    below it, so both states are on the pages. Through the real services and the real
    reconciliation; each score from its own resident."""
    edition = Edition.objects.get(year=pages.year)
    chapter = Chapter.objects.get(edition=edition, slug=pages.chapter)
    targets = [*Indicator.objects.filter(chapter=chapter), Indicator.objects.get(code=pages.indicator)]
    survey = Survey.objects.get(pk=pages.survey_pk)
    districts = list(District.objects.all()[:2])
    residents_rate_and_answer(targets=targets, survey=survey, districts=districts, prefix="browser-resident")


def _database_emptied() -> None:
    # The server's threads are gone; a database connection one kept open for
    # CONN_MAX_AGE would stop the test database from being dropped at the end.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    # What TransactionTestCase does after each test: the tests after these start
    # from an empty database again. The sequences go on (as there): tests/conftest.py's
    # data_files_load puts rows back with their saved keys, which new rows must not reuse.
    call_command("flush", interactive=False, verbosity=0, reset_sequences=False)


class _Passthrough:
    """Static files served by the site's own WhiteNoise middleware (fingerprinted names)."""

    def __new__(cls, application):
        return application


@pytest.fixture(scope="package")
def live_site(report) -> Iterator[str]:
    """The portal over HTTP on 127.0.0.1 (in ALLOWED_HOSTS), serving the committed report."""
    thread = LiveServerThread("127.0.0.1", static_handler=_Passthrough, connections_override={})
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


@pytest.fixture(scope="package")
def browser(live_site) -> Iterator[Browser]:
    """Chromium, closed before the server stops (its open connections end the server's threads)."""
    # Playwright's sync API runs an asyncio loop on this thread while it is started,
    # and Django refuses ORM calls on a thread with a running loop: the tests of this
    # folder may use the ORM (the live server's threads are unaffected). Stopping
    # Playwright ends the loop, so the tests after this folder are as before.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            try:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            except PlaywrightError as error:
                pytest.fail(
                    f"Chromium ({CHROMIUM}) could not start: {error}\n"
                    "scripts/test installs Debian's chromium (apt); set CHROMIUM to use another.",
                    pytrace=False,
                )
            yield browser
            browser.close()
        finally:
            playwright.stop()


@pytest.fixture(autouse=True)
def _page_cache_on(_page_cache_off, settings) -> None:
    """The pages as production serves them: from the page cache (Redis, emptied before
    each test), so a second visit reads a cached page, in the display it was asked in."""
    settings.PAGE_CACHE = True


@pytest.fixture(scope="session")
def screenshots() -> Path | None:
    """Where the pages a reviewer looks at are saved: ``BROWSER_SCREENSHOTS``, or nowhere."""
    if not os.environ.get("BROWSER_SCREENSHOTS"):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@dataclass
class Visit:
    """A resident's browser (one context: its own cookies) and what its pages did wrong."""

    base: str
    context: BrowserContext
    page: Page
    console_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    in_flight: set = field(default_factory=set)

    def resize(self, viewport: dict) -> None:
        """The open page at another width, as a browser window resized: the media queries
        apply, the scripts' resize observers draw again (Chart.js, in an animation frame),
        and what the new width asks for (images of a srcset, say) is fetched."""
        self.page.set_viewport_size(viewport)
        self.page.evaluate(_TWO_FRAMES)
        self.settle()

    def url(self, path: str) -> str:
        return self.base + path

    def goto(self, path: str) -> int:
        """Open a page and wait until its scripts ran and their requests ended."""
        response = self.page.goto(self.url(path), wait_until="load")
        assert response is not None, f"no response for {path}"
        self.settle()
        return response.status

    def settle(self, timeout: float = 15) -> None:
        """Wait until no request of the page is in flight (the deferred scripts' fetches).

        Playwright's "networkidle" waits for half a second without any request, on
        every page; this waits only as long as the requests do."""
        deadline = time.monotonic() + timeout
        while self.in_flight:
            assert time.monotonic() < deadline, f"requests still in flight: {self.in_flight}"
            self.page.wait_for_timeout(20)

    def local_prefixes(self) -> tuple[str, ...]:
        return (f"{self.base}/", "data:", "blob:", "about:")

    def is_local(self, url: str) -> bool:
        return url.startswith(self.local_prefixes())

    def problems(self) -> list[str]:
        """Console errors, uncaught exceptions and outside requests so far."""
        return [f"console: {text}" for text in self.console_errors] + [
            f"outside request (refused): {url}" for url in self.outside_requests
        ]

    def axe_blocking(self) -> list[str]:
        """axe-core's serious and critical violations on the current page."""
        # axe-core's script (500 KB) goes into each page once, however often it runs there.
        if not self.page.evaluate("() => 'axe' in window"):
            self.page.evaluate(AXE_SCRIPT)
        violations = self.page.evaluate(
            "(options) => axe.run(document, options).then((results) => results.violations)", AXE_OPTIONS
        )
        return [
            f"{violation['id']} ({violation['impact']}) ×{len(violation['nodes'])}: "
            f"{violation['help']} — {', '.join(' '.join(node['target']) for node in violation['nodes'][:3])}"
            for violation in violations
            if violation["impact"] in AXE_BLOCKING
        ]

    def small_controls(self, min_px: float) -> list[str]:
        """Visible form controls and buttons less than ``min_px`` CSS pixels high or wide
        (touch targets: WCAG 2.5.8 asks 24 px; the large display promises more)."""
        return self.page.evaluate(_SMALL_CONTROLS, min_px)

    def broken_numbers(self) -> list[str]:
        """Figures drawn over two lines ("4" above "8"): each run of digits (with its
        decimal point or separators) should sit on one line."""
        return self.page.evaluate(_BROKEN_RUNS, _FIGURES)

    def broken_words(self) -> list[str]:
        """Words drawn over two lines: a Latin word anywhere, a Chinese one in a table's
        column heads and in a cell's phrase for a withheld figure (``_WORDS``)."""
        return self.page.evaluate(_BROKEN_RUNS, _WORDS)

    def lone_characters(self) -> list[str]:
        """Chinese text that leaves one character alone on its last line, each shown line by
        line ("…市民生活品质稳步提 / 高")."""
        return self.page.evaluate(_LONE_CHARACTERS, _TEXT_BLOCKS)

    def reading_problems(self) -> list[str]:
        """What a reader of the open page would find wrong at its present width: serious axe
        violations, figures and words cut over two lines, a character alone on a last line,
        what makes the page wider than the window; each line saying which."""
        return (
            [f"axe: {line}" for line in self.axe_blocking()]
            + [f"figure broken over two lines: {line}" for line in self.broken_numbers()]
            + [f"word broken over two lines: {line}" for line in self.broken_words()]
            + [f"one character alone on its last line: {line}" for line in self.lone_characters()]
            + [f"wider than the window: {line}" for line in self.overflowing()]
        )

    def overflowing(self) -> list[str]:
        """What makes the page wider than the window (a reader would scroll sideways to read
        it), or nothing when it fits."""
        return self.page.evaluate(_OVERFLOWING)

    def screenshot(self, directory: Path | None, name: str, *, full_page: bool = True) -> Path | None:
        """The page saved as ``<directory>/<name>.png``; nothing without a directory."""
        if directory is None:
            return None
        path = directory / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def _watch(visit: Visit) -> None:
    def on_route(route) -> None:
        if visit.is_local(route.request.url):
            route.continue_()
        else:
            visit.outside_requests.append(route.request.url)
            route.abort()

    # Only the requests for other hosts come here (the pattern is matched in Playwright's
    # driver); the site's own go straight on, without a round trip to this process.
    outside = re.compile("^(?!{})".format("|".join(map(re.escape, visit.local_prefixes()))))
    visit.context.route(outside, on_route)
    visit.page.on("request", lambda request: visit.in_flight.add(request))
    visit.page.on("requestfinished", lambda request: visit.in_flight.discard(request))
    visit.page.on("requestfailed", lambda request: visit.in_flight.discard(request))
    visit.page.on(
        "console",
        lambda message: (
            message.type == "error"
            and visit.console_errors.append(f"{message.text} ({message.location.get('url', '')})")
        ),
    )
    visit.page.on("pageerror", lambda error: visit.console_errors.append(f"uncaught: {error}"))


_VISITS = pytest.StashKey[list]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test's pages saved as they were when it failed, and named in its report
    (with or without ``BROWSER_SCREENSHOTS``)."""
    report = yield
    visits = item.stash.get(_VISITS, [])
    if report.when == "call" and report.failed and visits:
        name = re.sub(r"[^\w.-]+", "-", item.name)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        lines = []
        for n, visit in enumerate(visits):
            try:
                path = visit.screenshot(SCREENSHOTS, f"failed-{name}-{n}")
            except PlaywrightError as error:
                lines.append(f"{visit.page.url}: no screenshot ({error})")
            else:
                lines.append(f"{visit.page.url}: {path}")
        report.sections.append(("screenshots when the test failed", "\n".join(lines)))
    return report


def _visit_new(browser: Browser, base: str, viewport: dict) -> Visit:
    context = browser.new_context(viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    visit = Visit(base=base, context=context, page=context.new_page())
    _watch(visit)
    return visit


@pytest.fixture
def open_browser(request, browser, live_site) -> Iterator:
    """``open_browser(viewport)``: a new resident's browser on the live site, watched."""
    visits: list[Visit] = []
    request.node.stash[_VISITS] = visits

    def open_(viewport: dict) -> Visit:
        visit = _visit_new(browser, live_site, viewport)
        visits.append(visit)
        return visit

    yield open_
    for visit in visits:
        visit.context.close()


@pytest.fixture(scope="module")
def _reading_tab(browser, live_site) -> Iterator[Visit]:
    visit = _visit_new(browser, live_site, PHONE)
    yield visit
    visit.context.close()


@pytest.fixture
def reader(request, _reading_tab) -> Visit:
    """A browser for a test that only reads pages, at a phone's width, watched: the
    module's one tab, with no cookie (a new resident) and nothing seen by this test yet."""
    visit = _reading_tab
    visit.context.clear_cookies()
    visit.console_errors.clear()
    visit.outside_requests.clear()
    visit.in_flight.clear()
    visit.page.set_viewport_size(PHONE)
    request.node.stash[_VISITS] = [visit]
    return visit
