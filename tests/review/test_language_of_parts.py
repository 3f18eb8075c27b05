"""The workspace's English interface says which of its texts are Chinese (WCAG 3.1.2, language of parts).

As on the public pages (tests/test_language_of_parts.py, whose checker this reuses): the
names of districts, streets, chapters and items are shown in English where they have an
English version, and their Chinese, marked ``lang="zh-Hans"``, where they have none; what
residents and staff wrote (comments, survey remarks, replies, closing notes, signatures,
moderation reasons, internal notes, the history that records them) is marked Chinese when
it is written in Chinese and left in the page's language when written in English; the
interface's own words use English punctuation. Chinese pages are Chinese throughout.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from feedback import submissions
from feedback.aggregates import aggregates_reconcile
from feedback.limits import HOLD_NEW_IDENTITIES, SubmissionSource
from feedback.models import REPLY_MAX_LENGTH, Rating, TrustState
from review import services
from review.accountability import accountability_refresh
from review.models import CaseResolution, CaseStatus, ReplyTemplate, ReviewCase
from tests.factories import IndicatorFactory
from tests.review.helpers import (
    login,
    make_survey,
    new_resident_key,
    submit_comment,
    submit_rating,
    submit_survey,
)
from tests.test_language_of_parts import chinese_not_marked

pytestmark = pytest.mark.django_db

COMMENT = "胡同里的共享单车太多了，走路不方便。"
REPLY = "已协调街道划设停放区。\n感谢您的反馈。"
CLOSING_NOTE = "已办结，停放区已启用。"
NOTE = "先问问街道。"
REJECTED = "这里有人卖发票，加微信 www.example.com"
REJECT_REASON = "含广告，不予公开。"
ENGLISH = "More shade along the canal, please."
REMARK = "地铁太挤了，早高峰进不去站。"
ANSWER_REPLY = "已反馈至轨道交通运营单位。"
RATING_NOTE = "已转交区城管委处理。"
BARE_NAME = "街巷绿化"  # an indicator without an English name
TEMPLATE_TITLE = "街巷环境答复"
HELD_SOURCE = SubmissionSource(source_hash="f" * 32, hold_reason=HOLD_NEW_IDENTITIES)


@dataclass
class Workspace:
    comment: ReviewCase
    rejected: ReviewCase
    english: ReviewCase
    answer: ReviewCase
    rating: ReviewCase


@pytest.fixture
def workspace(world) -> Workspace:
    """District A's planner's workspace with a case of every kind and all that a case shows."""
    a, planner = world.district_a, world.planner_a
    # Names staff have not translated yet: the English pages show (and mark) the Chinese.
    world.street_a.name_en = ""
    world.street_a.save()
    world.district_b.name_en = ""
    world.district_b.save()
    bare = IndicatorFactory(chapter=world.chapter, name=BARE_NAME, name_en="")

    # A comment, handled all the way: assigned, noted, approved, replied to, closed with a note.
    comment = world.case_a
    services.case_transition(user=planner, case=comment, to_status=CaseStatus.IN_REVIEW)
    services.case_assign(user=planner, case=comment, assignee=world.colleague_a)
    services.case_note_add(user=planner, case=comment, body=NOTE)
    services.comment_moderate(user=planner, case=comment, approve=True)
    services.case_reply(user=planner, case=comment, body=REPLY)
    services.case_close(user=planner, case=comment, resolution=CaseResolution.SOLVED, note=CLOSING_NOTE)

    # A comment held for its link, then rejected with a reason.
    _comment, rejected = submit_comment(bare, REJECTED, district=a, nickname="老北京")
    services.comment_moderate(user=planner, case=rejected, approve=False, reason=REJECT_REASON)

    # A resident who wrote in English, waiting for moderation.
    _comment, english = submit_comment(world.story_a, ENGLISH, district=a, nickname="Anna")

    # A survey remark (the survey has no English title or dimensions), answered privately.
    survey = make_survey(world.story_a.edition)
    submit_survey(survey, {"公共交通": (1, REMARK), "积水防涝": (4, "")}, district=a)
    answer = ReviewCase.objects.get(survey_answer__comment=REMARK)
    services.case_reply(user=planner, case=answer, body=ANSWER_REPLY)

    # A low rating, closed with a note only.
    rating = submit_rating(world.indicator, 1, district=a).review_case
    services.case_transition(user=planner, case=rating, to_status=CaseStatus.IN_REVIEW)
    services.case_close(user=planner, case=rating, resolution=CaseResolution.EXPLAINED, note=RATING_NOTE)

    # Enough raters for the dashboard's figures, two held ratings, a reply template.
    for score in (4, 5, 4, 5, 4):
        submit_rating(bare, score, district=a)
    for score in (2, 3, 3, 4):
        submit_rating(world.indicator, score, district=a)
    for target in (bare, world.story_a):
        submissions.rating_submit(
            resident_key_hash=new_resident_key(), target=target, score=2, district=a, source=HELD_SOURCE
        )
    aggregates_reconcile()
    accountability_refresh()
    ReplyTemplate.objects.create(title=TEMPLATE_TITLE, body="感谢您的反馈，我们已转交街道。", district=a)
    return Workspace(comment, rejected, english, answer, rating)


@pytest.fixture
def english(client):
    client.cookies["django_language"] = "en"
    return client


def _case(pk: int) -> str:
    return reverse("review:case", args=[pk])


def _pages(world, workspace: Workspace) -> list[str]:
    queue = reverse("review:queue")
    return [
        queue,
        f"{queue}?q=%E5%8D%95%E8%BD%A6&district={world.district_a.pk}",  # q=单车
        f"{queue}?kind=rating&order=oldest&status=closed",
        *(_case(case.pk) for case in vars(workspace).values()),
        reverse("review:dashboard"),
        reverse("accountability"),
    ]


def _english_page(client: Client, path, status: int = 200) -> str:
    """The page at ``path`` (or the response given), in English."""
    response = client.get(path) if isinstance(path, str) else path
    assert response.status_code == status, path
    html = response.content.decode()
    assert '<html lang="en"' in html, path
    return html


def test_every_chinese_text_of_the_english_workspace_is_marked_chinese(world, workspace, english):
    login(english, world.planner_a)
    wrong = {}
    for path in _pages(world, workspace):
        if found := chinese_not_marked(_english_page(english, path)):
            wrong[path] = found
    assert not wrong, "\n".join(f"{path}:\n  " + "\n  ".join(found) for path, found in wrong.items())


def test_the_chinese_texts_are_shown_and_the_english_ones_are_not_marked(world, workspace, english):
    login(english, world.planner_a)
    case = _english_page(english, _case(workspace.comment.pk))
    for text in (COMMENT, "已协调街道划设停放区。<br>感谢您的反馈。", CLOSING_NOTE, NOTE, "东城区责任规划师"):
        assert text in case
    # The district's English name; the street's Chinese one, as it has no English.
    assert f'<dd id="case-route">{world.district_a.name_en} · <span lang="zh-Hans">东华门街道</span>' in case
    assert "Closing note</strong>: " in case
    rejected = _english_page(english, _case(workspace.rejected.pk))
    assert REJECTED in rejected and REJECT_REASON in rejected and BARE_NAME in rejected
    answer = _english_page(english, _case(workspace.answer.pk))
    assert REMARK in answer and ANSWER_REPLY in answer and "公共交通" in answer
    assert RATING_NOTE in _english_page(english, _case(workspace.rating.pk))
    dashboard = _english_page(english, reverse("review:dashboard"))
    assert BARE_NAME in dashboard and f"Chapter {world.chapter.number}" in dashboard
    assert "西城区" in _english_page(english, reverse("accountability"))

    # A resident who wrote in English is not announced as Chinese, in the queue or on the case.
    queue = _english_page(english, reverse("review:queue"))
    assert f'<p class="case-card__text">{ENGLISH}</p>' in queue
    own = _english_page(english, _case(workspace.english.pk))
    assert f'<blockquote class="feedback-text">{ENGLISH}</blockquote>' in own


def test_the_failed_forms_and_the_sign_in_pages_are_marked_too(world, workspace, english):
    login(english, world.planner_a)
    # A reply too long, re-shown in its form; a reply a rejected comment cannot take; a
    # rejection without a reason.
    too_long = "长" * (REPLY_MAX_LENGTH + 1)
    refused = english.post(reverse("review:case_reply", args=[workspace.comment.pk]), {"body": too_long})
    refused_html = _english_page(english, refused, status=400)
    assert too_long in refused_html
    assert chinese_not_marked(refused_html) == []
    refused = english.post(reverse("review:case_reply", args=[workspace.rejected.pk]), {"body": "已处理。"})
    assert chinese_not_marked(_english_page(english, refused, status=400)) == []
    unreasoned = english.post(
        reverse("review:case_moderate", args=[workspace.english.pk]), {"decision": "reject", "reason": ""}
    )
    assert chinese_not_marked(_english_page(english, unreasoned, status=400)) == []
    # A held rating discarded with a note: the dashboard it returns to lists the other one.
    held = Rating.objects.filter(trust=TrustState.HELD).order_by("pk")
    assert held.count() == 2
    decided = english.post(
        reverse("review:held_ratings_decide"),
        {"ratings": [held[0].pk], "decision": "discard", "note": "同一网络重复评分"},
        follow=True,
    )
    dashboard = _english_page(english, decided)
    assert 'id="held-table"' in dashboard
    assert chinese_not_marked(dashboard) == []

    visitor = Client()
    visitor.cookies["django_language"] = "en"
    login_page = reverse("review:login")
    assert chinese_not_marked(_english_page(visitor, login_page)) == []
    wrong = visitor.post(login_page, {"username": "planner_a", "password": "wrong"}, REMOTE_ADDR="10.0.0.9")
    assert chinese_not_marked(_english_page(visitor, wrong)) == []
    for _ in range(4):
        locked = visitor.post(
            login_page, {"username": "planner_a", "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )
    assert chinese_not_marked(_english_page(visitor, locked, status=429)) == []


def test_the_chinese_workspace_is_chinese_throughout(world, workspace, client):
    login(client, world.planner_a)
    html = client.get(reverse("review:queue")).content.decode()
    assert '<html lang="zh-Hans"' in html
    assert "东城区" in html and COMMENT in html
    assert chinese_not_marked(html) == []
