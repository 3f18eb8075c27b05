"""The distribution table of a score, as a visitor reads it on an item page: one row per
score from 5 down to 1, each with its share (the bar's width and the text beside it for
screen readers) and its count, in the page's language."""

import re

import pytest

from feedback.aggregates import aggregates_reconcile
from tests.factories import IndicatorFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import api_rate

pytestmark = pytest.mark.django_db

ROW = re.compile(
    r'<th scope="row" class="dist__label">([^<]*)</th>\s*'
    r'<td class="dist__track"><svg[^>]*><rect class="dist__fill" width="([^"]*)" height="1"/></svg>'
    r'<span class="visually-hidden">([^<]*)</span></td>\s*'
    r'<td class="dist__n">([^<]*)</td>'
)


def _distribution_rows(client, target, language: str) -> list[tuple[str, ...]]:
    client.cookies["django_language"] = language
    response = client.get(target.get_absolute_url())
    assert response.status_code == 200
    page = response.content.decode()
    start = page.index('<table class="dist">')
    return ROW.findall(page[start : page.index("</table>", start)])


def test_each_score_shows_its_share_and_count_from_5_down_to_1(settings, client):
    settings.AGGREGATE_MIN_COUNT = 5
    indicator = IndicatorFactory()
    for score in (5, 5, 5, 4, 2, 2, 1, 5):
        assert api_rate(new_resident_client(), indicator, score).status_code == 201
    aggregates_reconcile()

    # 8 ratings: four 5s (50 %), one 4 (12.5 %), no 3, two 2s (25 %), one 1 (12.5 %).
    assert _distribution_rows(client, indicator, "zh-hans") == [
        ("5 分", "50.0", "50.0%", "4"),
        ("4 分", "12.5", "12.5%", "1"),
        ("3 分", "0.0", "0.0%", "0"),
        ("2 分", "25.0", "25.0%", "2"),
        ("1 分", "12.5", "12.5%", "1"),
    ]
    labels = [row[0] for row in _distribution_rows(client, indicator, "en")]
    assert labels == ["5 / 5", "4 / 5", "3 / 5", "2 / 5", "1 / 5"]


def _score_block(client, url: str, language: str) -> tuple[str, str]:
    """A page's score block: its markup, and its text as a reader sees it (tags left out)."""
    client.cookies["django_language"] = language
    page = client.get(url).content.decode()
    start = page.index('<div class="score">')
    block = page[start : page.index("</table>", start)]
    return block, re.sub(r"<[^>]+>", "", block)


def test_a_chapter_says_how_many_people_rated_and_how_many_ratings_its_bars_count(settings, client, story):
    # Five residents each rate an indicator and a story of one chapter: five people, ten ratings.
    # The chapter's bars count the ten ratings; the line above them said only 共 5 人评价 and the
    # bars' column was headed 人数 (people), so the bars seemed to hold twice the people there were.
    settings.AGGREGATE_MIN_COUNT = 5
    indicator = IndicatorFactory(chapter=story.chapter, edition=story.edition)
    for score in (1, 2, 3, 4, 5):
        browser = new_resident_client()
        for target in (indicator, story):
            assert api_rate(browser, target, score).status_code == 201
    aggregates_reconcile()

    chapter, text = _score_block(client, story.chapter.get_absolute_url(), "zh-hans")
    assert "共 5 人评价（10 条评分）" in text
    assert '<th scope="col">评分数</th>' in chapter and "人数" not in chapter
    assert sum(int(count) for *_row, count in ROW.findall(chapter)) == 10
    english, text = _score_block(client, story.chapter.get_absolute_url(), "en")
    assert "Rated by 5 people (10 ratings)" in text and '<th scope="col">Ratings</th>' in english

    # An item's residents rate it once each: its people are its ratings, said once.
    item, text = _score_block(client, indicator.get_absolute_url(), "zh-hans")
    assert "共 5 人评价" in text and "条评分" not in text
    assert sum(int(count) for *_row, count in ROW.findall(item)) == 5
