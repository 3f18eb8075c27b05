"""Abuse limits: per resident and per hashed address, from settings, shared in Redis."""

import pytest

from feedback.models import Comment, Rating, SurveyResponse, TrustState
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_SURVEY, api_post, api_rate, comment, rate

pytestmark = pytest.mark.django_db

# Hourly rates: django-ratelimit counts in fixed windows, and a per-minute window
# could roll over in the middle of a test.


def test_the_rating_form_answers_429_in_chinese_past_the_resident_limit(settings, indicator, story):
    settings.RATE_LIMIT_RATINGS = "3/h"
    resident = new_resident_client()
    assert [rate(resident, indicator, 4).status_code for _ in range(3)] == [302, 302, 302]

    limited = rate(resident, story, 2)

    assert limited.status_code == 429
    assert "提交过于频繁，请稍后再试" in limited.content.decode()
    assert not Rating.objects.filter(story=story).exists()
    # Another resident from another address is not affected.
    assert rate(new_resident_client(), story, 2).status_code == 302


def test_the_address_limit_stops_a_client_that_drops_its_cookie(settings, indicator):
    settings.RATE_LIMIT_COMMENTS = "2/h"
    settings.RATE_LIMIT_PER_IP_FACTOR = 2
    statuses = [
        comment(new_resident_client(address="198.51.100.7"), indicator, "好").status_code for _ in range(5)
    ]
    assert statuses == [302, 302, 302, 302, 429]
    assert Comment.objects.count() == 4


def test_the_api_answers_429_with_a_readable_message(settings, indicator):
    settings.RATE_LIMIT_RATINGS = "1/h"
    resident = new_resident_client()
    assert api_rate(resident, indicator, 3).status_code == 201
    limited = api_rate(resident, indicator, 5)
    assert limited.status_code == 429
    assert limited.json()["detail"] == "提交过于频繁，请稍后再试。"
    assert Rating.objects.get().score == 3


def test_survey_submissions_are_limited(settings, survey):
    settings.RATE_LIMIT_SURVEY = "1/h"
    resident = new_resident_client()
    answers = [{"question": q.pk, "score": 3} for q in survey.questions.all()]
    assert api_post(resident, API_SURVEY, {"survey": survey.pk, "answers": answers}).status_code == 201
    form = {f"question_{q.pk}": 5 for q in survey.questions.all()}
    limited = resident.post(f"/survey/{survey.pk}/", form)
    assert limited.status_code == 429
    assert "提交过于频繁，请稍后再试" in limited.content.decode()
    assert set(SurveyResponse.objects.get().answers.values_list("score", flat=True)) == {3}


def test_limits_are_counted_in_the_shared_redis_cache(settings, indicator, redis_client):
    settings.RATE_LIMIT_RATINGS = "5/h"
    rate(new_resident_client(), indicator, 4)
    keys = [key.decode() for key in redis_client.keys("*")]
    assert any("rl:" in key for key in keys), keys
    # No raw address in any key.
    assert not any("10." in key or "127.0.0.1" in key for key in keys)


def test_a_refused_submission_does_not_use_up_the_new_identities_of_its_address(settings, indicator):
    # The address limit refuses the third rating; its new identity must not count
    # against the allowance, or refused noise would get later honest phones held.
    settings.RATE_LIMIT_RATINGS = "1/h"
    settings.RATE_LIMIT_PER_IP_FACTOR = 2
    settings.RATE_LIMIT_NEW_RESIDENTS = "3/h"
    address = "198.51.100.9"
    statuses = [api_rate(new_resident_client(address=address), indicator, 4).status_code for _ in range(3)]
    assert statuses == [201, 201, 429]

    settings.RATE_LIMIT_PER_IP_FACTOR = 10
    assert api_rate(new_resident_client(address=address), indicator, 4).status_code == 201
    # Three new identities counted (the refused one not): all within the allowance.
    assert list(Rating.objects.values_list("trust", flat=True)) == [TrustState.COUNTED] * 3


def test_every_limit_counter_expires_with_its_window(settings, indicator, redis_client):
    settings.RATE_LIMIT_RATINGS = "5/h"
    assert api_rate(new_resident_client(), indicator, 4).status_code == 201
    counters = [key for key in redis_client.keys("*") if b"rl:" in key]
    # The resident's and the address's limit, and the address's new identities.
    assert len(counters) == 3
    # An hour's window plus a few seconds; never a counter without an expiry.
    assert all(3600 < redis_client.ttl(key) <= 3605 for key in counters)
