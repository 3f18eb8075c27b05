"""Every public page type at a phone's width (390×844) and a desktop's (1280×800), in Chromium.

Each page answers 200 and, once its scripts have run and its requests have settled,
has logged no console error and thrown nothing, asked no host but the site itself
for anything, and shows axe-core (WCAG 2.x rules and best practices) no serious or
critical violation; no form control or button is under 24 CSS pixels (WCAG 2.5.8's
touch target), no figure or word is broken over two lines, and nothing makes the page wider than
the window (a reader scrolling sideways to read a line: WCAG 1.4.10, reflow). Each page is opened once, at the
phone's width, checked, then resized to the desktop's and checked again: the media queries
apply on a resize, the charts draw again, and what the width fetches is waited for, so a
second navigation would show the same page at more cost (the chapter's chart: the same
labels and page height as a desktop load). A script that read the width only once, at
load, would need a reload here. Screenshots of each width are saved with
``BROWSER_SCREENSHOTS`` set (see conftest.py).

Page types that other work adds (districts, survey results, open data) are tested
as soon as their URL exists: the list is filtered by what the URLconf resolves.
"""

from dataclasses import asdict

import pytest
from django.urls import Resolver404, resolve

from indicators.cache import DISPLAY_COOKIE
from indicators.models import District
from review.accountability import accountability_refresh
from review.models import ReviewCase
from review.services import case_reply
from tests.browser.viewports import DESKTOP, PHONE
from tests.review.helpers import make_planner

pytestmark = pytest.mark.django_db

# Page type → path, filled in from the loaded report (conftest.Report).
PAGES = {
    "home": "/",
    "edition": "/{year}/",
    "chapter": "/{year}/chapters/{chapter}/",
    "indicator-list": "/{year}/indicators/",
    "indicator": "/{year}/indicators/{indicator}/",
    "indicator-series": "/{year}/indicators/{series_indicator}/",
    "story-list": "/{year}/stories/",
    "story-list-alleys": "/{year}/stories/?kind=best_alley",
    "story": "/{year}/stories/{story}/",
    "search": "/search/?q=%E5%85%AC%E5%9B%AD",
    "survey": "/survey/",
    "survey-results": "/survey/results/",
    "my-data": "/my-data/",
    "privacy": "/privacy/",
    "verify": "/verify/",
    "accountability": "/accountability/",
    "districts": "/districts/",
    "district": "/districts/{district}/",
    "open-data": "/open-data/",
}
_SAMPLE = {
    "year": 2023,
    "chapter": "c",
    "indicator": "i",
    "series_indicator": "i",
    "story": "s",
    "district": "d",
    "survey_pk": 1,
}


def _exists(path: str) -> bool:
    try:
        resolve(path.format(**_SAMPLE).split("?")[0])
    except Resolver404:
        return False
    return True


PRESENT = [name for name, path in PAGES.items() if _exists(path)]


def _open(visit, report, name: str) -> str:
    path = PAGES[name].format(**asdict(report))
    status = visit.goto(path)
    assert status == 200, f"{path} answered {status}"
    return path


def _width_problems(visit, screenshots, shot: str, *, full_page: bool) -> list[str]:
    """What the open page shows wrong at its present width, each line named by ``shot``."""
    visit.screenshot(screenshots, shot, full_page=full_page)
    problems = visit.reading_problems() + [
        f"touch target under 24 px: {line}" for line in visit.small_controls(24)
    ]
    return [f"{shot}: {line}" for line in problems]


@pytest.mark.parametrize("name", PRESENT)
def test_page_is_clean(reader, report, screenshots, name):
    path = _open(reader, report, name)
    # The whole page on a phone; the first screen on a desktop (a full 1280 px page
    # costs seconds to encode and shows nothing the phone's does not).
    problems = _width_problems(reader, screenshots, f"page-{name}-phone", full_page=True)
    reader.resize(DESKTOP)
    problems += _width_problems(reader, screenshots, f"page-{name}-desktop", full_page=False)
    problems = reader.problems() + problems
    assert not problems, f"{path}:\n" + "\n".join(problems)


