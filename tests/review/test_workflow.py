"""Handling a case: transitions, moderation, assignment, notes, the reply, and the history."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import ModerationState, OfficialReply
from review import services
from review.models import CaseAction, CaseEvent, CaseResolution, CaseStatus
from tests.review.helpers import login, submit_rating

pytestmark = pytest.mark.django_db

S = CaseStatus


def _move(case, user, status):
    # Closing has its own action: a resolution, and a reason the author sees when unanswered.
    if status == S.CLOSED:
        return services.case_close(user=user, case=case, resolution=CaseResolution.SOLVED, note="已处理。")
    return services.case_transition(user=user, case=case, to_status=status)


def _walk(case, user, *statuses):
    for status in statuses:
        case = _move(case, user, status)
    return case


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ((), S.IN_REVIEW, True),
        ((), S.ANSWERED, False),
        ((), S.CLOSED, False),
        ((), S.NEW, False),
        ((S.IN_REVIEW,), S.CLOSED, True),
        ((S.IN_REVIEW,), S.NEW, False),
        ((S.IN_REVIEW,), S.IN_REVIEW, False),
        ((S.IN_REVIEW, S.CLOSED), S.IN_REVIEW, True),
        ((S.IN_REVIEW, S.CLOSED), S.ANSWERED, False),
        ((S.IN_REVIEW, S.CLOSED), S.NEW, False),
    ],
)
def test_transition_table(world, path, target, allowed):
    case = _walk(world.case_a, world.planner_a, *path)
    if allowed:
        assert _move(case, world.planner_a, target).status == target
    else:
        with pytest.raises(ValidationError) as error:
            _move(case, world.planner_a, target)
        assert error.value.code == "invalid_transition"
        case.refresh_from_db()
        assert case.status == (path[-1] if path else S.NEW)


def test_answered_needs_a_public_reply_and_then_the_full_path_works(world):
    case = _walk(world.case_a, world.planner_a, S.IN_REVIEW)
    with pytest.raises(ValidationError) as error:
        services.case_transition(user=world.planner_a, case=case, to_status=S.ANSWERED)
    assert error.value.code == "no_reply"
    services.case_reply(user=world.planner_a, case=case, body="已联系街道清理，感谢反馈。")
    case = _walk(case, world.planner_a, S.ANSWERED, S.CLOSED)
    assert case.status == S.CLOSED
    case = _walk(case, world.planner_a, S.IN_REVIEW, S.ANSWERED)
    assert case.status == S.ANSWERED


def test_a_rating_case_takes_a_private_reply_and_is_then_answered(world):
    rating = submit_rating(world.story_a, 1)
    case = rating.review_case
    case = _walk(case, world.planner_a, S.IN_REVIEW)
    with pytest.raises(ValidationError) as error:
        services.case_transition(user=world.planner_a, case=case, to_status=S.ANSWERED)
    assert error.value.code == "no_reply"
    reply = services.case_reply(user=world.planner_a, case=case, body="已安排街道核查。")
    assert reply.rating == rating and not reply.is_public
    assert _walk(case, world.planner_a, S.ANSWERED, S.CLOSED).status == S.CLOSED


def test_history_records_who_when_what_before_and_after(world):
    case = world.case_a
    services.case_transition(user=world.planner_a, case=case, to_status=S.IN_REVIEW)
    services.case_assign(user=world.planner_a, case=case, assignee=world.colleague_a)
    services.case_note_add(user=world.colleague_a, case=case, body="先问问街道。")
    services.case_reply(user=world.colleague_a, case=case, body="第一版答复")
    services.case_reply(user=world.colleague_a, case=case, body="第二版答复")
    services.comment_moderate(user=world.colleague_a, case=case, approve=True)
    rows = list(
        CaseEvent.objects.filter(case=case)
        .order_by("created_at", "id")
        .values_list("actor__username", "action", "before", "after")
    )
    assert rows == [
        (None, CaseAction.OPENED, "", "新反馈"),
        ("planner_a", CaseAction.STATUS, "新反馈", "处理中"),
        ("planner_a", CaseAction.ASSIGN, "", "colleague_a"),
        ("colleague_a", CaseAction.NOTE, "", "先问问街道。"),
        ("colleague_a", CaseAction.REPLY, "", "第一版答复"),
        ("colleague_a", CaseAction.REPLY, "第一版答复", "第二版答复"),
        ("colleague_a", CaseAction.APPROVE, "待审核", "已通过"),
    ]
    times = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("created_at", flat=True))
    assert times == sorted(times) and all(times)


def test_one_reply_per_comment_edit_keeps_it_single_and_first_reply_time(world):
    case = world.case_a
    services.case_reply(user=world.planner_a, case=case, body="答复一")
    case.refresh_from_db()
    first = case.first_reply_at
    assert first is not None
    services.case_reply(user=world.colleague_a, case=case, body="答复二")
    case.refresh_from_db()
    reply = OfficialReply.objects.get(comment=case.comment)
    assert OfficialReply.objects.filter(comment=case.comment).count() == 1
    assert (reply.body, reply.author, reply.author_title) == ("答复二", world.colleague_a, "东城区责任规划师")
    assert case.first_reply_at == first


def test_reject_needs_a_reason_and_a_rejected_comment_takes_no_reply(world):
    case = world.case_a
    with pytest.raises(ValidationError) as error:
        services.comment_moderate(user=world.planner_a, case=case, approve=False, reason="  ")
    assert error.value.code == "reason_required"
    comment = services.comment_moderate(user=world.planner_a, case=case, approve=False, reason="含个人信息")
    assert comment.moderation_state == ModerationState.REJECTED
    assert comment.moderation_reason == "含个人信息"
    assert comment.moderated_by == world.planner_a and comment.moderated_at
    with pytest.raises(ValidationError) as error:
        services.comment_moderate(user=world.planner_a, case=case, approve=True)
    assert error.value.code == "already_moderated"
    with pytest.raises(ValidationError) as error:
        services.case_reply(user=world.planner_a, case=case, body="答复")
    assert error.value.code == "comment_rejected"


def test_assign_only_to_a_planner_of_the_same_area(world):
    with pytest.raises(ValidationError) as error:
        services.case_assign(user=world.planner_a, case=world.case_a, assignee=world.planner_b)
    assert error.value.code == "assignee_out_of_area"
    with pytest.raises(ValidationError):
        services.case_assign(user=world.staff, case=world.case_a, assignee=world.staff)
    case = services.case_assign(user=world.staff, case=world.case_a, assignee=world.colleague_a)
    assert case.assignee == world.colleague_a


def test_internal_notes_stay_out_of_public_pages(world, client):
    services.case_note_add(user=world.planner_a, case=world.case_a, body="内部：此人多次投诉")
    services.comment_moderate(user=world.planner_a, case=world.case_a, approve=True)
    services.case_reply(user=world.planner_a, case=world.case_a, body="公开答复内容")
    page = client.get(world.story_a.get_absolute_url())
    assert page.status_code == 200
    assert "内部：此人多次投诉" not in page.content.decode()


# --- The same through the workspace's forms ------------------------------------------


def test_invalid_transition_is_refused_with_a_message_on_the_page(world, client):
    login(client, world.planner_a)
    response = client.post(reverse("review:case_transition", args=[world.case_a.pk]), {"to_status": S.CLOSED})
    assert response.status_code == 400
    assert "不能从“新反馈”改为“已办结”" in response.content.decode()
    world.case_a.refresh_from_db()
    assert world.case_a.status == S.NEW


def test_reject_without_reason_re_shows_the_form_with_the_message(world, client):
    login(client, world.planner_a)
    response = client.post(
        reverse("review:case_moderate", args=[world.case_a.pk]), {"decision": "reject", "reason": ""}
    )
    assert response.status_code == 400
    assert "不通过时必须填写理由" in response.content.decode()
    world.case_a.comment.refresh_from_db()
    assert world.case_a.comment.moderation_state == ModerationState.PENDING


def test_assign_form_offers_only_colleagues_of_the_area(world, client):
    login(client, world.planner_a)
    page = client.get(reverse("review:case", args=[world.case_a.pk])).content.decode()
    assert "colleague_a" in page and "planner_b" not in page
    response = client.post(
        reverse("review:case_assign", args=[world.case_a.pk]), {"assignee": world.planner_b.pk}
    )
    assert response.status_code == 400
    world.case_a.refresh_from_db()
    assert world.case_a.assignee is None


def test_the_whole_path_through_the_forms(world, client):
    login(client, world.planner_a)
    pk = world.case_a.pk
    steps = [
        ("review:case_moderate", {"decision": "approve", "reason": ""}),
        ("review:case_transition", {"to_status": S.IN_REVIEW}),
        ("review:case_assign", {"assignee": world.colleague_a.pk}),
        ("review:case_note", {"body": "请现场核实"}),
        ("review:case_reply", {"body": "已协调街道增设停车区。"}),
        ("review:case_transition", {"to_status": S.ANSWERED}),
        ("review:case_close", {"resolution": "solved", "note": ""}),
    ]
    for name, data in steps:
        response = client.post(reverse(name, args=[pk]), data)
        assert response.status_code == 302, (name, response.content.decode()[:500])
        assert response["Location"] == reverse("review:case", args=[pk])
    page = client.get(reverse("review:case", args=[pk])).content.decode()
    assert "已办结" in page and "已协调街道增设停车区。" in page and "请现场核实" in page
    world.case_a.refresh_from_db()
    assert world.case_a.status == S.CLOSED and world.case_a.resolution == CaseResolution.SOLVED
    assert world.case_a.events.count() == 1 + len(steps)


def test_case_page_query_count_does_not_grow_with_its_history(world, client):

    login(client, world.planner_a)
    url = reverse("review:case", args=[world.case_a.pk])
    client.get(url)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    before = count()
    for i in range(10):
        services.case_note_add(user=world.planner_a, case=world.case_a, body=f"备注{i}")
    services.case_reply(user=world.planner_a, case=world.case_a, body="答复")
    assert count() == before


@pytest.mark.django_db(transaction=True)
def test_two_planners_moving_one_case_at_once_are_applied_one_after_the_other(world):

    barrier = threading.Barrier(2)
    outcomes = []

    def move(user):
        try:
            barrier.wait()
            services.case_transition(user=user, case=world.case_a, to_status=S.IN_REVIEW)
            outcomes.append("ok")
        except ValidationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=move, args=(u,)) for u in (world.planner_a, world.colleague_a)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["invalid_transition", "ok"]
    assert world.case_a.events.filter(action=CaseAction.STATUS).count() == 1
