"""My data: a resident sees everything submitted from their cookie and can delete it all."""

import pytest
from django.contrib.auth import get_user_model

from feedback.models import Comment, Rating, Resident, ScoreAggregate, SurveyResponse
from feedback.replies import reply_write
from feedback.residents import COOKIE_NAME
from tests.feedback.conftest import new_resident_client, wait_until
from tests.feedback.helpers import API_ME, aggregate_of, api_post, comment, rate


def _answer_survey(client, survey, score: int, remark: str = "") -> None:
    data = {f"question_{q.pk}": score for q in survey.questions.all()}
    if remark:
        data[f"question_{survey.questions.first().pk}_comment"] = remark
    assert client.post(f"/survey/{survey.pk}/", data).status_code == 302


@pytest.mark.django_db
def test_my_data_page_lists_everything_of_this_cookie_only(indicator, story, survey):
    me, other = new_resident_client(), new_resident_client()
    rate(me, indicator, 4)
    rate(me, story, 2)
    _answer_survey(me, survey, 3, remark="地铁太挤")
    comment(me, indicator, "希望增加公交班次")
    rate(other, indicator, 1)
    comment(other, indicator, "别人的留言")
    mine = Comment.objects.get(body="希望增加公交班次")
    staff = get_user_model().objects.create_user("planner", password="pw-long-enough-1")
    reply_write(target=mine, author=staff, author_title="规划师", body="已反馈至公交集团。")

    html = me.get("/my-data/").content.decode()

    assert indicator.name in html and story.title in html
    assert "4 分" in html and "2 分" in html
    assert "地铁太挤" in html and "公共交通" in html
    assert "希望增加公交班次" in html and "待审核" in html
    assert "已反馈至公交集团。" in html
    assert "别人的留言" not in html
    assert 'href="/privacy/"' in html

    api = me.get(API_ME).json()
    assert sorted(r["score"] for r in api["ratings"]) == [2, 4]
    assert api["comments"][0]["moderation_state"] == "pending"
    assert api["comments"][0]["official_reply"]["body"] == "已反馈至公交集团。"
    assert len(api["survey_responses"][0]["answers"]) == 3


@pytest.mark.django_db
def test_a_visitor_without_cookie_sees_an_empty_page(client):
    response = client.get("/my-data/")
    assert response.status_code == 200
    assert "还没有提交过" in response.content.decode()
    assert client.get(API_ME).json() == {
        "ratings": [],
        "survey_responses": [],
        "comments": [],
        "replies": [],
        "notify_email": "",
        "verified": False,
        "verified_at": None,
    }


@pytest.mark.django_db
def test_deleting_needs_the_confirmation(indicator):
    me = new_resident_client()
    rate(me, indicator, 4)
    response = me.post("/my-data/delete/", {})
    assert response.status_code == 400
    assert "请勾选确认" in response.content.decode()
    assert Rating.objects.count() == 1


def test_deleting_my_data_removes_it_and_the_aggregates_follow(celery_worker, indicator, survey):
    me, other = new_resident_client(), new_resident_client()
    rate(me, indicator, 1)
    rate(other, indicator, 5)
    _answer_survey(me, survey, 2, remark="排水差")
    comment(me, indicator, "路灯坏了")
    wait_until(
        lambda: (
            (a := aggregate_of("indicator", indicator.pk))
            and a.count == 2
            and aggregate_of("survey", survey.pk)
        ),
        30,
        "aggregates before deletion",
    )

    response = me.post("/my-data/delete/", {"confirm": "on"})

    assert response.status_code == 302
    assert response.cookies[COOKIE_NAME].value == ""  # the cookie is dropped too
    assert Resident.objects.count() == 1
    assert list(Rating.objects.values_list("score", flat=True)) == [5]
    # The comment stays in the public record, anonymised (居民已删除原文).
    assert list(Comment.objects.values_list("body", "nickname", "district", "resident")) == [
        ("", "", None, None)
    ]
    assert Comment.objects.get().author_deleted_at is not None
    assert not SurveyResponse.objects.exists()
    wait_until(lambda: aggregate_of("indicator", indicator.pk).count == 1, 30, "item aggregate to follow")
    assert aggregate_of("indicator", indicator.pk).mean == 5
    wait_until(
        lambda: not ScoreAggregate.objects.filter(scope="survey").exists(), 30, "survey aggregate gone"
    )


def test_the_api_deletes_my_data(celery_worker, indicator):
    me = new_resident_client()
    api_post(me, "/api/v1/ratings/", {"target_type": "indicator", "target_id": indicator.pk, "score": 3})
    wait_until(lambda: aggregate_of("indicator", indicator.pk), 30, "aggregate")
    assert me.delete(API_ME).status_code == 204
    assert not Rating.objects.exists()
    wait_until(lambda: aggregate_of("indicator", indicator.pk) is None, 30, "aggregate removed")