# The English catalogue on a phone: longer words in the same boxes, and every page's
# lang attributes (axe checks them) in the other language.
_ENGLISH_PAGES = (
    *("home", "chapter", "indicator", "story", "survey", "districts"),
    *("accountability", "open-data"),
)
ENGLISH = [name for name in _ENGLISH_PAGES if name in PRESENT]


@pytest.mark.parametrize("name", ENGLISH)
def test_page_in_english_is_clean(reader, report, screenshots, name):
    reader.context.add_cookies([{"name": "django_language", "value": "en", "url": reader.base}])
    path = _open(reader, report, name)
    problems = reader.problems() + _width_problems(
        reader, screenshots, f"page-{name}-phone-en", full_page=True
    )
    assert not problems, f"{path}:\n" + "\n".join(problems)
    assert reader.page.locator("html").get_attribute("lang") == "en"


def test_the_page_list_covers_the_pages_the_issue_names():
    # The pages present from the start of the site; later ones join when they exist.
    assert {
        "home",
        "edition",
        "chapter",
        "indicator-list",
        "indicator",
        "story-list",
        "story",
        "search",
        "survey",
        "my-data",
        "privacy",
        "accountability",
    } <= set(PRESENT)


# The browsable API's pages (DRF's templates, the site's stylesheet for them), which a
# developer or a journalist opens on a phone from a link to the open data.
_API_PAGES = ("/api/v1/", "/api/v1/indicators/?page_size=5", "/api/v1/aggregates/districts/")
# Boxes whose text a reader would have to scroll sideways inside to read.
_SCROLLING_BOXES = """() => Array.from(document.querySelectorAll('.request-info pre, .response-info pre'))
  .filter((box) => box.scrollWidth > box.clientWidth + 1)
  .map((box) => `${box.parentElement.className}: ${box.scrollWidth} px of text in ${box.clientWidth} px`)"""
# The brand's text, when it does not fit on one line inside the dark bar (its bottom below the bar's).
_BRAND_OUTSIDE_ITS_BAR = """() => {
  const brand = document.querySelector('.navbar-brand'), bar = brand.closest('.navbar');
  const text = document.createRange();
  text.selectNodeContents(brand);
  const below = Math.round(text.getBoundingClientRect().bottom - bar.getBoundingClientRect().bottom);
  return below > 0 ? [`the brand "${brand.textContent.trim()}" ends ${below} px below its bar`] : [];
}"""


@pytest.mark.parametrize("path", _API_PAGES)
def test_the_browsable_api_fits_a_phone(reader, report, path):
    assert reader.goto(path) == 200
    problems = (
        reader.problems()  # a refused inline style is a console error
        + [f"wider than the window: {line}" for line in reader.overflowing()]
        + [f"scrolls sideways: {line}" for line in reader.page.evaluate(_SCROLLING_BOXES)]
        + reader.page.evaluate(_BRAND_OUTSIDE_ITS_BAR)
    )
    assert not problems, f"{path}:\n" + "\n".join(problems)


def test_the_browsable_api_s_filter_button_sits_at_the_right(reader, report):
    assert reader.goto("/api/v1/indicators/?page_size=5") == 200
    button = reader.page.locator('button[data-target="#filtersModal"]')
    assert button.get_attribute("style") is None
    assert button.evaluate("(el) => getComputedStyle(el).float") == "right"
    assert reader.problems() == []


# Staff's English names of two indicators quote the report's term ("Greening of land left
# blank ("留白增绿")"); the pages that show them in English, with a search whose highlight
# falls inside the term. Phones from the narrowest in use to the largest.
_QUOTING_PAGES = (
    "/2023/indicators/",
    "/2023/chapters/ecological-baseline/",
    "/2023/indicators/c4-reserved-land-greening/",
    "/search/?q=%E7%95%99%E7%99%BD",  # 留白
)
_PHONE_WIDTHS = (320, 360, 390, 414)
# Each short Chinese text marked as such on the page (a quoted term), and whether it is drawn
# over two lines: a line box below its first one.
_CHINESE_RUNS = """() => Array.from(document.querySelectorAll('[lang="zh-Hans"]'))
  .filter((run) => run.offsetParent !== null && run.textContent.trim().length <= 8)
  .map((run) => {
    const [first, ...rest] = Array.from(run.getClientRects());
    return [run.textContent.trim(), rest.some((rect) => rect.top >= first.bottom - 1)];
  })"""


