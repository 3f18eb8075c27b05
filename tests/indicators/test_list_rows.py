"""The rows of the report's lists (``report.indicator_items``, ``report.story_items``):
each item links to its own page and shows what its page shows, in either language."""

import html
import re

import pytest
from django.conf import settings

from indicators.models import Indicator, Story, StoryKind

pytestmark = pytest.mark.django_db

ROW_LINK = {
    "indicator": re.compile(r'<a class="indicator-item__name" href="([^"]+)">([^<]+)</a>'),
    "story": re.compile(r'<h3 class="story-item__title"><a href="([^"]+)">([^<]+)</a></h3>'),
}


def _rows(client, url: str, kind: str) -> list[tuple[str, str]]:
    response = client.get(url)
    assert response.status_code == 200, url
    return [(url, html.unescape(text)) for url, text in ROW_LINK[kind].findall(response.content.decode())]


def test_every_row_of_every_chapter_links_to_its_items_page(client, report_2023):
    indicators = {i.get_absolute_url(): i for i in Indicator.objects.published().select_related("edition")}
    stories = {s.get_absolute_url(): s for s in Story.objects.published().select_related("edition")}
    seen_indicators, seen_stories = set(), set()
    for chapter in report_2023.chapters.all():
        for url, name in _rows(client, chapter.get_absolute_url(), "indicator"):
            assert indicators[url].chapter_id == chapter.pk
            assert name == indicators[url].name
            seen_indicators.add(url)
        for url, title in _rows(client, chapter.get_absolute_url(), "story"):
            assert title == stories[url].title
            seen_stories.add(url)
    # Every published indicator is listed in its chapter, and every story that has one.
    assert seen_indicators == set(indicators)
    assert seen_stories == {url for url, s in stories.items() if s.chapter_id}


def test_the_rows_show_kind_place_figure_and_comparison_in_english_too(client, report_2023):
    alley = Story.objects.get(edition=report_2023, slug="best-alley-dongbuyaqiao-hutong")
    chapter_page = alley.chapter.get_absolute_url()
    page = client.get(chapter_page).content.decode()
    assert f'<span class="tag tag--{StoryKind.BEST_ALLEY}">最美街巷</span>' in page

    park = Indicator.objects.get(edition=report_2023, code="c4-park-500m-coverage")
    page = client.get(park.chapter.get_absolute_url()).content.decode()
    assert '<span class="indicator-item__compare">2022 年 88.7% → 2023 年 90.5%</span>' in page

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.get(chapter_page).content.decode()
    assert f'<span class="tag tag--{StoryKind.BEST_ALLEY}">Best alley</span>' in english
    assert f'href="{alley.get_absolute_url()}">Dongbuyaqiao Hutong</a>' in english
