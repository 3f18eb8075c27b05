"""The queue: what it lists, its filters, counts, order, pages and query count."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from review import services
from review.models import CaseStatus, ReviewCase
from tests.factories import ChapterFactory, IndicatorFactory, StoryFactory
from tests.review.helpers import login, make_survey, submit_comment, submit_rating, submit_survey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


QUEUE_QUERIES = 11


def _queue(client, **params):
    response = client.get(reverse("review:queue"), params)
    assert response.status_code == 200
    return response


def _ids(response) -> list[int]:
    return [case.pk for case in response.context["page"].object_list]


@pytest.fixture
def mixed(world):
    """Area A: a comment (world), a survey answer, a low rating on an indicator; area B: one comment."""
    survey = make_survey(world.chapter.edition)
    submit_survey(survey, {"公共交通": (2, "地铁换乘太远"), "积水防涝": (4, "")}, district=world.district_a)
    other_chapter = ChapterFactory(edition=world.chapter.edition, theme="安全韧性")
    flood = IndicatorFactory(chapter=other_chapter, name="积水点治理")
    submit_rating(flood, 1, district=world.district_a)
    submit_rating(flood, 4, district=world.district_a)  # no case
    return {
        "survey": ReviewCase.objects.get(kind="survey_answer"),
        "rating": ReviewCase.objects.get(kind="rating"),
        "flood": flood,
        "other_chapter": other_chapter,
    }


def test_queue_lists_comments_survey_text_and_low_ratings_of_the_area(world, mixed):
    client = login(Client(), world.planner_a)
    response = _queue(client)
    assert set(_ids(response)) == {world.case_a.pk, mixed["survey"].pk, mixed["rating"].pk}
    page = response.content.decode()
    assert "胡同里的共享单车太多了" in page and "地铁换乘太远" in page
    assert "积水点治理" in page and "东城最美街巷" in page and "公共交通" in page
    assert "口袋公园" not in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "comment"}, {"case_a"}),
        ({"kind": "survey_answer"}, {"survey"}),
        ({"kind": "rating"}, {"rating"}),
        ({"score": "1"}, {"rating"}),
        ({"score": "2"}, {"survey"}),
        ({"moderation": "pending"}, {"case_a"}),
        ({"moderation": "approved"}, set()),
        ({"q": "共享单车"}, {"case_a"}),
        ({"q": "积水点"}, {"rating"}),
        ({"status": "new"}, {"case_a", "survey", "rating"}),
        ({"status": "closed"}, set()),
        ({"district": "A"}, {"case_a", "survey", "rating"}),
        ({"chapter": "other"}, {"rating"}),
        ({"item": "flood"}, {"rating"}),
        ({"item": "story_a"}, {"case_a"}),
        ({"received_from": "today"}, {"case_a", "survey", "rating"}),
        ({"received_to": "yesterday"}, set()),
    ],
)
def test_filters(world, mixed, params, expected):
    today = timezone.localdate()
    values = {
        "A": world.district_a.pk,
        "other": mixed["other_chapter"].pk,
        "flood": f"indicator-{mixed['flood'].pk}",
        "story_a": f"story-{world.story_a.pk}",
        "today": today.isoformat(),
        "yesterday": (today - timedelta(days=1)).isoformat(),
    }
    params = {k: values.get(v, v) for k, v in params.items()}
    names = {"case_a": world.case_a.pk, "survey": mixed["survey"].pk, "rating": mixed["rating"].pk}
    response = _queue(login(Client(), world.planner_a), **params)
    assert set(_ids(response)) == {names[n] for n in expected}


def test_bad_filter_values_show_the_form_errors_not_a_500(world):
    client = login(Client(), world.planner_a)
    response = _queue(client, score="9", received_from="yesterday-ish", district="abc", item="nonsense-1")
    form = response.context["filter"].form
    assert {"score", "received_from", "district", "item"} <= set(form.errors)


def test_district_filter_of_another_area_is_refused(world):
    response = _queue(login(Client(), world.planner_a), district=world.district_b.pk)
    assert "district" in response.context["filter"].form.errors
    assert world.case_b.pk not in _ids(response)


def test_counts_per_status_and_ordering(world, mixed):
    services.case_transition(user=world.planner_a, case=world.case_a, to_status=CaseStatus.IN_REVIEW)
    client = login(Client(), world.planner_a)
    response = _queue(client)
    counts = {tab["value"]: tab["count"] for tab in response.context["status_tabs"]}
    assert counts == {"new": 2, "in_review": 1, "answered": 0, "closed": 0}
    assert 'data-status="in_review">1<' in response.content.decode()
    # The counts follow the other filters.
    counts = {t["value"]: t["count"] for t in _queue(client, kind="comment").context["status_tabs"]}
    assert counts == {"new": 0, "in_review": 1, "answered": 0, "closed": 0}

    newest = _ids(_queue(client))
    oldest = _ids(_queue(client, order="oldest"))
    assert newest == [mixed["rating"].pk, mixed["survey"].pk, world.case_a.pk]
    assert oldest == list(reversed(newest))


def _make_cases(world, n: int) -> None:
    for i in range(n):
        story = StoryFactory(chapter=world.chapter, district=world.district_a)
        submit_comment(story, f"意见{i}")
        submit_rating(story, 1)


def test_pagination(world):
    _make_cases(world, 15)  # 30 more cases in area A
    client = login(Client(), world.planner_a)
    first = _queue(client)
    second = _queue(client, page=2)
    assert len(_ids(first)) == 25 and len(_ids(second)) == 6
    assert not set(_ids(first)) & set(_ids(second))
    assert _queue(client, page=99).context["page"].number == 2


def test_queue_query_count_does_not_grow_with_the_cases(world, django_assert_num_queries):
    client = login(Client(), world.planner_a)
    _make_cases(world, 3)
    _queue(client)  # warm the session and content types

    def count(params) -> int:
        with CaptureQueriesContext(connection) as queries:
            _queue(client, **params)
        return len(queries)

    small = count({})
    small_filtered = count({"kind": "comment", "q": "意见"})
    _make_cases(world, 27)  # ten times as many stories with cases
    assert ReviewCase.objects.filter(district=world.district_a).count() == 1 + 2 * 30
    assert count({}) == small
    assert count({"kind": "comment", "q": "意见"}) == small_filtered
    # session, user, is-reviewer, the nav's planner title, paginator count, page, status counts,
    # the overdue / due-soon counts, and the district, chapter and item choices of the filter form.
    assert small == QUEUE_QUERIES
    with django_assert_num_queries(QUEUE_QUERIES):
        _queue(client)