@pytest.mark.parametrize("path", _QUOTING_PAGES)
def test_a_chinese_term_quoted_in_english_stays_whole_on_a_phone(reader, report, path):
    # Between two Han characters a line may break; a quoted term cut in two ("留白" at the end
    # of one line, "增绿" at the start of the next) reads as two words. The line breaks before it.
    reader.context.add_cookies([{"name": "django_language", "value": "en", "url": reader.base}])
    assert reader.goto(path) == 200
    broken = []
    for width in _PHONE_WIDTHS:
        reader.resize({"width": width, "height": 844})
        runs = reader.page.evaluate(_CHINESE_RUNS)
        assert "留白增绿" in {text for text, _broken in runs}, f"{path} at {width} px: the term is not shown"
        broken += [f"{width} px: {text}" for text, cut in runs if cut]
        broken += [f"{width} px, wider than the window: {line}" for line in reader.overflowing()]
    assert not broken, f"{path}:\n" + "\n".join(broken)
    assert reader.problems() == []


# The pages with tables of figures, at the narrowest phones in use, in both languages: no word
# is cut in two, the page never scrolls sideways (a table wider than the phone scrolls in its own
# box), and a table that scrolls keeps its caption whole in view and its rows' names at its left.
_TABLE_PAGES = (
    "chapter",
    "indicator",
    "survey",
    "survey-results",
    "accountability",
    "districts",
    "open-data",
)
_NARROW_PHONES = (320, 360)
_SCROLLED_TABLES = """() => Array.from(document.querySelectorAll('.table-scroll'))
  .filter((box) => box.offsetParent !== null)
  .flatMap((box) => {
    const problems = [], edge = box.getBoundingClientRect();
    const name = box.getAttribute('aria-labelledby');
    const caption = box.querySelector('caption');
    const past = caption ? Math.round(caption.getBoundingClientRect().right - edge.right) : 0;
    if (past > 1) problems.push(`${name}: its caption reaches ${past} px past its box`);
    box.scrollLeft = box.scrollWidth;
    for (const head of box.querySelectorAll('th[scope=row]')) {
      const off = Math.round(head.getBoundingClientRect().left - edge.left);
      if (Math.abs(off) > 1) {
        const row = head.textContent.trim();
        problems.push(`${name}: scrolled ${box.scrollLeft} px, "${row}" is ${off} px from its box's left`);
        break;
      }
    }
    box.scrollLeft = 0;
    return problems;
  })"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("name", [name for name in _TABLE_PAGES if name in PRESENT])
def test_tables_read_whole_on_the_narrowest_phones(reader, report, name, language):
    reader.context.add_cookies([{"name": "django_language", "value": language, "url": reader.base}])
    path = _open(reader, report, name)
    problems = []
    for width in _NARROW_PHONES:
        reader.resize({"width": width, "height": 800})
        problems += [f"{width} px, word broken over two lines: {line}" for line in reader.broken_words()]
        problems += [f"{width} px, wider than the window: {line}" for line in reader.overflowing()]
        problems += [f"{width} px, {line}" for line in reader.page.evaluate(_SCROLLED_TABLES)]
    assert not problems, f"{path} ({language}):\n" + "\n".join(problems)
    assert reader.problems() == []


@pytest.mark.parametrize("display", ["standard", "large"])
@pytest.mark.parametrize("name", PRESENT)
def test_chinese_text_leaves_no_character_alone_on_its_last_line(reader, report, name, display):
    # A heading, paragraph or table name whose last character sits alone on the last line
    # ("…市民生活品质稳步提" above "高", "总体满意" above "度") reads as a word cut in two: in
    # Chinese typesetting a last line holds at least two characters. Every page, on the phones
    # in use and a tablet, in the standard and the large display.
    reader.context.add_cookies([{"name": DISPLAY_COOKIE, "value": display, "url": reader.base}])
    path = _open(reader, report, name)
    lone = []
    for width in (*_PHONE_WIDTHS, 768):
        reader.resize({"width": width, "height": 800})
        lone += [f"{width} px: {line}" for line in reader.lone_characters()]
    assert not lone, f"{path} ({display} display):\n" + "\n".join(lone)
    assert reader.problems() == []


# The names Chart.js draws under the accountability chart's bars, and the queues the table gives a
# rate for (a cell's data-value, "" where the rate is withheld below the minimum).
_CHART_NAMES = """() => {
  const chart = window.Chart.getChart(document.getElementById('accountability-chart'));
  const rated = Array.from(document.querySelectorAll('#accountability-table tbody tr'))
    .filter((row) => Array.from(row.querySelectorAll('td[data-value]')).some((td) => td.dataset.value !== ''))
    .map((row) => row.querySelector('th').textContent.trim());
  const x = chart && chart.scales.x;
  return [x ? x.ticks.map((tick) => x.getLabelForValue(tick.value)) : null, rated];
}"""
_CHART_SHOWN = """() => ['[data-chart-wrapper]', '[data-chart-note]', '[data-chart-gap-note]']
  .map((selector) => !document.querySelector(selector).hidden)"""
# What the chart writes on its canvas, redrawn once with fillText watched: where it wrote the
# table's words for a withheld rate (件数不足), and where the charted queues' withheld rates'
# bars would stand (x in CSS pixels, rounded).
_WITHHELD_MARKS = """() => {
  const chart = window.Chart.getChart(document.getElementById('accountability-chart'));
  const words = document.querySelector('#accountability-table .no-figure').textContent.trim();
  const written = [];
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    if (this.canvas === chart.canvas && text === words) {
      written.push(Math.round(this.getTransform().e / chart.currentDevicePixelRatio));
    }
    return fillText.call(this, text, ...rest);
  };
  try {
    chart.draw();
  } finally {
    CanvasRenderingContext2D.prototype.fillText = fillText;
  }
  const gaps = [];
  chart.data.datasets.forEach((dataset, i) => chart.getDatasetMeta(i).data.forEach((bar, j) => {
    if (dataset.data[j] === null) gaps.push(Math.round(bar.x));
  }));
  return [written.sort((a, b) => a - b), gaps.sort((a, b) => a - b)];
}"""


@pytest.fixture(scope="module")
def dongcheng_answered(report, django_db_blocker):
    """Five of Dongcheng's cases (the residents' low scores opened them) answered in time by its
    planner, committed: Dongcheng's response rate is shown (5 of 5), every other rate withheld."""
    with django_db_blocker.unblock():
        dongcheng = District.objects.get(slug="dongcheng")
        planner = make_planner("browser-accountability-planner", districts=[dongcheng])
        cases = list(ReviewCase.objects.filter(district=dongcheng).order_by("pk")[:5])
        assert len(cases) == 5, f"the residents' scores opened {len(cases)} cases in Dongcheng"
        for case in cases:
            case_reply(user=planner, case=case, body="感谢反馈，已转交街道办理。")
        accountability_refresh()
    return dongcheng


