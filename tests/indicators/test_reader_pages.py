"""What a resident reading the report on a phone checks: the home's first screen, the
city's figure beside residents' satisfaction, the chapter's chart of its items'
satisfaction, and the editions (switcher, series across editions).

Scores come from real ratings aggregated by the real reconciliation, and every
figure on a page is compared with the stored aggregate it must come from.
"""

import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils.text import Truncator

from feedback import aggregates, submissions
from feedback.models import AggregateScope, ScoreAggregate
from feedback.residents import resident_key_hash
from indicators import editions, services
from indicators.models import Edition
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, StoryFactory
from tests.indicators.test_site import text_of

pytestmark = pytest.mark.django_db


def _rate(target, scores: list[int], *, prefix: str) -> None:
    """Each score from a different resident (their own cookie hash)."""
    for n, score in enumerate(scores):
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"{prefix}-{n}"), target=target, score=score
        )


def _stored(target, scope: str) -> ScoreAggregate:
    return ScoreAggregate.objects.get(scope=scope, object_id=target.pk)


def _two(value: Decimal) -> str:
    return f"{value:.2f}"


def _json(content: str, script_id: str):
    return json.loads(
        re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', content).group(1)
    )


def _table(content: str, classes: str) -> str:
    return re.search(rf'<table class="{classes}">(.*?)</table>', content, re.S).group(1)


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def edition():
    return EditionFactory(
        year=2023,
        title="北京城市总体规划实施体检报告公众读本（2023 年度）",
        preface="2017 年，党中央、国务院批复总体规划。\n\n本年度体检工作坚持问题导向。",
    )


@pytest.fixture
def chapter(edition):
    return ChapterFactory(edition=edition, number=4, slug="ecology", theme="生态底线", title="坚守生态底线")


@pytest.fixture
def park(chapter):
    return IndicatorFactory(
        chapter=chapter,
        code="park-500m",
        name="公园绿地 500 米服务半径覆盖率",
        unit="%",
        headline=True,
        values=[(2022, "88.7"), (2023, "90.5")],
    )


# --- Home: the first screen on a phone -------------------------------------------------------


def test_home_first_screen_is_title_figures_then_one_invitation_then_the_folded_preface(client, park):
    content = client.get("/").content.decode()
    main = content[content.index('<main id="main"') :]

    title = main.index("北京城市总体规划实施体检报告公众读本（2023 年度）")
    figures = main.index("90.5%")
    invite = main.index('class="invite"')
    preface = main.index("2017 年，党中央、国务院批复总体规划。")
    chapters = main.index('id="chapters"')
    assert title < figures < invite < preface < chapters
    # One invitation: one button, to the survey, and the way to one's district beside it.
    block = main[invite : main.index("</section>", invite)]
    assert block.count('class="button') == 1
    assert 'href="/survey/"' in block
    assert 'href="/districts/"' in block
    # The preface stays, folded: a <details> that opens without JavaScript.
    assert re.search(r'<details class="preface"[^>]*>\s*<summary', main)
    assert "本年度体检工作坚持问题导向。" in text_of(client.get("/"))


def test_edition_page_has_the_same_first_screen(client, park):
    page = text_of(client.get("/2023/"))

    assert page.index("90.5%") < page.index("参加满意度调查") < page.index("前言")


# --- Indicator: the figure beside residents' satisfaction -------------------------------------


def test_indicator_shows_its_figure_beside_the_stored_satisfaction(client, park):
    _rate(park, [5, 4, 4, 3, 5, 2], prefix="park")
    aggregates.aggregates_reconcile()
    stored = _stored(park, AggregateScope.INDICATOR)

    content = client.get(park.get_absolute_url()).content.decode()

    block = content[content.index('class="measure-perceive"') : content.index('<section class="source"')]
    text = " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert "90.5%" in text
    assert "市民满意度" in text
    assert f"{_two(stored.mean)} / 5" in text
    assert f"95% 区间：{_two(stored.ci_low)}–{_two(stored.ci_high)}" in text
    assert f"共 {stored.raters} 人评价" in text
    assert stored.raters == 6
    assert 'href="#participation"' in block


