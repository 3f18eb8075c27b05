"""One address cannot become a crowd: new identities beyond RATE_LIMIT_NEW_RESIDENTS
are stored and acknowledged as usual, but held out of every figure."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from feedback import aggregates, submissions
from feedback.limits import SubmissionSource
from feedback.models import Comment, ModerationState, Rating, SurveyResponse, TrustState
from feedback.residents import COOKIE_NAME, client_address_hash, resident_key_hash
from feedback.trust import responses_hold_decide
from tests.factories import IndicatorFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_COMMENTS, API_SURVEY, aggregate_of, api_post, api_rate, rate

pytestmark = pytest.mark.django_db

ADDRESS = "198.51.100.23"
NEW_IDENTITIES = "同一网络新身份过多"


def _fresh(address: str = ADDRESS) -> Client:
    """A client with no cookie: each request from it is a new anonymous resident."""
    return Client(REMOTE_ADDR=address)


def test_beyond_the_limit_ratings_are_stored_acknowledged_alike_and_held(settings, indicator):
    settings.RATE_LIMIT_NEW_RESIDENTS = "3/h"
    responses = [api_rate(_fresh(), indicator, 1) for _ in range(5)]

    assert [r.status_code for r in responses] == [201] * 5
    # Nothing in the answer tells a held rating from a counted one.
    assert {tuple(sorted(r.json())) for r in responses} == {tuple(sorted(responses[0].json()))}
    assert all(COOKIE_NAME in r.cookies for r in responses)
    ratings = list(Rating.objects.order_by("id"))
    assert [r.trust for r in ratings] == [TrustState.COUNTED] * 3 + [TrustState.HELD] * 2
    assert [r.hold_reason for r in ratings[3:]] == [NEW_IDENTITIES] * 2

    aggregates.aggregates_reconcile()
    assert aggregate_of("indicator", indicator.pk).count == 3


def test_the_form_redirects_with_the_usual_message_when_held(settings, indicator):
    settings.RATE_LIMIT_NEW_RESIDENTS = "1/h"
    pages = []
    for _ in range(2):
        client = _fresh()
        response = rate(client, indicator, 5)
        assert response.status_code == 302
        pages.append(client.get(response["Location"]).content.decode())

    assert all("已收到您的评分：5 分" in page for page in pages)
    assert Rating.objects.filter(trust=TrustState.HELD).count() == 1


def test_returning_residents_on_a_shared_address_are_never_held(settings, indicator, story):
    settings.RATE_LIMIT_NEW_RESIDENTS = "2/h"
    regulars = [_fresh() for _ in range(2)]
    for client in regulars:
        assert api_rate(client, indicator, 4).status_code == 201
    # The address's allowance is used up, but residents with their cookie are not new.
    for client in regulars:
        assert api_rate(client, story, 5).status_code == 201
    assert api_rate(_fresh(), story, 1).status_code == 201

    assert Rating.objects.filter(trust=TrustState.COUNTED).count() == 4
    assert Rating.objects.get(trust=TrustState.HELD).score == 1
    # Another address has its own allowance.
    assert api_rate(new_resident_client(), story, 3).status_code == 201
    assert Rating.objects.filter(trust=TrustState.HELD).count() == 1


def test_a_held_rating_stays_held_when_its_resident_rates_again(settings, indicator):
    settings.RATE_LIMIT_NEW_RESIDENTS = "1/h"
    api_rate(_fresh(), indicator, 5)
    stuffer = _fresh()
    api_rate(stuffer, indicator, 1)
    assert Rating.objects.get(score=1).trust == TrustState.HELD

    # With its cookie the resident is no longer new, but the re-rating does not lift the hold.
    assert api_rate(stuffer, indicator, 2).status_code == 201
    rating = Rating.objects.get(score=2)
    assert (rating.score, rating.trust, rating.hold_reason) == (2, TrustState.HELD, NEW_IDENTITIES)


def test_a_discarded_rating_stays_discarded_and_a_counted_one_is_held_by_a_held_source(indicator):
    key = resident_key_hash("someone")
    counted = SubmissionSource(source_hash="a" * 32)
    held = SubmissionSource(source_hash="b" * 32, hold_reason=NEW_IDENTITIES)

    rating = submissions.rating_submit(resident_key_hash=key, target=indicator, score=4, source=counted)
    assert Rating.objects.get(pk=rating.pk).trust == TrustState.COUNTED
    submissions.rating_submit(resident_key_hash=key, target=indicator, score=3, source=held)
    stored = Rating.objects.get(pk=rating.pk)
    assert (stored.score, stored.trust, stored.source_hash) == (3, TrustState.HELD, "b" * 32)

    Rating.objects.filter(pk=rating.pk).update(trust=TrustState.DISCARDED)
    submissions.rating_submit(resident_key_hash=key, target=indicator, score=5, source=counted)
    submissions.rating_submit(resident_key_hash=key, target=indicator, score=5, source=held)
    assert Rating.objects.get(pk=rating.pk).trust == TrustState.DISCARDED
    assert Rating.objects.count() == 1


def test_a_comment_from_a_held_source_waits_for_a_moderator_even_under_post_moderation(settings, indicator):
    settings.COMMENT_MODERATION = "post"
    settings.RATE_LIMIT_NEW_RESIDENTS = "1/h"
    target = {"target_type": "indicator", "target_id": indicator.pk}
    first = api_post(_fresh(), API_COMMENTS, {**target, "body": "很好"})
    second = api_post(_fresh(), API_COMMENTS, {**target, "body": "也很好"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert Comment.objects.get(body="很好").moderation_state == ModerationState.APPROVED
    held = Comment.objects.get(body="也很好")
    assert held.moderation_state == ModerationState.PENDING
    assert NEW_IDENTITIES in held.held_reason


def test_a_survey_response_from_a_held_source_is_held(settings, survey):
    settings.RATE_LIMIT_NEW_RESIDENTS = "1/h"
    answers = [{"question": q.pk, "score": 2} for q in survey.questions.all()]
    for _ in range(2):
        assert api_post(_fresh(), API_SURVEY, {"survey": survey.pk, "answers": answers}).status_code == 201

    assert list(SurveyResponse.objects.order_by("id").values_list("trust", "hold_reason")) == [
        (TrustState.COUNTED, ""),
        (TrustState.HELD, NEW_IDENTITIES),
    ]


def test_the_source_is_a_keyed_hash_of_the_address_never_the_address(settings):
    indicators = [IndicatorFactory() for _ in range(2)]
    api_rate(_fresh("203.0.113.9"), indicators[0], 4)
    api_rate(_fresh("203.0.113.9"), indicators[1], 4)
    api_rate(_fresh("203.0.113.10"), indicators[1], 4)

    hashes = list(Rating.objects.order_by("id").values_list("source_hash", flat=True))
    assert hashes[0] == hashes[1] != hashes[2]
    assert all(len(h) == 32 and int(h, 16) >= 0 for h in hashes)
    assert not any("203.0.113" in h for h in hashes)
    request = type("Request", (), {"META": {"REMOTE_ADDR": "203.0.113.9"}})()
    assert hashes[0] == client_address_hash(request)


def test_a_person_releases_a_held_survey_response_and_its_answers_count(settings, survey):
    settings.RATE_LIMIT_NEW_RESIDENTS = "1/h"
    answers = [{"question": q.pk, "score": 2} for q in survey.questions.all()]
    for _ in range(2):
        api_post(_fresh(), API_SURVEY, {"survey": survey.pk, "answers": answers})
    aggregates.aggregates_reconcile()
    assert aggregate_of("survey", survey.pk).count == 3  # one response of three answers

    staff = get_user_model().objects.create_user("staff", password="pw-long-enough-1", is_staff=True)
    held = SurveyResponse.objects.filter(trust=TrustState.HELD)
    assert responses_hold_decide(responses=held, release=True, actor=staff) == 1

    aggregates.aggregates_reconcile()
    assert aggregate_of("survey", survey.pk).count == 6
    assert not SurveyResponse.objects.filter(trust=TrustState.HELD).exists()
