"""A case has one history, which every planner reads: its own words (statuses, outcomes,
trust states, hold reasons) are written in the site's language, Chinese, whichever
language the person acting uses — a resident on the English site opening a case, a planner
working in the English workspace. What people wrote stays as they wrote it; the English
workspace shows the Chinese record marked as Chinese."""

import pytest
from django.test import Client
from django.urls import reverse

from feedback.limits import HOLD_NEW_IDENTITIES, SubmissionSource
from review.models import CaseAction, CaseEvent, ReviewCase
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment
from tests.review.helpers import login
from tests.review.test_held_ratings import _held
from tests.test_language_of_parts import chinese_not_marked

pytestmark = pytest.mark.django_db

HELD_SOURCE = SubmissionSource(source_hash="f" * 32, hold_reason=HOLD_NEW_IDENTITIES)


def _in_english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def _history(case: ReviewCase) -> list[tuple[str, str, str]]:
    return [
        (event.action, event.before, event.after)
        for event in CaseEvent.objects.filter(case=case).order_by("pk")
    ]


def test_a_case_handled_in_english_is_recorded_in_chinese(world):
    resident = _in_english(new_resident_client())
    body = "Too many shared bikes at the hutong entrance."
    assert comment(resident, world.story_a, body).status_code == 302
    case = ReviewCase.objects.get(comment__body=body)
    planner = _in_english(login(Client(), world.planner_a))

    def post(name: str, data: dict) -> None:
        response = planner.post(reverse(f"review:{name}", args=[case.pk]), data)
        assert response.status_code == 302, response.content.decode()[:500]

    post("case_transition", {"to_status": "in_review"})
    post("case_moderate", {"decision": "reject", "reason": "Advertising."})
    post("case_close", {"resolution": "explained", "note": "Explained in person."})

    assert _history(case) == [
        (CaseAction.OPENED, "", "新反馈"),
        (CaseAction.STATUS, "新反馈", "处理中"),
        (CaseAction.REJECT, "待审核", "未通过：Advertising."),
        (CaseAction.CLOSE, "处理中", "已办结（未解决，已说明原因）：Explained in person."),
    ]
    # The English workspace shows the record, its Chinese marked as such.
    page = planner.get(reverse("review:case", args=[case.pk])).content.decode()
    assert '<html lang="en"' in page and "已办结（未解决，已说明原因）" in page
    assert chinese_not_marked(page) == []


def test_held_ratings_decided_in_english_are_recorded_in_chinese(world):
    held = _held(world.story_a, 1)
    planner = _in_english(login(Client(), world.planner_a))
    response = planner.post(
        reverse("review:held_ratings_decide"), {"ratings": [held.pk], "decision": "discard", "note": "Spam."}
    )
    assert response.status_code == 302
    [event] = CaseEvent.objects.filter(case__rating=held, action=CaseAction.TRUST)
    assert (event.before, event.after) == ("待核实：同一网络新身份过多", "已剔除：Spam.")