def test_indicator_with_too_few_raters_says_so_and_shows_no_number(client, park):
    minimum = settings.AGGREGATE_MIN_COUNT
    _rate(park, [1] * (minimum - 1), prefix="few")
    aggregates.aggregates_reconcile()

    content = client.get(park.get_absolute_url()).content.decode()

    block = content[content.index('class="measure-perceive"') : content.index('<section class="source"')]
    text = " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert "评价人数不足" in text
    assert f"满 {minimum} 人评价后显示平均分" in text
    assert f"共 {minimum - 1} 人评价" in text
    assert "/ 5" not in text
    assert "区间：" not in text
    assert "1.00" not in content


def test_indicator_without_a_figure_shows_none_beside_the_satisfaction(client, chapter):
    bare = IndicatorFactory(chapter=chapter, code="hotline-monthly", name="12345 热线月度诉求量", values=[])

    content = client.get(bare.get_absolute_url()).content.decode()

    block = content[content.index('class="measure-perceive"') : content.index('<section class="source"')]
    text = " ".join(re.sub(r"<[^>]+>", " ", block).split())
    assert "报告未给出数值" in text
    assert not re.search(r"\d+(\.\d+)? ?%", text)
    assert "评价人数不足" in text


# --- Chapter: its items' satisfaction, charted over a table --------------------------------------


def test_chapter_charts_the_items_with_enough_raters_and_lists_them_in_a_table(client, chapter, park):
    minimum = settings.AGGREGATE_MIN_COUNT
    green = IndicatorFactory(chapter=chapter, code="forest", name="森林覆盖率")
    quiet = IndicatorFactory(chapter=chapter, code="quiet", name="评价太少的指标")
    story = StoryFactory(chapter=chapter, title="城市绿心森林公园")
    _rate(park, [5, 4, 4, 3, 5, 2], prefix="p")
    _rate(green, [2, 3, 2, 3, 1, 2, 3], prefix="g")
    _rate(story, [5, 5, 4, 5, 5], prefix="s")
    _rate(quiet, [5] * (minimum - 1), prefix="q")
    aggregates.aggregates_reconcile()

    content = client.get(chapter.get_absolute_url()).content.decode()

    chart = json.loads(
        re.search(r'<script id="chapter-chart-data" type="application/json">(.*?)</script>', content).group(1)
    )
    stored = {
        "公园绿地 500 米服务半径覆盖率": _stored(park, AggregateScope.INDICATOR),
        "森林覆盖率": _stored(green, AggregateScope.INDICATOR),
        "城市绿心森林公园": _stored(story, AggregateScope.STORY),
    }
    # Highest mean first; the item below the minimum is neither charted nor listed.
    by_mean = sorted(stored, key=lambda name: -stored[name].mean)
    assert chart["type"] == "interval"
    assert chart["labels"] == [Truncator(name).chars(16, truncate="…") for name in by_mean]
    assert chart["labels"][1].endswith("…")  # the long name is cut on the axis, whole in the table
    assert chart["values"] == [float(stored[name].mean) for name in by_mean]
    assert chart["low"] == [float(stored[name].ci_low) for name in by_mean]
    assert chart["high"] == [float(stored[name].ci_high) for name in by_mean]
    table = re.search(r'<table class="data-table data-table--scores">(.*?)</table>', content, re.S).group(1)
    row = r'<tr><th scope="row"><a href="[^"]+">([^<]+)</a></th>'
    rows = re.findall(row + r"<td>([^<]+)</td><td>([^<]*)</td><td>(\d+)</td></tr>", table)
    assert rows == [
        (
            name,
            _two(stored[name].mean),
            f"{_two(stored[name].ci_low)}–{_two(stored[name].ci_high)}",
            str(stored[name].raters),
        )
        for name in by_mean
    ]
    assert "评价太少的指标" not in table
    assert f"另有 1 项不足 {minimum} 人评价，暂不显示。" in text_of(client.get(chapter.get_absolute_url()))
    # The chart is drawn by the site's own script from the JSON above (strict CSP).
    assert re.search(r'<script src="/static/js/charts\.[0-9a-f]+\.js" defer>', content)