@pytest.mark.parametrize("width", [320, 390, DESKTOP["width"]])
def test_the_accountability_chart_names_each_queue_it_charts(reader, report, dongcheng_answered, width):
    # Bars without a name under them cannot be told apart (Chart.js dropped every other name
    # where they crowd); a queue whose every rate is withheld is not charted, where its missing
    # bars would read as 0 %, and a note says so.
    reader.resize({"width": width, "height": 800})
    assert reader.goto("/accountability/") == 200
    drawn, rated = reader.page.evaluate(_CHART_NAMES)
    assert rated == [dongcheng_answered.name]
    assert drawn == rated, f"at {width} px the chart names {drawn}, the table rates {rated}"
    assert reader.page.evaluate(_CHART_SHOWN) == [True, True, True]
    assert reader.problems() == []


@pytest.mark.parametrize("width", [320, 390, DESKTOP["width"]])
def test_a_charted_queue_s_withheld_rates_are_marked_not_left_blank(
    reader, report, dongcheng_answered, screenshots, width
):
    # Dongcheng's response rate is charted; its resolution and satisfaction rates are withheld
    # (no case closed, no reply rated yet). Two empty places beside a bar read as 0 %: the table's
    # 件数不足 is written where each would stand, and the note under the chart says what a gap is.
    reader.resize({"width": width, "height": 800})
    assert reader.goto("/accountability/") == 200
    row = reader.page.locator(f'#accountability-table tr[data-queue="{dongcheng_answered.pk}"]')
    assert row.locator('td[data-value=""]').count() == 2  # resolution, satisfaction
    written, gaps = reader.page.evaluate(_WITHHELD_MARKS)
    assert len(gaps) == 2
    assert written == gaps, f"at {width} px 件数不足 written at x={written}, withheld bars at x={gaps}"
    assert reader.page.locator("[data-chart-gap-note]").is_visible()
    assert reader.problems() == []
    reader.screenshot(screenshots, f"accountability-withheld-{width}")


