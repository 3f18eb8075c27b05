"""Staff tools: every feedback model in the admin, no resident identifier beyond a hash prefix."""

import pytest
from django.contrib.auth import get_user_model

from feedback import aggregates
from feedback.models import Comment, Rating, Resident, ScoreAggregate, Survey, SurveyResponse
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment, rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.com", "pw-long-enough-1"))
    return client


def test_every_feedback_admin_page_opens_without_showing_resident_ids(staff_client, indicator, survey):
    resident = new_resident_client()
    rate(resident, indicator, 2)
    comment(resident, indicator, "请增加座椅")
    form = {f"question_{q.pk}": 3 for q in survey.questions.all()}
    resident.post(f"/survey/{survey.pk}/", form)
    aggregates.aggregates_reconcile()
    key_hash = Resident.objects.get().key_hash
    objects = {
        "comment": Comment.objects.get(),
        "rating": Rating.objects.get(),
        "resident": Resident.objects.get(),
        "surveyresponse": SurveyResponse.objects.get(),
        "survey": survey,
        "scoreaggregate": ScoreAggregate.objects.first(),
    }
    for model in [*objects, "sensitiveword", "officialreply"]:
        listing = staff_client.get(f"/admin/feedback/{model}/")
        assert listing.status_code == 200, model
        assert key_hash not in listing.content.decode(), model
    for model, obj in objects.items():
        page = staff_client.get(f"/admin/feedback/{model}/{obj.pk}/change/")
        assert page.status_code == 200, model
        assert key_hash not in page.content.decode(), model
    assert key_hash[:8] in staff_client.get("/admin/feedback/comment/").content.decode()


def test_comment_list_filters(staff_client, indicator, settings):
    settings.COMMENT_MODERATION = "post"
    comment(new_resident_client(), indicator, "看 www.example.com")
    comment(new_resident_client(), indicator, "挺好")
    held = staff_client.get("/admin/feedback/comment/", {"held": "yes"}).content.decode()
    assert "www.example.com" in held and "挺好" not in held
    pending = staff_client.get(
        "/admin/feedback/comment/", {"moderation_state__exact": "pending"}
    ).content.decode()
    assert "www.example.com" in pending and "挺好" not in pending


def test_staff_define_a_survey_with_inline_questions(staff_client, edition):
    response = staff_client.post(
        "/admin/feedback/survey/add/",
        {
            "edition": edition.pk,
            "slug": "extra",
            "title": "补充调查",
            "title_en": "",
            "intro": "",
            "intro_en": "",
            "status": "published",
            "published_at_0": "2024-01-01",
            "published_at_1": "00:00:00",
            "opens_at_0": "2024-01-01",
            "opens_at_1": "00:00:00",
            "closes_at_0": "2027-12-31",
            "closes_at_1": "00:00:00",
            "questions-TOTAL_FORMS": "1",
            "questions-INITIAL_FORMS": "0",
            "questions-0-order": "1",
            "questions-0-dimension": "公共交通",
            "questions-0-text": "您对公交是否满意？",
            "questions-0-allow_comment": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Survey.objects.get(slug="extra").questions.get().dimension == "公共交通"
