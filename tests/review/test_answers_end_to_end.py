"""Issue 8 end to end, browser-free, as a resident, staff and a planner would do it:
a comment without a district → the city queue → a reply from a template → the
resident sees the badge and rates the reply → the city queue's figures on
/accountability/ change after the refresh."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import ModerationState, ReplyRating
from review.models import CaseRoute, CaseStatus, ReplyTemplate, ReviewCase
from review.tasks import accountability_refresh
from tests.factories import ChapterFactory, DistrictFactory, StoryFactory
from tests.feedback.conftest import new_resident_client, wait_until
from tests.review.helpers import login, make_planner

pytestmark = pytest.mark.django_db


def _city_cell(html: str, field: str) -> str:
    row = re.search(r'<tr data-queue="city">(.*?)</tr>', html, re.S).group(1)
    return re.search(rf'data-field="{field}"[^>]*>(.*?)</td>', row, re.S).group(1)


def test_from_an_unowned_comment_to_the_public_figures(celery_worker):
    DistrictFactory(name="西城区")
    story = StoryFactory(chapter=ChapterFactory(theme="城市治理"), title="每月一题：物业管理")
    assert story.district is None
    city = make_planner("city_planner", title="北京市责任规划师（市级）")
    city.planner_profile.city_scope = True
    city.planner_profile.save()
    template = ReplyTemplate.objects.create(title="物业类", body="您好，您反映的物业问题已转交属地街道。")
    resident = new_resident_client()
    month = timezone.localdate().strftime("%Y-%m")
    period = {"start": month, "end": month}
    before = Client().get("/accountability/", period).content.decode()
    assert "（0/0）" in _city_cell(before, "satisfaction")

    # The resident comments, naming no district, on a story without one.
    response = resident.post(
        reverse("feedback:comment", args=["story", story.pk]), {"body": "物业收费不透明，希望公开收支账目。"}
    )
    assert response.status_code == 302
    case = ReviewCase.objects.get()
    assert (case.district, case.route) == (None, CaseRoute.CITY)

    # The city planner finds it in their queue, moderates it and replies from the template.
    planner = login(Client(), city)
    assert f"#{case.pk}" in planner.get(reverse("review:queue")).content.decode()
    case_url = reverse("review:case", args=[case.pk])
    page = planner.get(case_url, {"template": template.pk}).content.decode()
    assert "您好，您反映的物业问题已转交属地街道。</textarea>" in page
    assert (
        planner.post(reverse("review:case_moderate", args=[case.pk]), {"decision": "approve"}).status_code
        == 302
    )
    assert (
        planner.post(
            reverse("review:case_transition", args=[case.pk]), {"to_status": "in_review"}
        ).status_code
        == 302
    )
    body = "您好，您反映的物业问题已转交属地街道，街道将于两周内公示收支账目。"
    assert planner.post(reverse("review:case_reply", args=[case.pk]), {"body": body}).status_code == 302
    assert (
        planner.post(reverse("review:case_transition", args=[case.pk]), {"to_status": "answered"}).status_code
        == 302
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.ANSWERED and case.comment.moderation_state == ModerationState.APPROVED

    # The resident sees the badge on any page, reads the reply and rates it.
    assert "您有 1 条新答复" in resident.get("/me/fragment/").json()["badge"]
    my_data = resident.get("/my-data/").content.decode()
    assert body in my_data and "北京市责任规划师（市级）" in my_data
    assert "badge" not in resident.get("/me/fragment/").json()
    reply = case.reply
    response = resident.post(
        reverse("feedback:reply_rate", args=[reply.pk]), {"verdict": "satisfied", "solved": "yes"}
    )
    assert response.status_code == 302
    assert ReplyRating.objects.get(reply=reply).verdict == "satisfied"
    assert body in Client().get(story.get_absolute_url()).content.decode()

    # After the refresh (the Celery task, on the real worker) the city queue's figures change.
    accountability_refresh.delay()
    wait_until(
        lambda: (
            "（1/1）" in _city_cell(Client().get("/accountability/", period).content.decode(), "satisfaction")
        ),
        30,
        "the accountability refresh",
    )
    after = Client().get("/accountability/", period).content.decode()
    assert _city_cell(after, "received") == "1"
    assert "（1/1）" in _city_cell(after, "response")
    api = Client().get("/api/v1/accountability/", period).json()
    [city_row] = [row for row in api["queues"] if row["district"] is None]
    assert city_row["satisfaction"]["count"] == 1 and city_row["received"] == 1
