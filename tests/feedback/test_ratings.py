"""Ratings: one current rating per resident per item, enforced by the database,
and aggregates refreshed by a real Celery worker, coalesced under a burst."""

import random
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.test import Client

from feedback import submissions
from feedback.models import Rating, Resident
from feedback.residents import COOKIE_NAME, resident_key_hash
from tests.feedback.conftest import cookie_key_hash, new_resident_client, wait_until
from tests.feedback.helpers import aggregate_of, api_rate, comment, exact_mean, rate


@pytest.mark.django_db
def test_rating_form_stores_the_score_and_redirects_back_to_the_item(resident_client, indicator):
    response = rate(resident_client, indicator, 4)

    assert response.status_code == 302
    assert response["Location"] == f"{indicator.get_absolute_url()}#participation"
    rating = Rating.objects.get()
    assert (rating.indicator, rating.score) == (indicator, 4)
    cookie = response.cookies[COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    page = resident_client.get(response["Location"])
    assert "已收到您的评分：4 分" in page.content.decode()
    assert "您的评分：4 分" in page.content.decode()


@pytest.mark.django_db
def test_only_a_keyed_hash_of_the_cookie_id_and_no_address_is_stored(indicator):
    client = new_resident_client(address="203.0.113.77")
    rate(client, indicator, 3)

    comment(client, indicator, "路边停车太乱")

    resident = Resident.objects.get()
    assert resident.key_hash == cookie_key_hash(client)
    signed = client.cookies[COOKIE_NAME].value
    raw_id = signed.split(":")[0]
    assert raw_id not in resident.key_hash
    assert resident.key_hash != resident_key_hash("")  # a real id, not an empty one
    with connection.cursor() as cursor:
        for table in ("feedback_resident", "feedback_rating", "feedback_comment"):
            cursor.execute(f"SELECT row_to_json(t)::text FROM {table} t")  # noqa: S608 - fixed names
            dump = " ".join(row[0] for row in cursor.fetchall())
            assert "203.0.113.77" not in dump
            assert raw_id not in dump


@pytest.mark.django_db
def test_a_new_rating_replaces_the_old_one(resident_client, indicator):
    rate(resident_client, indicator, 2)
    rate(resident_client, indicator, 5)

    assert Rating.objects.count() == 1
    assert Rating.objects.get().score == 5


@pytest.mark.django_db
def test_the_api_sets_the_cookie_and_a_second_call_replaces_the_rating(story):
    client = new_resident_client()
    first = api_rate(client, story, 1)
    assert first.status_code == 201
    assert first.json()["score"] == 1
    assert COOKIE_NAME in first.cookies

    second = api_rate(client, story, 4)
    assert second.status_code == 201
    assert Rating.objects.filter(story=story).count() == 1
    assert Rating.objects.get(story=story).score == 4
    assert second.json()["id"] == first.json()["id"]


@pytest.mark.django_db
def test_ratings_of_indicator_and_story_of_one_resident_are_separate(resident_client, indicator, story):
    rate(resident_client, indicator, 2)
    rate(resident_client, story, 3)
    assert sorted(Rating.objects.values_list("score", flat=True)) == [2, 3]


def test_rerating_moves_the_aggregate_with_a_real_worker(celery_worker, indicator):
    client = new_resident_client()
    rate(client, indicator, 2)
    wait_until(lambda: (a := aggregate_of("indicator", indicator.pk)) and a.total == 2, 30, "first score")

    rate(client, indicator, 5)

    wait_until(lambda: aggregate_of("indicator", indicator.pk).total == 5, 30, "re-rated score")
    aggregate = aggregate_of("indicator", indicator.pk)
    assert (aggregate.count, aggregate.distribution) == (1, [0, 0, 0, 0, 1])
    assert Rating.objects.count() == 1


def test_200_concurrent_ratings_from_200_residents(celery_worker, indicator):
    scores = [random.Random(200 + n).randint(1, 5) for n in range(200)]
    start = threading.Barrier(len(scores))

    def submit(score: int) -> int:
        client = new_resident_client()
        try:
            start.wait()
            return api_rate(client, indicator, score).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(scores)) as pool:
        statuses = list(pool.map(submit, scores))

    assert statuses == [201] * 200
    assert Rating.objects.filter(indicator=indicator).count() == 200
    aggregate = wait_until(
        lambda: (a := aggregate_of("indicator", indicator.pk)) and a.count == 200 and a,
        60,
        "aggregate of 200 ratings",
    )
    assert aggregate.total == sum(scores)
    assert aggregate.mean == exact_mean(scores)
    assert aggregate.distribution == [scores.count(s) for s in range(1, 6)]
    print(f"\n200 concurrent ratings: count={aggregate.count} mean={aggregate.mean}")  # noqa: T201 - reported figure


def test_200_simultaneous_submissions_of_one_resident_leave_one_row(transactional_db, settings, indicator):
    settings.RATE_LIMIT_RATINGS = "1000/h"  # this test is about the database, not the limiter
    first = new_resident_client()
    assert api_rate(first, indicator, 3).status_code == 201
    cookie = first.cookies[COOKIE_NAME].value
    start = threading.Barrier(200)

    def submit(score: int) -> int:
        client = Client(REMOTE_ADDR="10.9.9.9")
        client.cookies[COOKIE_NAME] = cookie
        try:
            start.wait()
            return api_rate(client, indicator, score).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=200) as pool:
        statuses = list(pool.map(submit, [n % 5 + 1 for n in range(200)]))

    assert statuses == [201] * 200
    assert Rating.objects.filter(indicator=indicator).count() == 1
    assert Resident.objects.count() == 1


def test_a_burst_of_1000_ratings_on_one_item_costs_few_refreshes(
    celery_worker, indicator, refresh_delay, wait_for_idle_broker
):
    scores = [random.Random(n).randint(1, 5) for n in range(1000)]
    began = time.monotonic()
    for n, score in enumerate(scores):
        key_hash = resident_key_hash(f"burst-{n}")
        submissions.rating_submit(resident_key_hash=key_hash, target=indicator, score=score)
    submitted_in = time.monotonic() - began

    aggregate = wait_until(
        lambda: (a := aggregate_of("indicator", indicator.pk)) and a.count == 1000 and a,
        60,
        "aggregate of 1000 ratings",
    )
    assert aggregate.total == sum(scores)
    assert aggregate.mean == exact_mean(scores)
    wait_for_idle_broker()  # let any last queued refresh finish before counting
    log = celery_worker.log_path.read_text(errors="replace")
    refreshes = len(re.findall(rf"aggregates refreshed: .*\bindicator:{indicator.pk}\b", log))
    print(  # noqa: T201 - the figure the issue asks to report
        f"\n1000 ratings in {submitted_in:.1f}s caused {refreshes} refreshes of the item's aggregate "
        f"(AGGREGATE_REFRESH_DELAY={refresh_delay}s)"
    )
    assert 1 <= refreshes <= 25