def test_chapter_without_enough_raters_has_no_chart(client, chapter, park):
    _rate(park, [4, 4], prefix="p")
    aggregates.aggregates_reconcile()

    response = client.get(chapter.get_absolute_url())

    assert "chapter-chart-data" not in response.content.decode()
    assert "本章还没有满" in text_of(response)


# --- Editions ----------------------------------------------------------------------------------------


def _second_edition(chapter_2023, park_2023, *, value="92.1", draft=False):
    edition = EditionFactory(
        year=2024, title="北京城市总体规划实施体检报告公众读本（2024 年度）", draft=draft
    )
    chapter = ChapterFactory(edition=edition, number=4, slug="ecology", theme="生态底线")
    park = IndicatorFactory(
        chapter=chapter,
        code=park_2023.code,
        name=park_2023.name,
        unit="%",
        year=2024,
        values=[(2024, value)] if value else [],
    )
    return edition, park


def test_edition_switcher_lists_published_editions_only(client, chapter, park):
    # One edition: nothing to switch to.
    assert "edition-switch" not in client.get("/").content.decode()
    _second_edition(chapter, park)
    EditionFactory(year=2025, draft=True)

    content = client.get("/2023/").content.decode()

    switcher = content[content.index('<details class="edition-switch"') : content.index("</details>")]
    assert re.findall(r'<a href="(/\d+/)"', switcher) == ["/2024/", "/2023/"]
    assert re.search(r'<a href="/2023/" aria-current="true">', switcher)
    assert "2025" not in switcher
    # The new edition's pages work, and its home is the latest.
    assert client.get("/2024/").status_code == 200
    assert "北京城市总体规划实施体检报告公众读本（2024 年度）" in text_of(client.get("/"))


def test_indicator_shows_its_series_and_satisfaction_across_editions(client, chapter, park):
    _, park_2024 = _second_edition(chapter, park)
    _rate(park, [5, 4, 4, 3, 5, 2], prefix="a")
    _rate(park_2024, [3, 3], prefix="b")
    aggregates.aggregates_reconcile()
    stored_2023 = _stored(park, AggregateScope.INDICATOR)

    content = client.get(park.get_absolute_url()).content.decode()

    # The trend holds this edition's points and the one only the 2024 edition gives, with its source.
    chart = json.loads(
        re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', content).group(1)
    )
    assert chart["labels"] == ["2022", "2023", "2024"]
    assert chart["values"] == [88.7, 90.5, 92.1]
    trend = re.search(r'<table class="data-table">(.*?)</table>', content, re.S).group(1)
    assert re.findall(r'<th scope="row">(\d+)</th><td>([^<]+)</td><td>([^<]+)</td>', trend) == [
        ("2022", "88.7%", "2023 年度报告"),
        ("2023", "90.5%", "2023 年度报告"),
        ("2024", "92.1%", "2024 年度报告"),
    ]
    # Each edition's figure and satisfaction: enough raters in 2023, too few in 2024.
    table = re.search(r'<table class="data-table data-table--editions">(.*?)</table>', content, re.S).group(1)
    rows = [
        " ".join(re.sub(r"<[^>]+>", " ", row).split())
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)
    ]
    assert rows[1] == (
        f"2023 年度 90.5% {_two(stored_2023.mean)} / 5 "
        f"95% 区间：{_two(stored_2023.ci_low)}–{_two(stored_2023.ci_high)} 6"
    )
    assert rows[2] == "2024 年度 92.1% 评价人数不足 2"
    assert f'<a href="{park_2024.get_absolute_url()}">2024 年度</a>' in table