def test_the_accountability_chart_is_not_drawn_where_every_rate_is_withheld(reader, report):
    # A month before any feedback: every queue's rates withheld, nothing to chart (empty axes
    # under a legend would read as seventeen queues at 0 %); the table says 件数不足.
    assert reader.goto("/accountability/?start=2024-01&end=2024-01") == 200
    drawn, rated = reader.page.evaluate(_CHART_NAMES)
    assert rated == [] and drawn is None
    assert reader.page.evaluate(_CHART_SHOWN) == [False, False, False]
    assert reader.page.locator("#accountability-table .no-figure").count() == 17 * 4
    assert reader.problems() == []


_TEXT_STYLE = """selector => {
  const style = getComputedStyle(document.querySelector(selector));
  return [style.color, style.fontWeight];
}"""


def test_a_reversed_period_s_message_reads_as_an_error(reader, report):
    # The form's own message (start after end) is drawn as a field's error is, not as the
    # page's text: a resident who asked for May to March sees why the table is the default's.
    assert reader.goto("/accountability/?start=2024-05&end=2024-03") == 400
    form_error = reader.page.evaluate(_TEXT_STYLE, ".period-form .form-errors p")
    page_text = reader.page.evaluate(_TEXT_STYLE, "#period")
    assert reader.goto("/accountability/?start=2025-13") == 400
    field_error = reader.page.evaluate(_TEXT_STYLE, ".period-form .field-error")
    assert form_error == field_error != page_text


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_alley_s_place_in_the_ten_stays_on_one_line(reader, report, language):
    # "No." at the end of the badge's first line and "1" alone on the next read as two things.
    reader.context.add_cookies([{"name": "django_language", "value": language, "url": reader.base}])
    path = _open(reader, report, "story")
    place = reader.page.locator(".rank .rank__place")
    for width in (*_NARROW_PHONES, PHONE["width"]):
        reader.resize({"width": width, "height": 800})
        tops = place.evaluate("(el) => new Set(Array.from(el.getClientRects(), (r) => r.top)).size")
        assert tops == 1, f"{path} ({language}) at {width} px: {place.text_content()!r} over {tops} lines"
    assert place.text_content() == ("第 1 条" if language == "zh-hans" else "No. 1")
    assert reader.problems() == []


# How many lines each table's formats take on the open-data page ("CSV · XLSX · JSON").
_FORMAT_LINES = """() => Array.from(document.querySelectorAll('.downloads__formats'), (cell) => {
  const links = Array.from(cell.querySelectorAll('a'), (a) => a.getBoundingClientRect().top);
  return [cell.closest('tr').querySelector('th').textContent.trim(), new Set(links).size];
})"""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_open_data_formats_read_on_one_line_on_a_desktop(reader, report, language):
    reader.context.add_cookies([{"name": "django_language", "value": language, "url": reader.base}])
    path = _open(reader, report, "open-data")
    reader.resize(DESKTOP)
    lines = reader.page.evaluate(_FORMAT_LINES)
    assert len(lines) == 5  # four tables and the district boundaries
    assert all(count == 1 for _table, count in lines), f"{path} ({language}) at 1280 px: {lines}"
    assert reader.problems() == []
