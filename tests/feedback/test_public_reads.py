"""Public pages and the aggregate API read stored aggregates only, in a fixed
number of queries whatever the number of ratings and comments."""

import pytest
from django.db import connection
from django.template import Context, Template
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from feedback import aggregates, submissions
from feedback.models import Comment, ModerationState
from feedback.residents import resident_key_hash
from tests.factories import DistrictFactory, IndicatorFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import rate

pytestmark = pytest.mark.django_db


def _rate_many(target, n: int, start: int = 0, districts=()) -> None:
    for i in range(start, start + n):
        submissions.rating_submit(
            resident_key_hash=resident_key_hash(f"r-{i}"),
            target=target,
            score=i % 5 + 1,
            district=districts[i % len(districts)] if districts else None,
        )


def _comment_many(target, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        Comment.objects.create(
            resident=submissions.resident_get_or_create(key_hash=resident_key_hash(f"c-{i}")),
            indicator=target,
            body=f"留言{i}",
            moderation_state=ModerationState.APPROVED,
        )


def _queries(client, url: str) -> list[str]:
    # The plain SQL: a prepared read's EXECUTE does not name its tables (indicators.compiled).
    with override_settings(DATABASE_PREPARED_STATEMENTS=False), CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return [q["sql"] for q in captured.captured_queries]


def _public_urls(indicator, story, survey, district) -> list[str]:
    return [
        indicator.get_absolute_url(),
        story.get_absolute_url(),
        indicator.chapter.get_absolute_url(),
        f"/api/v1/aggregates/indicators/{indicator.pk}/",
        f"/api/v1/aggregates/stories/{story.pk}/",
        f"/api/v1/aggregates/chapters/{indicator.chapter_id}/",
        f"/api/v1/aggregates/surveys/{survey.pk}/",
        "/api/v1/aggregates/districts/",
        f"/api/v1/aggregates/districts/{district.pk}/",
        f"/api/v1/comments/?target_type=indicator&target_id={indicator.pk}",
        f"/survey/{survey.pk}/",
    ]


def test_public_reads_never_touch_raw_ratings_and_do_not_grow(client, indicator, story, survey):
    districts = [DistrictFactory() for _ in range(4)]
    _rate_many(indicator, 6, districts=districts)
    _rate_many(story, 6)
    _comment_many(indicator, 3)
    aggregates.aggregates_reconcile()
    urls = _public_urls(indicator, story, survey, districts[0])
    small = {url: _queries(client, url) for url in urls}

    _rate_many(indicator, 60, start=100, districts=districts)
    _rate_many(story, 60, start=100)
    _comment_many(indicator, 30, start=100)
    aggregates.aggregates_reconcile()
    large = {url: _queries(client, url) for url in urls}

    for url in urls:
        assert not [sql for sql in large[url] if "feedback_rating" in sql], url
        assert not [sql for sql in large[url] if "feedback_surveyanswer" in sql], url
        assert len(large[url]) == len(small[url]), (url, len(small[url]), len(large[url]))


def test_the_panel_adds_a_constant_number_of_queries(client, indicator):
    _rate_many(indicator, 3)
    aggregates.aggregates_reconcile()
    round_trips = _queries(client, indicator.get_absolute_url())
    # The aggregate, the districts and the approved comments with their replies go with the
    # page's own reads (feedback.selectors.panel_reads): the page is one round trip in all.
    assert len(round_trips) == 1, round_trips
    for table in (
        "feedback_scoreaggregate",
        "indicators_district",
        "feedback_comment",
        "feedback_officialreply",
    ):
        assert f'"{table}"' in round_trips[0], table


def test_a_resident_with_a_cookie_reads_only_their_own_rating(indicator):
    resident = new_resident_client()
    rate(resident, indicator, 4)
    # The page is the same for everyone (it may come from the shared cache): no rating read.
    with CaptureQueriesContext(connection) as captured:
        page = resident.get(indicator.get_absolute_url())
    assert not [q["sql"] for q in captured.captured_queries if "feedback_rating" in q["sql"]]
    assert "可以重新评分" not in page.content.decode()  # (the flash message after rating is there)
    # Their own score comes from /me/fragment/: one lookup by their cookie's hash.
    with CaptureQueriesContext(connection) as captured:
        mine = resident.get(f"/me/fragment/?item=indicator:{indicator.pk}").json()
    touching = [q["sql"] for q in captured.captured_queries if "feedback_rating" in q["sql"]]
    assert len(touching) == 1
    assert "key_hash" in touching[0] and "LIMIT 1" in touching[0]
    assert mine["rating"] == {"score": 4, "text": "您的评分：4 分。可以重新评分，以最后一次为准。"}


def test_mean_is_withheld_below_the_minimum_count(client, indicator, settings):
    settings.AGGREGATE_MIN_COUNT = 5
    _rate_many(indicator, 4)
    aggregates.aggregates_reconcile()
    html = client.get(indicator.get_absolute_url()).content.decode()
    assert "评价人数不足" in html
    assert "共 4 人评价" in html
    api = client.get(f"/api/v1/aggregates/indicators/{indicator.pk}/").json()
    assert api["score"]["count"] == 4
    assert api["score"]["mean"] is None
    assert api["score"]["distribution"] is None  # four scores would give them away

    _rate_many(indicator, 1, start=4)
    aggregates.aggregates_reconcile()
    html = client.get(indicator.get_absolute_url()).content.decode()
    assert "评价人数不足" not in html
    assert "3.00" in html  # (1+2+3+4+5)/5
    assert "95% 区间" in html
    api = client.get(f"/api/v1/aggregates/indicators/{indicator.pk}/").json()
    assert api["score"]["mean"] == "3.000"
    assert api["score"]["ci_low"] == "1.614"  # 3 − 1.96·√2.5/√5
    assert api["score"]["ci_high"] == "4.386"


def test_district_and_chapter_aggregates(client, indicator, story):
    districts = [DistrictFactory() for _ in range(2)]
    _rate_many(indicator, 10, districts=districts)
    _rate_many(story, 5, start=50)
    aggregates.aggregates_reconcile()

    chapter = client.get(f"/api/v1/aggregates/chapters/{indicator.chapter_id}/").json()
    assert chapter["score"]["count"] == 15
    by_district = client.get(f"/api/v1/aggregates/indicators/{indicator.pk}/").json()["score"]["by_district"]
    assert {k: v["count"] for k, v in by_district.items()} == {str(d.pk): 5 for d in districts}
    listing = {row["district"]: row for row in client.get("/api/v1/aggregates/districts/").json()}
    assert listing[districts[0].pk]["score"]["count"] == 5
    assert listing[districts[0].pk]["name"] == districts[0].name


def test_aggregates_of_unpublished_or_unknown_things_are_404(client, chapter):

    draft = IndicatorFactory(chapter=chapter, draft=True)
    assert client.get(f"/api/v1/aggregates/indicators/{draft.pk}/").status_code == 404
    assert client.get("/api/v1/aggregates/stories/999999/").status_code == 404
    assert client.get("/api/v1/aggregates/surveys/999999/").status_code == 404
    assert client.get("/api/v1/aggregates/districts/999999/").status_code == 404


def test_the_chapter_score_tag_shows_the_chapter_aggregate(indicator, story, django_assert_num_queries):

    _rate_many(indicator, 3)
    _rate_many(story, 2, start=10)
    aggregates.aggregates_reconcile()
    template = Template("{% load participation %}{% chapter_score chapter %}")
    with django_assert_num_queries(1):
        html = template.render(Context({"chapter": indicator.chapter}))
    assert "共 5 人评价" in html
    assert "1.80" in html  # (1+2+3 + 1+2) / 5


def test_the_chapter_page_shows_the_chapter_satisfaction(client, indicator, story):
    _rate_many(indicator, 3)
    _rate_many(story, 2, start=10)
    aggregates.aggregates_reconcile()

    response = client.get(indicator.chapter.get_absolute_url())

    assert response.status_code == 200
    html = response.content.decode()
    assert "本章市民满意度" in html
    assert "共 5 人评价" in html
    assert "1.80" in html