def test_a_new_edition_without_values_shows_no_figure(client, chapter, park):
    _, park_2024 = _second_edition(chapter, park, value=None)

    page_2024 = client.get(park_2024.get_absolute_url()).content.decode()
    page_2023 = client.get(park.get_absolute_url()).content.decode()

    table = re.search(r'<table class="data-table data-table--editions">(.*?)</table>', page_2024, re.S).group(
        1
    )
    assert "报告未给出数值" in table
    fact = page_2024[
        page_2024.index('<section class="fact"') : page_2024.index(
            "</section>", page_2024.index('<section class="fact"')
        )
    ]
    assert "报告未给出数值" in fact
    assert "%" not in re.sub(r"<[^>]+>", "", fact)
    # The 2023 trend gains no point from the empty 2024 edition.
    chart = json.loads(
        re.search(r'<script id="chart-data" type="application/json">(.*?)</script>', page_2023).group(1)
    )
    assert chart["labels"] == ["2022", "2023"]


def test_a_draft_edition_is_in_no_switcher_and_no_series(client, chapter, park):
    _second_edition(chapter, park, draft=True)

    content = client.get(park.get_absolute_url()).content.decode()

    assert "edition-switch" not in content
    assert "92.1" not in content
    assert "data-table--editions" not in content


# --- The page cache hears of what the pages show --------------------------------------------------


def test_cached_pages_are_renewed_when_an_edition_is_published_or_a_score_changes(
    client, settings, chapter, park, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    edition_2024, _ = _second_edition(chapter, park, draft=True)
    for url in (park.get_absolute_url(), chapter.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "edition-switch" not in page
        assert "92.1" not in page
    assert "chapter-chart-data" not in client.get(chapter.get_absolute_url()).content.decode()

    # Publishing the other edition, as the admin's action does (the bumps run after the commit).
    with django_capture_on_commit_callbacks(execute=True):
        services.publishable_publish(queryset=Edition.objects.filter(pk=edition_2024.pk))

    indicator_page = client.get(park.get_absolute_url()).content.decode()
    assert "92.1%" in indicator_page
    assert 'href="/2024/"' in indicator_page
    assert 'href="/2024/"' in client.get(chapter.get_absolute_url()).content.decode()

    # Ratings aggregated: the reconciliation tells the cache which aggregates it wrote.
    _rate(park, [5, 4, 4, 3, 5, 2], prefix="c")
    with django_capture_on_commit_callbacks(execute=True):
        aggregates.aggregates_reconcile()

    assert "chapter-chart-data" in client.get(chapter.get_absolute_url()).content.decode()
    assert "共 6 人评价" in client.get(park.get_absolute_url()).content.decode()


def test_an_edition_started_from_the_previous_one_shows_no_invented_figure(client, chapter, park):
    started = editions.edition_start_from(previous=park.edition, year=2024)
    services.publishable_publish(queryset=Edition.objects.filter(pk=started.pk))
    services.publishable_publish(queryset=started.indicators.all())
    copy = started.indicators.get(code=park.code)

    response = client.get(copy.get_absolute_url())
    page_2023 = client.get(park.get_absolute_url()).content.decode()

    assert response.status_code == 200
    page_2024 = response.content.decode()
    start = page_2024.index('<section class="fact"')
    fact = page_2024[start : page_2024.index("</section>", start)]
    assert "报告未给出数值" in fact
    assert "%" not in re.sub(r"<[^>]+>", "", fact)
    # 2023's page lists the new edition, without a figure for it, and its trend gains no point.
    table = _table(page_2023, "data-table data-table--editions")
    rows = [_text(row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]
    assert rows[1:] == ["2023 年度 90.5% 评价人数不足 0", "2024 年度 报告未给出数值 评价人数不足 0"]
    assert _json(page_2023, "chart-data")["labels"] == ["2022", "2023"]
    assert 'href="/2024/"' in page_2023
