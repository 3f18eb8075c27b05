"""Every bad input gets 400 (or 413) with field messages, and nothing is stored."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Comment, Rating, Resident, SurveyAnswer, SurveyResponse
from tests.factories import EditionFactory, IndicatorFactory, StoryFactory
from tests.feedback.helpers import API_COMMENTS, API_RATINGS, API_SURVEY, api_post, comment, rate

SEVERAL_MB = "评" * (3 * 1024 * 1024)

pytestmark = pytest.mark.django_db


def _nothing_stored() -> None:
    assert not Rating.objects.exists()
    assert not Comment.objects.exists()
    assert not SurveyResponse.objects.exists()
    assert not SurveyAnswer.objects.exists()
    assert not Resident.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"score": 0}, "score"),
        ({"score": 6}, "score"),
        ({"score": "abc"}, "score"),
        ({"score": 2.5}, "score"),
        ({"score": None}, "score"),
        ({"score": True}, "score"),
        ({"score": -1}, "score"),
        ({"score": 3, "target_id": 999999}, "target_id"),
        ({"score": 3, "target_type": "chapter"}, "target_type"),
        ({"score": 3, "target_id": "x"}, "target_id"),
        ({"score": 3, "district": 999999}, "district"),
    ],
)
def test_api_rating_bad_input(client, indicator, payload, field):
    body = {"target_type": "indicator", "target_id": indicator.pk, **payload}
    response = api_post(client, API_RATINGS, body)
    assert response.status_code == 400
    assert field in response.json()
    _nothing_stored()


@pytest.mark.parametrize("missing", ["score", "target_type", "target_id"])
def test_api_rating_missing_fields(client, indicator, missing):
    body = {"target_type": "indicator", "target_id": indicator.pk, "score": 3}
    del body[missing]
    response = api_post(client, API_RATINGS, body)
    assert response.status_code == 400
    assert missing in response.json()
    _nothing_stored()


@pytest.mark.parametrize(
    "make_target",
    [
        lambda chapter: IndicatorFactory(chapter=chapter, draft=True),
        lambda chapter: IndicatorFactory(chapter=chapter, scheduled=True),
        lambda chapter: StoryFactory(chapter=chapter, draft=True),
        lambda chapter: IndicatorFactory(chapter__edition=EditionFactory(draft=True)),
    ],
    ids=["draft-indicator", "scheduled-indicator", "draft-story", "draft-edition"],
)
def test_unpublished_targets_cannot_be_rated_or_commented(client, chapter, make_target):
    target = make_target(chapter)
    kind = "indicator" if hasattr(target, "code") else "story"
    for url, extra in ((API_RATINGS, {"score": 3}), (API_COMMENTS, {"body": "你好"})):
        response = api_post(client, url, {"target_type": kind, "target_id": target.pk, **extra})
        assert response.status_code == 400
        assert "target_id" in response.json()
    assert rate(client, target, 3).status_code == 404
    assert comment(client, target, "你好").status_code == 404
    _nothing_stored()


def test_api_body_not_json_is_400(client):
    response = client.post(API_RATINGS, data="{not json", content_type="application/json")
    assert response.status_code == 400
    _nothing_stored()


@pytest.mark.parametrize("url", [API_RATINGS, API_COMMENTS, API_SURVEY])
def test_api_body_of_several_megabytes_is_413(client, indicator, url):
    payload = {"target_type": "indicator", "target_id": indicator.pk, "score": 3, "body": SEVERAL_MB}
    response = client.post(url, data=json.dumps(payload), content_type="application/json")
    assert response.status_code == 413
    assert "detail" in response.json()
    _nothing_stored()


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"body": "字" * 1001}, "body", "1000"),
        ({"body": "   \n "}, "body", "请填写留言内容"),
        ({}, "body", ""),
        ({"body": "好", "nickname": "名" * 31}, "nickname", ""),
    ],
)
def test_api_comment_bad_input(client, indicator, payload, field, message):
    body = {"target_type": "indicator", "target_id": indicator.pk, **payload}
    response = api_post(client, API_COMMENTS, body)
    assert response.status_code == 400
    assert field in response.json()
    assert message in " ".join(response.json()[field])
    _nothing_stored()


def _answers(survey, **overrides):
    return [{"question": q.pk, "score": overrides.get(q.dimension, 4)} for q in survey.questions.all()]


@pytest.mark.parametrize("bad_score", [0, 6, "abc", None])
def test_api_survey_bad_score(client, survey, bad_score):
    answers = _answers(survey, 公共交通=bad_score)
    response = api_post(client, API_SURVEY, {"survey": survey.pk, "answers": answers})
    assert response.status_code == 400
    assert "answers" in response.json()
    _nothing_stored()


def test_api_survey_missing_unknown_and_too_long_answers(client, survey, edition):
    questions = list(survey.questions.all())
    cases = [
        ({"survey": survey.pk, "answers": _answers(survey)[:-1]}, f"question_{questions[-1].pk}"),
        ({"survey": survey.pk, "answers": [*_answers(survey), {"question": 999999, "score": 3}]}, "answers"),
        (
            {
                "survey": survey.pk,
                "answers": [{**_answers(survey)[0], "comment": "长" * 1001}, *_answers(survey)[1:]],
            },
            "answers",
        ),
        ({"survey": 999999, "answers": _answers(survey)}, "survey"),
        ({"answers": _answers(survey)}, "survey"),
        ({"survey": survey.pk}, "answers"),
        ({"survey": survey.pk, "answers": []}, "answers"),
    ]
    for payload, field in cases:
        response = api_post(client, API_SURVEY, payload)
        assert response.status_code == 400, payload
        assert field in response.json(), (payload, response.json())
    _nothing_stored()


def test_closed_survey_refuses_answers(client, survey):

    survey.opens_at = timezone.now() - timedelta(days=60)
    survey.closes_at = timezone.now() - timedelta(days=1)
    survey.save()
    response = api_post(client, API_SURVEY, {"survey": survey.pk, "answers": _answers(survey)})
    assert response.status_code == 400
    assert "问卷已截止" in " ".join(response.json()["survey"])
    _nothing_stored()


# --- The HTML forms ----------------------------------------------------------------------


@pytest.mark.parametrize("score", ["0", "6", "abc", ""])
def test_rating_form_bad_score_reshows_the_form_with_a_message(client, indicator, score):
    response = rate(client, indicator, score)
    assert response.status_code == 400
    html = response.content.decode()
    assert "请修改后重新提交" in html
    assert "评分须为 1 到 5 的整数" in html or "请选择 1 到 5 分" in html
    assert f'action="{reverse("feedback:rate", args=["indicator", indicator.pk])}"' in html
    assert indicator.get_absolute_url() in html  # a link back
    _nothing_stored()


def test_comment_form_too_long_reshows_the_text_with_a_message(client, indicator):
    text = "长" * 1001
    response = comment(client, indicator, text)
    assert response.status_code == 400
    html = response.content.decode()
    assert "1000" in html
    assert text in html  # nothing the resident typed is lost
    _nothing_stored()


def test_comment_form_blank_after_stripping_is_refused(client, indicator):
    response = comment(client, indicator, "  \n\t ")
    assert response.status_code == 400
    assert "请填写留言内容" in response.content.decode()
    _nothing_stored()


def test_html_form_body_of_several_megabytes_is_413(client, indicator):
    response = comment(client, indicator, SEVERAL_MB)
    assert response.status_code == 413
    assert "提交的内容过大" in response.content.decode()
    _nothing_stored()


def test_unknown_target_kind_is_404(client, indicator):
    response = client.post(f"/participate/chapter/{indicator.pk}/rate/", {"score": 3})
    assert response.status_code == 404
    _nothing_stored()


def test_honeypot_filled_stores_nothing(client, indicator, survey):
    assert rate(client, indicator, 4, website="http://spam.example").status_code == 302
    assert comment(client, indicator, "好", website="http://spam.example").status_code == 302
    data = {f"question_{q.pk}": 3 for q in survey.questions.all()}
    assert client.post(f"/survey/{survey.pk}/", {**data, "website": "x"}).status_code == 302
    _nothing_stored()
