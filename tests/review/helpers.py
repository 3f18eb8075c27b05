"""Setting up the workspace's world through the real actions.

Feedback enters through the feedback app's own services (which open the
review cases), planners are created like the admin creates them, and cases
change only through ``review.services``.
"""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import Client
from django.utils import timezone

from feedback import submissions
from feedback.models import Survey, SurveyQuestion
from feedback.residents import resident_cookie_set, resident_identity, resident_key_hash
from indicators.models import District, Street
from review.models import PlannerProfile, ReplySignature, ReviewCase

PASSWORD = "correct-horse-battery-staple-42"


def make_planner(
    username: str,
    *,
    districts: list[District] = (),
    streets: list[Street] = (),
    title: str = "",
    email: str | None = None,
):
    user = get_user_model().objects.create_user(
        username=username,
        password=PASSWORD,
        email=f"{username}@example.org" if email is None else email,
        is_staff=False,
    )
    profile = PlannerProfile.objects.create(user=user, title=title or f"{username} 责任规划师")
    profile.districts.set(districts)
    profile.streets.set(streets)
    return user


def make_staff(username: str = "staff", *, title: str | None = "北京市规划和自然资源委员会"):
    """A staff member; with ``title`` (as staff set in the admin), the signature of their replies."""
    user = get_user_model().objects.create_user(
        username=username, password=PASSWORD, email=f"{username}@example.org", is_staff=True
    )
    if title:
        ReplySignature.objects.create(user=user, title=title)
    return user


def new_resident_key() -> str:
    return resident_key_hash(secrets.token_urlsafe(24))


def submit_comment(
    target, body: str = "这条街的路灯坏了很久。", *, district=None, nickname: str = "", key=None
):
    comment = submissions.comment_submit(
        resident_key_hash=key or new_resident_key(),
        target=target,
        body=body,
        nickname=nickname,
        district=district,
    )
    return comment, ReviewCase.objects.get(comment=comment)


def submit_rating(target, score: int, *, district=None, key=None):
    return submissions.rating_submit(
        resident_key_hash=key or new_resident_key(), target=target, score=score, district=district
    )


def make_survey(edition, dimensions=("公共交通", "积水防涝")) -> Survey:
    now = timezone.now()
    survey = Survey.objects.create(
        edition=edition,
        slug=f"survey-{secrets.token_hex(3)}",
        title="2023 年度市民满意度调查",
        status="published",
        published_at=now - timedelta(days=1),
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
    )
    for order, dimension in enumerate(dimensions):
        SurveyQuestion.objects.create(
            survey=survey, order=order, dimension=dimension, text=f"您对{dimension}满意吗？"
        )
    return survey


def submit_survey(survey: Survey, answers: dict[str, tuple[int, str]], *, district=None, key=None):
    """``answers``: dimension → (score, free text)."""
    questions = {q.dimension: q for q in survey.questions.all()}
    return submissions.survey_response_submit(
        resident_key_hash=key or new_resident_key(),
        survey=survey,
        answers=[
            submissions.AnswerInput(question_id=questions[d].pk, score=s, comment=t)
            for d, (s, t) in answers.items()
        ],
        district=district,
    )


def resident_client() -> Client:
    """A browser holding a resident's signed cookie, as the public site gives it."""
    client = Client()
    request = type("Request", (), {"COOKIES": {}, "get_signed_cookie": lambda *a, **k: None})()
    identity = resident_identity(request, create=True)
    response = resident_cookie_set(HttpResponse(), identity)
    for name, morsel in response.cookies.items():
        client.cookies[name] = morsel.value
    return client


def login(client: Client, user) -> Client:
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client
