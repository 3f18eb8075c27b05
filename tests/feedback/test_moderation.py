"""Moderation: a pending comment never appears on the site or the API; text is escaped."""

import pytest
from django.contrib.auth import get_user_model

from feedback.models import Comment, ModerationState, OfficialReply, SensitiveWord
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_COMMENTS, api_post, comment

pytestmark = pytest.mark.django_db

SCRIPT = '<script>alert("x")</script>下雨天路口积水'


def _public_texts(client, target) -> tuple[str, list[str]]:
    page = client.get(target.get_absolute_url()).content.decode()
    api = client.get(API_COMMENTS, {"target_type": "indicator", "target_id": target.pk}).json()
    return page, [c["body"] for c in api["results"]]


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_superuser("editor", "editor@example.com", "pw-long-enough-1")


def test_pre_moderation_keeps_a_comment_hidden_until_approved(client, indicator, staff):
    resident = new_resident_client()
    response = comment(resident, indicator, "公园里的厕所太少了")
    assert response.status_code == 302
    pending = Comment.objects.get()
    assert pending.moderation_state == ModerationState.PENDING

    page, api = _public_texts(client, indicator)
    assert "公园里的厕所太少了" not in page
    assert api == []
    assert "待审核" in resident.get("/my-data/").content.decode()  # the author sees its state

    client.force_login(staff)
    action = client.post(
        "/admin/feedback/comment/", {"action": "approve", "_selected_action": [pending.pk]}, follow=True
    )
    assert action.status_code == 200
    client.logout()
    pending.refresh_from_db()
    assert pending.moderation_state == ModerationState.APPROVED
    assert pending.moderated_by == staff

    page, api = _public_texts(client, indicator)
    assert "公园里的厕所太少了" in page
    assert api == ["公园里的厕所太少了"]


def test_rejected_comments_never_appear(client, indicator, staff):
    comment(new_resident_client(), indicator, "广告内容")
    client.force_login(staff)
    selected = {"action": "reject", "_selected_action": [Comment.objects.get().pk]}
    asks = client.post("/admin/feedback/comment/", selected)
    # A rejection needs the reason its author will see, in the admin as in the workspace.
    assert "不通过的理由" in asks.content.decode()
    assert Comment.objects.get().moderation_state == ModerationState.PENDING
    client.post("/admin/feedback/comment/", {**selected, "reason": "含广告"})
    client.logout()
    rejected = Comment.objects.get()
    assert rejected.moderation_state == ModerationState.REJECTED
    assert rejected.moderation_reason == "含广告"
    page, api = _public_texts(client, indicator)
    assert "广告内容" not in page
    assert api == []


def test_post_moderation_publishes_plain_comments_at_once(client, indicator, settings):
    settings.COMMENT_MODERATION = "post"
    comment(new_resident_client(), indicator, "绿道修得很好")
    assert Comment.objects.get().moderation_state == ModerationState.APPROVED
    page, api = _public_texts(client, indicator)
    assert "绿道修得很好" in page
    assert api == ["绿道修得很好"]


@pytest.mark.parametrize(
    "text",
    [
        "详情见 http://example.com/a",
        "详情见 https://example.com",
        "访问 www.example.org 了解",
        "看 example.cn/abc 这里",
        "联系 foo.bar.com",
    ],
)
def test_post_moderation_holds_links(client, indicator, settings, text):
    settings.COMMENT_MODERATION = "post"
    comment(new_resident_client(), indicator, text)
    held = Comment.objects.get()
    assert held.moderation_state == ModerationState.PENDING
    assert "链接" in held.held_reason
    page, api = _public_texts(client, indicator)
    assert text not in page
    assert api == []


def test_post_moderation_holds_sensitive_words_staff_can_edit(client, indicator, settings, staff):
    settings.COMMENT_MODERATION = "post"
    client.force_login(staff)
    client.post("/admin/feedback/sensitiveword/add/", {"word": "代开发票"})
    client.logout()
    assert SensitiveWord.objects.filter(word="代开发票").exists()

    comment(new_resident_client(), indicator, "专业代开发票，请联系")
    held = Comment.objects.get()
    assert held.moderation_state == ModerationState.PENDING
    assert "代开发票" in held.held_reason
    page, api = _public_texts(client, indicator)
    assert "请联系" not in page
    assert api == []


def test_text_is_escaped_on_the_site_and_plain_in_the_api(client, indicator, settings):
    settings.COMMENT_MODERATION = "post"
    comment(new_resident_client(), indicator, SCRIPT, nickname="<b>x</b>")
    page, api = _public_texts(client, indicator)
    assert '<script>alert("x")</script>' not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;下雨天路口积水" in page
    assert "<b>x</b>" not in page
    assert api == [SCRIPT]  # plain text, for the client to escape


def test_official_reply_is_shown_beneath_the_approved_comment(client, indicator, settings, staff):
    settings.COMMENT_MODERATION = "post"
    comment(new_resident_client(), indicator, "小区门口需要加装路灯")
    OfficialReply.objects.create(
        comment=Comment.objects.get(),
        body="已转街道办理，月底前完成。",
        author=staff,
        author_title="东城区责任规划师",
    )
    page, _ = _public_texts(client, indicator)
    assert page.index("小区门口需要加装路灯") < page.index("已转街道办理，月底前完成。")
    assert "东城区责任规划师" in page
    api = client.get(API_COMMENTS, {"target_type": "indicator", "target_id": indicator.pk}).json()
    assert api["results"][0]["official_reply"]["body"] == "已转街道办理，月底前完成。"
    assert api["results"][0]["official_reply"]["author_title"] == "东城区责任规划师"
    assert "moderation_state" not in api["results"][0]
    assert "resident" not in api["results"][0]


def test_comment_list_api_is_paginated_and_needs_a_target(client, indicator, settings):
    settings.COMMENT_MODERATION = "post"
    resident = new_resident_client()
    for n in range(3):
        api_post(
            resident,
            API_COMMENTS,
            {"target_type": "indicator", "target_id": indicator.pk, "body": f"第{n}条"},
        )
    page = client.get(API_COMMENTS, {"target_type": "indicator", "target_id": indicator.pk, "page_size": 2})
    assert page.status_code == 200
    assert page.json()["count"] == 3
    assert [c["body"] for c in page.json()["results"]] == ["第2条", "第1条"]
    assert page.json()["next"]
    assert client.get(API_COMMENTS).status_code == 400
    assert client.get(API_COMMENTS, {"target_type": "indicator", "target_id": 999999}).status_code == 404
