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
