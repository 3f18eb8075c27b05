"""Every voice gets an answer (issue 8): routing, replies to every kind of feedback,
closing with a reason, deletion that keeps the public record, one moderation path,
templates and time limits, residents rating the reply, public accountability."""

import json
from datetime import date, datetime, timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from feedback.models import ModerationState, OfficialReply, ReplyRating, Resident
from feedback.my_data import resident_data_delete
from feedback.notifications import reply_notice_send
from feedback.replies import reply_rate
from review import services
from review.accountability import accountability_refresh
from review.models import (
    CaseAction,
    CaseResolution,
    CaseRoute,
    CaseStatus,
    Holiday,
    ReplyTemplate,
    ReviewCase,
)
from review.notifications import planner_digests_send
from review.routing import due_at_for
from review.selectors import case_scope_for_user, dashboard_for_user
from tests.factories import DistrictFactory, StoryFactory
from tests.feedback.conftest import cookie_key_hash
from tests.review.helpers import (
    login,
    make_planner,
    make_staff,
    make_survey,
    resident_client,
    submit_comment,
    submit_rating,
    submit_survey,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


def _key(client: Client) -> str:
    return cookie_key_hash(client)


# --- 1. Nothing unowned -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["comment", "survey", "rating"])
@pytest.mark.parametrize("own_district", [True, False])
@pytest.mark.parametrize("item_district", [True, False])
def test_every_combination_lands_in_exactly_one_queue(kind, own_district, item_district):
    mine, items = DistrictFactory(), DistrictFactory()
    planner_mine = make_planner("p_mine", districts=[mine], title="甲区责任规划师")
    planner_items = make_planner("p_items", districts=[items], title="乙区责任规划师")
    city_planner = make_planner("p_city", title="市级责任规划师")
    city_planner.planner_profile.city_scope = True
    city_planner.planner_profile.save()
    staff = make_staff()
    story = StoryFactory(district=items if item_district else None)
    district = mine if own_district else None
    if kind == "comment":
        _comment, case = submit_comment(story, "物业收费不透明，希望公开账目。", district=district)
    elif kind == "rating":
        case = submit_rating(story, 1, district=district).review_case
    else:
        submit_survey(
            make_survey(story.edition),
            {"公共交通": (2, "胡同停车很乱，堵住消防通道"), "积水防涝": (4, "")},
            district=district,
        )
        case = ReviewCase.objects.get()
        # A survey question has no district of its own.
        item_district = False

    if own_district:
        expected, route, owner = mine, CaseRoute.RESIDENT_DISTRICT, planner_mine
    elif item_district:
        expected, route, owner = items, CaseRoute.ITEM_DISTRICT, planner_items
    else:
        expected, route, owner = None, CaseRoute.CITY, city_planner
    assert (case.district, case.route) == (expected, route)
    owners = [
        user
        for user in (planner_mine, planner_items, city_planner)
        if case_scope_for_user(user).filter(pk=case.pk).exists()
    ]
    assert owners == [owner]
    assert case_scope_for_user(staff).filter(pk=case.pk).count() == 1
    page = login(Client(), owner).get(reverse("review:case", args=[case.pk])).content.decode()
    assert 'id="case-route"' in page and str(case.get_route_display()) in page
    if route == CaseRoute.CITY:  # said once, not "市级队列（市级队列（无所属区））"
        assert f'<dd id="case-route">{case.get_route_display()}</dd>' in page


def test_dashboard_and_export_count_every_case_once():
    district = DistrictFactory()
    story = StoryFactory(district=district)
    planner = make_planner("both", districts=[district], title="区责任规划师")
    planner.planner_profile.city_scope = True
    planner.planner_profile.save()
    submit_comment(story, "一")
    submit_comment(StoryFactory(), "二")  # city queue
    submit_comment(story, "三", district=district)
    assert dashboard_for_user(planner)["backlog_total"] == 3
    rows = login(Client(), planner).get(reverse("review:export_csv"))
    lines = b"".join(rows.streaming_content).decode("utf-8-sig").strip().splitlines()
    assert len(lines) == 1 + 3


# --- 2. Every case can be answered --------------------------------------------------------


def test_survey_answer_gets_a_private_reply_the_author_sees_and_nobody_else():
    district = DistrictFactory()
    planner = make_planner("xicheng", districts=[district], title="西城区责任规划师")
    me = resident_client()
    survey = make_survey(StoryFactory().edition)
    submit_survey(
        survey,
        {"公共交通": (1, "胡同停车很乱，堵住消防通道"), "积水防涝": (4, "")},
        district=district,
        key=_key(me),
    )
    case = ReviewCase.objects.get()
    case = services.case_transition(user=planner, case=case, to_status=CaseStatus.IN_REVIEW)
    services.case_reply(user=planner, case=case, body="已请交通队加强巡查，并施划禁停线。")
    case = services.case_transition(user=planner, case=case, to_status=CaseStatus.ANSWERED)
    assert case.status == CaseStatus.ANSWERED

    page = me.get("/my-data/").content.decode()
    assert "已请交通队加强巡查" in page and "西城区责任规划师" in page and "仅您可见" in page
    api = me.get("/api/v1/me/").json()
    [reply] = api["replies"]
    assert reply["target_kind"] == "survey_answer" and reply["public"] is False
    assert "已请交通队加强巡查" not in resident_client().get("/my-data/").content.decode()


def test_closing_without_a_reply_needs_a_reason_the_author_sees(world):
    me = resident_client()
    rating = submit_rating(world.story_a, 2, key=_key(me))
    case = services.case_transition(
        user=world.planner_a, case=rating.review_case, to_status=CaseStatus.IN_REVIEW
    )
    with pytest.raises(Exception) as error:
        services.case_close(user=world.planner_a, case=case, resolution=CaseResolution.EXPLAINED, note=" ")
    assert error.value.code == "reason_required"
    services.case_close(
        user=world.planner_a,
        case=case,
        resolution=CaseResolution.EXPLAINED,
        note="该街巷已列入明年整治计划。",
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.first_reply_at is not None
    assert case.events.filter(action=CaseAction.CLOSE).exists()
    page = me.get("/my-data/").content.decode()
    assert "办结说明" in page and "该街巷已列入明年整治计划。" in page


def test_the_rejection_reason_reaches_the_author_in_html_and_api(world):
    me = resident_client()
    comment, case = submit_comment(world.story_a, "我的电话是……", key=_key(me))
    services.comment_moderate(
        user=world.planner_a, case=case, approve=False, reason="含个人联系方式，请删除后重新提交。"
    )
    assert "含个人联系方式，请删除后重新提交。" in me.get("/my-data/").content.decode()
    [mine] = me.get("/api/v1/me/").json()["comments"]
    assert mine["moderation_state"] == "rejected"
    assert mine["moderation_reason"] == "含个人联系方式，请删除后重新提交。"


# --- 3. Deleting personal data keeps the public record --------------------------------------


def _every_text_in_the_database() -> str:
    """The text of every text and JSON column of every table: what a dump would hold."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'json', 'jsonb')"
        )
        columns = cursor.fetchall()
        chunks = []
        for table, column in columns:
            cursor.execute(f'SELECT "{column}"::text FROM "{table}" WHERE "{column}" IS NOT NULL')  # noqa: S608
            chunks.extend(value for (value,) in cursor.fetchall())
    return "\n".join(chunks)


def test_deletion_leaves_nothing_of_the_resident_but_keeps_the_planners_record(world):
    me = resident_client()
    key = _key(me)
    survey = make_survey(world.story_b.edition)
    comment, case = submit_comment(
        world.story_b, "西四北三条的路灯坏了半年", nickname="胡同老王", key=key, district=world.district_b
    )
    submit_rating(world.story_b, 1, key=key, district=world.district_b)
    submit_survey(
        survey,
        {"积水防涝": (1, "雨天地下通道积水没过脚踝"), "公共交通": (4, "")},
        key=key,
        district=world.district_b,
    )
    Resident.objects.filter(key_hash=key).update(phone_hash="f" * 64, notify_email="laowang@example.com")
    services.comment_moderate(user=world.planner_b, case=case, approve=True)
    services.case_note_add(user=world.planner_b, case=case, body="内部：已联系街道")
    services.case_assign(user=world.planner_b, case=case, assignee=world.planner_b)
    reply = services.case_reply(user=world.planner_b, case=case, body="已报修，本周内修复。")
    reply_rate(resident_key_hash=key, reply_id=reply.pk, verdict="satisfied", solved=True)
    before = dashboard_for_user(world.planner_b)
    queue_before = case_scope_for_user(world.planner_b).count()
    events_before = case.events.count()

    assert resident_data_delete(resident_key_hash=key)

    text = _every_text_in_the_database()
    for secret in (
        "西四北三条的路灯坏了半年",
        "胡同老王",
        "雨天地下通道积水没过脚踝",
        key,
        "f" * 64,
        "laowang@example.com",
    ):
        assert secret not in text, secret
    assert case_scope_for_user(world.planner_b).count() == queue_before == 4
    after = dashboard_for_user(world.planner_b)
    assert after["backlog"] == before["backlog"] and after["replied_count"] == before["replied_count"]
    case.refresh_from_db()
    assert case.feedback_deleted_at and case.assignee == world.planner_b and case.first_reply_at
    assert case.events.count() == events_before + 1
    assert case.reply.body == "已报修，本周内修复。"
    assert not ReplyRating.objects.exists()
    # The public page still shows the reply, beneath 市民已删除原文.
    page = Client().get(world.story_b.get_absolute_url()).content.decode()
    assert "已报修，本周内修复。" in page and "市民已删除原文" in page
    planner_page = login(Client(), world.planner_b).get(case.get_absolute_url()).content.decode()
    assert "居民已删除原文" in planner_page and "内部：已联系街道" in planner_page


def test_the_privacy_notice_says_what_deletion_keeps(client):
    page = client.get("/privacy/").content.decode()
    assert 'id="deletion"' in page and "市民已删除原文" in page and "通知邮箱" in page


# --- 4. One moderation path; replies signed with a title ---------------------------------


def test_admin_moderation_uses_the_workspace_rules_and_history(world, admin_client):
    comment = world.case_a.comment
    url = reverse("admin:feedback_comment_changelist")
    admin_client.post(url, {"action": "reject", ACTION_CHECKBOX_NAME: [comment.pk], "reason": ""})
    comment.refresh_from_db()
    assert comment.moderation_state == ModerationState.PENDING  # no reason, no rejection
    admin_client.post(url, {"action": "reject", ACTION_CHECKBOX_NAME: [comment.pk], "reason": "与本条目无关"})
    admin_client.post(url, {"action": "approve", ACTION_CHECKBOX_NAME: [comment.pk]})
    comment.refresh_from_db()
    assert (comment.moderation_state, comment.moderation_reason) == (ModerationState.REJECTED, "与本条目无关")
    assert world.case_a.events.filter(action=CaseAction.REJECT).count() == 1
    assert admin_client.get(reverse("admin:feedback_officialreply_add")).status_code == 403


def test_a_staff_member_without_a_signature_cannot_reply_and_login_names_never_sign(world):
    nameless = make_staff("zhang.san.login", title=None)
    with pytest.raises(Exception) as error:
        services.case_reply(user=nameless, case=world.case_a, body="答复")
    assert error.value.code == "no_title"
    services.case_reply(user=world.staff, case=world.case_a, body="答复")
    assert OfficialReply.objects.get().author_title == "北京市规划和自然资源委员会"
    assert not OfficialReply.objects.filter(author_title__in=["staff", "zhang.san.login"]).exists()


# --- 5. Templates and time limits -------------------------------------------------------------


def test_a_template_prefills_the_reply_form_without_javascript(world):
    mine = ReplyTemplate.objects.create(
        title="路灯报修", body="您好，已转街道报修路灯。", district=world.district_a
    )
    ReplyTemplate.objects.create(title="全市通用", body="感谢您的反馈。")
    ReplyTemplate.objects.create(title="西城专用", body="西城答复", district=world.district_b)
    client = login(Client(), world.planner_a)
    url = reverse("review:case", args=[world.case_a.pk])
    page = client.get(url).content.decode()
    assert "路灯报修" in page and "全市通用" in page and "西城专用" not in page
    page = client.get(url, {"template": mine.pk}).content.decode()
    assert "您好，已转街道报修路灯。</textarea>" in page


def test_due_time_counts_working_days_and_the_holiday_calendar(settings):
    settings.CASE_REPLY_WORKING_DAYS = 2
    tz = timezone.get_current_timezone()
    friday = datetime(2025, 9, 26, 10, 0, tzinfo=tz)
    assert due_at_for(friday) == datetime(2025, 9, 30, 10, 0, tzinfo=tz)  # Mon, Tue
    Holiday.objects.create(date=date(2025, 9, 29), name="假日")
    Holiday.objects.create(date=date(2025, 9, 28), name="调休上班", is_workday=True)
    assert due_at_for(friday) == datetime(2025, 9, 30, 10, 0, tzinfo=tz)  # Sun (workday), Tue


def test_a_holiday_added_in_the_admin_moves_the_due_time_of_cases_still_waiting(settings, admin_client):
    """Staff add the National Day holiday after the cases came in: the case still waiting for
    its first reply gets the new limit (and they are told); the one answered keeps its own."""
    settings.CASE_REPLY_WORKING_DAYS = 2
    tz = timezone.get_current_timezone()
    story = StoryFactory(district=DistrictFactory())
    _comment, waiting = submit_comment(story, "路灯坏了一个月没人修。")
    _comment, answered = submit_comment(story, "公园厕所太少。")
    friday = datetime(2025, 9, 26, 10, 0, tzinfo=tz)
    ReviewCase.objects.filter(pk__in=[waiting.pk, answered.pk]).update(
        received_at=friday, due_at=datetime(2025, 9, 30, 10, 0, tzinfo=tz)
    )
    ReviewCase.objects.filter(pk=answered.pk).update(first_reply_at=friday + timedelta(hours=1))

    response = admin_client.post(
        reverse("admin:review_holiday_add"), {"date": "2025-09-29", "name": "国庆节"}, follow=True
    )

    assert "1 件待答复反馈的答复时限已按新日历重新计算" in response.content.decode()
    waiting.refresh_from_db()
    answered.refresh_from_db()
    assert waiting.due_at == datetime(2025, 10, 1, 10, 0, tzinfo=tz)  # Tue, Wed: Mon is off
    assert answered.due_at == datetime(2025, 9, 30, 10, 0, tzinfo=tz)

    holiday = Holiday.objects.get(date=date(2025, 9, 29))
    admin_client.post(reverse("admin:review_holiday_delete", args=[holiday.pk]), {"post": "yes"})
    waiting.refresh_from_db()
    assert waiting.due_at == datetime(2025, 9, 30, 10, 0, tzinfo=tz)


def test_overdue_cases_show_on_queue_case_dashboard_and_digest(world):
    ReviewCase.objects.filter(pk=world.case_a.pk).update(due_at=timezone.now() - timedelta(hours=1))
    client = login(Client(), world.planner_a)
    assert "未答复已超期 1 条" in client.get(reverse("review:queue")).content.decode()
    assert "已超期" in client.get(reverse("review:case", args=[world.case_a.pk])).content.decode()
    assert dashboard_for_user(world.planner_a)["due"]["overdue"] == 1
    assert "未答复已超期 1 条" in client.get(reverse("review:dashboard")).content.decode()
    planner_digests_send()
    body = next(m.body for m in mail.outbox if "planner_a@example.org" in m.to)
    assert "未答复已超期 1 条" in body


# --- 6. Residents rate the reply ----------------------------------------------------------------


def test_only_the_author_rates_the_reply_in_html_and_api_and_sees_the_badge(world):
    me, other = resident_client(), resident_client()
    _comment, case = submit_comment(world.story_a, "路口红绿灯时间太短", key=_key(me))
    Resident.objects.get_or_create(key_hash=_key(other))
    assert "badge" not in me.get("/me/fragment/").json()
    reply = services.case_reply(user=world.planner_a, case=case, body="已调整为 40 秒。")

    # The badge of every page (brought by /me/fragment/, as the cached pages are shared).
    assert "您有 1 条新答复" in me.get("/me/fragment/", {"item": f"story:{world.story_b.pk}"}).json()["badge"]
    assert "badge" not in other.get("/me/fragment/").json()
    rate_url = reverse("feedback:reply_rate", args=[reply.pk])
    assert other.post(rate_url, {"verdict": "satisfied"}).status_code == 404
    assert me.post(rate_url, {"verdict": "great"}).status_code == 400
    assert me.post(rate_url, {"verdict": "fairly", "solved": "no"}).status_code == 302
    assert (reply.resident_rating.verdict, ReplyRating.objects.get().solved) == ("fairly", False)
    api_url = f"/api/v1/replies/{reply.pk}/rating/"
    response = me.post(
        api_url, json.dumps({"verdict": "satisfied", "solved": True}), content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["verdict"] == "satisfied"
    assert (
        other.post(
            api_url, json.dumps({"verdict": "unsatisfied"}), content_type="application/json"
        ).status_code
        == 404
    )
    assert ReplyRating.objects.count() == 1 and ReplyRating.objects.get().solved is True
    # Opening "my data" clears the badge.
    assert "满意" in me.get("/my-data/").content.decode()
    assert "badge" not in me.get("/me/fragment/").json()


def test_the_optional_email_is_told_of_a_reply_and_deleted_with_the_data(
    world, django_capture_on_commit_callbacks
):
    me = resident_client()
    _comment, case = submit_comment(world.story_a, "垃圾桶太少", key=_key(me))
    assert me.post("/my-data/notify/", {"email": "not-an-address"}).status_code == 400
    assert me.post("/my-data/notify/", {"email": "me@example.org"}).status_code == 302
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.case_reply(user=world.planner_a, case=case, body="已增设。")
    assert callbacks  # the notice is queued after the commit, never inside it
    resident = Resident.objects.get(key_hash=_key(me))
    assert reply_notice_send(resident_id=resident.pk) is True
    [notice] = [m for m in mail.outbox if "me@example.org" in m.to]
    assert "/my-data/" in notice.body and "已增设" not in notice.body and "垃圾桶" not in notice.body
    resident_data_delete(resident_key_hash=_key(me))
    assert not Resident.objects.filter(notify_email="me@example.org").exists()


# --- 7. Public accountability -----------------------------------------------------------------


def test_accountability_page_and_api_withhold_rates_below_the_minimum(world, settings):
    settings.AGGREGATE_MIN_COUNT = 2
    services.case_reply(user=world.planner_a, case=world.case_a, body="答复")
    accountability_refresh()
    month = timezone.localdate().strftime("%Y-%m")
    page = Client().get("/accountability/", {"start": month, "end": month})
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="accountability-table"' in html and "<script>" not in html.replace("<script src", "")
    data = Client().get("/api/v1/accountability/", {"start": month, "end": month}).json()
    queues = {row["label"]: row for row in data["queues"]}
    assert len(queues) == 3  # two districts of the world and the city queue
    east = queues["东城区"]
    assert east["received"] == 1 and east["response"] == {"count": 1, "base": 1, "percent": None}
    assert Client().get("/api/v1/accountability/", {"start": "2025-13"}).status_code == 400
    assert Client().get("/accountability/", {"start": month, "end": "2000-01"}).status_code == 400
