"""The dashboard: satisfaction from the stored aggregates, backlog, reply time, weekly trend."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.aggregates import aggregates_reconcile
from review import services
from review.models import CaseStatus, ReviewCase
from tests.factories import IndicatorFactory
from tests.review.helpers import login, new_resident_key, submit_comment, submit_rating

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


@pytest.fixture
def rated(world):
    low = world.indicator  # 背街小巷环境整治
    good = IndicatorFactory(chapter=world.chapter, name="街巷绿化")
    for score in (1, 1, 2, 2, 1):
        submit_rating(low, score, district=world.district_a)
    for score in (5, 5, 5, 5, 5):
        submit_rating(low, score, district=world.district_b)
    for score in (4, 5, 4, 5, 4):
        submit_rating(good, score, district=world.district_a)
    submit_rating(good, 3, district=world.district_b)
    aggregates_reconcile()
    return {"low": low, "good": good}


def _dash(client):
    response = client.get(reverse("review:dashboard"))
    assert response.status_code == 200
    return response


def test_satisfaction_of_the_planners_districts_from_the_aggregates(world, rated):
    context = _dash(login(Client(), world.planner_a)).context
    items = {row["label"]: (row["count"], round(row["mean"], 2)) for row in context["items"]}
    assert items == {"背街小巷环境整治": (5, 1.4), "街巷绿化": (5, 4.4)}
    [chapter] = context["by_chapter"]
    assert (chapter["count"], round(chapter["mean"], 2)) == (10, 2.9)
    assert [row["label"] for row in context["lowest"]] == ["背街小巷环境整治", "街巷绿化"]


def test_staff_see_the_whole_city(world, rated):
    context = _dash(login(Client(), world.staff)).context
    items = {row["label"]: (row["count"], round(row["mean"], 2)) for row in context["items"]}
    assert items == {"背街小巷环境整治": (10, 3.2), "街巷绿化": (6, 4.17)}


def test_one_resident_rating_five_items_of_the_area_is_not_a_chapter_mean(world):
    """The minimum counts people, as on the public site: five ratings by one resident are one rater."""
    key = new_resident_key()
    for n in range(5):
        submit_rating(
            IndicatorFactory(chapter=world.chapter, name=f"指标{n}"), 2, district=world.district_a, key=key
        )
    aggregates_reconcile()
    response = _dash(login(Client(), world.planner_a))
    [chapter] = response.context["by_chapter"]
    assert (chapter["count"], chapter["raters"], chapter["mean"]) == (5, 1, None)
    # The chapter table says so: one person under 评价人数, five under 评分数 (it said 5 people).
    table = response.content.decode().split('id="chapter-table"', 1)[1].split("</table>", 1)[0]
    heads = re.findall(r'<th scope="col">([^<]*)</th>', table)
    [row] = re.findall(r"<tbody><tr>(.*?)</tr>", table)
    assert heads == ["章", "平均分", "评价人数", "评分数"]
    assert re.findall(r"<td>(\d+)</td>", row) == ["1", "5"]


def test_below_five_ratings_no_mean_is_shown(world, rated):
    context = _dash(login(Client(), world.planner_b)).context
    items = {row["label"]: (row["count"], row["mean"]) for row in context["items"]}
    assert items["街巷绿化"] == (1, None)
    assert "评价人数不足" in _dash(login(Client(), world.planner_b)).content.decode()
    assert [row["label"] for row in context["lowest"]] == ["背街小巷环境整治"]


def test_backlog_median_reply_time_and_weekly_trend(world):
    now = timezone.now()
    cases = [world.case_a, *(submit_comment(world.story_a)[1] for _ in range(2))]
    for case, hours in zip(cases, (10, 2, 4), strict=True):
        services.case_reply(user=world.planner_a, case=case, body="答复")
        case.refresh_from_db()
        ReviewCase.objects.filter(pk=case.pk).update(received_at=case.first_reply_at - timedelta(hours=hours))
    services.case_transition(user=world.planner_a, case=cases[0], to_status=CaseStatus.IN_REVIEW)
    old = submit_comment(world.story_a)[1]
    ReviewCase.objects.filter(pk=old.pk).update(received_at=now - timedelta(weeks=3))
    ancient = submit_comment(world.story_a)[1]
    ReviewCase.objects.filter(pk=ancient.pk).update(received_at=now - timedelta(weeks=20))

    response = _dash(login(Client(), world.planner_a))
    context = response.context
    assert {row["status"].value: row["count"] for row in context["backlog"]} == {
        "new": 4,
        "in_review": 1,
        "answered": 0,
        "closed": 0,
    }
    assert context["median_hours"] == pytest.approx(4.0, abs=0.01)
    assert context["replied_count"] == 3
    weekly = context["weekly"]
    assert len(weekly) == 12
    assert weekly[-1]["week"] <= timezone.localdate() < weekly[-1]["week"] + timedelta(days=7)
    assert weekly[-1]["count"] + weekly[-2]["count"] == 3  # the three replied cases, this week or last
    assert sum(row["count"] for row in weekly) == 4  # the 20-week-old case is outside
    page = response.content.decode()
    assert 'id="median-reply"' in page and "4.0" in page
    assert 'data-chart="chart-weekly"' in page and 'id="chart-weekly"' in page
    assert "/static/vendor/chartjs/chart.umd." in page


def test_dashboard_reads_aggregates_never_raw_ratings_in_constant_queries(world, rated):
    client = login(Client(), world.planner_a)
    _dash(client)

    def run():
        with CaptureQueriesContext(connection) as queries:
            _dash(client)
        return [q["sql"] for q in queries.captured_queries]

    before = run()
    # Figures come from the aggregates; the one read of raw ratings is the list of
    # held ones a person must decide (few, on the partial index of not-counted ratings).
    assert [sql for sql in before if "feedback_rating" in sql and "'held'" not in sql] == []
    for i in range(10):
        indicator = IndicatorFactory(chapter=world.chapter)
        for score in (1, 2, 3, 4, 5):
            submit_rating(indicator, score, district=world.district_a)
        submit_comment(world.story_a, f"意见{i}")
    aggregates_reconcile()
    after = run()
    assert len(after) == len(before)
    assert len(_dash(client).context["items"]) == 12


def test_a_story_located_in_the_area_counts_all_its_ratings(world):
    # Raters of the area's own story who did not say where they live, and one from district B.
    for score in (2, 3, 4, 4, 5):
        submit_rating(world.story_a, score)
    submit_rating(world.story_a, 1, district=world.district_b)
    aggregates_reconcile()

    planner_a = _dash(login(Client(), world.planner_a)).context
    items = {row["label"]: (row["count"], round(row["mean"], 2)) for row in planner_a["items"]}
    assert items == {"东城最美街巷": (6, 3.17)}

    # Planner B sees it only through the one rating of a district B resident.
    planner_b = _dash(login(Client(), world.planner_b)).context
    assert {row["label"]: row["count"] for row in planner_b["items"]} == {"东城最美街巷": 1}
