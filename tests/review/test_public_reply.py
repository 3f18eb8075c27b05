"""The planner's public reply, seen where residents look: the item page, the API, my data."""

import pytest
from django.test import Client
from django.urls import reverse

from feedback.models import Comment
from review.models import ReviewCase
from tests.review.helpers import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


REPLY = "已协调东华门街道在胡同口划设共享单车停放区。"


@pytest.fixture
def resident_comment(world):
    """A resident comments through the public API, as a phone would."""
    resident = Client()
    response = resident.post(
        "/api/v1/comments/",
        {"target_type": "story", "target_id": world.story_a.pk, "body": "胡同口的单车堆成山了。"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    comment = Comment.objects.get(pk=response.json()["id"])
    return resident, comment, ReviewCase.objects.get(comment=comment)


def _api_comments(client, story):
    response = client.get("/api/v1/comments/", {"target_type": "story", "target_id": story.pk})
    assert response.status_code == 200
    return response.json()["results"]


def test_reply_appears_on_the_item_page_the_api_and_my_data(world, resident_comment):
    resident, comment, case = resident_comment
    planner = login(Client(), world.planner_a)
    public = Client()

    # Pending: neither the comment nor anything about it is public yet.
    assert "胡同口的单车堆成山了" not in public.get(world.story_a.get_absolute_url()).content.decode()
    assert _api_comments(public, world.story_a) == []

    assert planner.post(reverse("review:case_reply", args=[case.pk]), {"body": REPLY}).status_code == 302
    # A reply to a comment still pending stays hidden with it.
    assert REPLY not in public.get(world.story_a.get_absolute_url()).content.decode()

    response = planner.post(reverse("review:case_moderate", args=[case.pk]), {"decision": "approve"})
    assert response.status_code == 302

    page = public.get(world.story_a.get_absolute_url()).content.decode()
    assert "胡同口的单车堆成山了" in page
    assert REPLY in page and "东城区责任规划师" in page

    [item] = _api_comments(public, world.story_a)
    assert item["body"] == "胡同口的单车堆成山了。"
    assert item["official_reply"]["body"] == REPLY
    assert item["official_reply"]["author_title"] == "东城区责任规划师"

    my_page = resident.get(reverse("feedback:my_data")).content.decode()
    assert REPLY in my_page
    my_api = resident.get("/api/v1/me/").json()
    assert REPLY in str(my_api)


def test_an_edited_reply_replaces_the_public_text(world, resident_comment):
    _resident, comment, case = resident_comment
    planner = login(Client(), world.planner_a)
    planner.post(reverse("review:case_moderate", args=[case.pk]), {"decision": "approve"})
    planner.post(reverse("review:case_reply", args=[case.pk]), {"body": "初稿"})
    planner.post(reverse("review:case_reply", args=[case.pk]), {"body": REPLY})
    [item] = _api_comments(Client(), world.story_a)
    assert item["official_reply"]["body"] == REPLY
    assert "初稿" not in Client().get(world.story_a.get_absolute_url()).content.decode()


def test_a_rejected_comment_and_the_internal_notes_never_appear(world, resident_comment):
    _resident, comment, case = resident_comment
    planner = login(Client(), world.planner_a)
    planner.post(reverse("review:case_note", args=[case.pk]), {"body": "内部：疑似重复投诉"})
    planner.post(reverse("review:case_moderate", args=[case.pk]), {"decision": "reject", "reason": "重复"})
    page = Client().get(world.story_a.get_absolute_url()).content.decode()
    assert "胡同口的单车堆成山了" not in page and "疑似重复投诉" not in page
    assert _api_comments(Client(), world.story_a) == []
