"""Generated bodies at every submission endpoint: never a 500, and a refusal stores nothing.

Hypothesis throws bodies at each endpoint through Django's test client: random JSON
(wrong types, huge numbers, deep nesting, text with controls and lone surrogates),
forms and multipart forms with the endpoint's own fields holding plausible or absurd
values, raw random bytes, under matching, mismatched and random content types and
charsets, from a new resident and from one who has a cookie (sent as a same-site
browser would, so the requests get past the cross-site check to the validation).
Valid-looking values (the real target, survey, question, district and reply ids, a
score of 1–5, a mainland number, the code actually sent to it) are mixed in so that
many bodies reach the services, not only the parsers.

For every body: the status is below 500, and after a 4xx the rows of the feedback
and review apps are exactly as many as before. Every example runs in a savepoint
rolled back after it, so each starts from the same rows.

The endpoints under ``replies`` are found in the URL configuration, so new ones are
covered as they appear.
"""

import json
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import quote_from_bytes

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client
from django.test.client import encode_multipart
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedback import sms
from feedback.models import Comment, Survey, SurveyQuestion
from feedback.replies import reply_write
from indicators.models import PublishStatus
from portal.api_parsers import MAX_DEPTH
from tests.factories import DistrictFactory, StoryFactory
from tests.feedback.helpers import api_post

EXAMPLES = 50
BOUNDARY = "PropertyBoundary"
SAME_SITE = {"HTTP_ORIGIN": "http://testserver"}
PHONE = "13800138000"

# --- What the endpoints take ------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    indicator_id: int
    story_id: int
    district_id: int
    survey_id: int
    question_ids: tuple[int, ...]
    reply_id: int
    cookie: str
    code: str


def _routes(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def _reply_routes() -> list[str]:
    return sorted({route for route in _routes(get_resolver().url_patterns) if "replies" in route})


def _any_int() -> st.SearchStrategy[int]:
    return st.integers(min_value=-(2**70), max_value=2**70)  # beyond bigint too


def _fields(endpoint: str, world: World) -> dict[str, tuple[st.SearchStrategy, st.SearchStrategy]]:
    """The endpoint's own fields: name → (values it accepts, values it must refuse or survive)."""
    text = st.text(st.characters(exclude_categories=()), max_size=40)
    wrong = st.one_of(text, _any_int(), st.floats(allow_nan=False), st.none(), st.booleans(), st.just([]))
    score = (st.integers(min_value=1, max_value=5), wrong)
    district = (st.one_of(st.just(""), st.just(world.district_id)), wrong)
    free_text = (st.text(min_size=1, max_size=40).filter(str.strip), wrong)
    target = {
        "target_type": (st.just("indicator"), st.sampled_from(["story", "chapter", "", "INDICATOR"])),
        "target_id": (st.just(world.indicator_id), st.one_of(st.just(world.story_id), wrong)),
    }
    phone = (st.just(PHONE), st.one_of(st.from_regex(r"\A(\+86)?1[3-9]\d{9}\Z"), wrong))
    code = (st.just(world.code), st.one_of(st.from_regex(r"\A\d{6}\Z"), wrong))
    honeypot = {"website": (st.just(""), text)}

    def answer(question: int) -> st.SearchStrategy[dict]:
        return st.fixed_dictionaries({"question": st.just(question), "score": score[0]})

    full_answers = st.permutations(world.question_ids).flatmap(lambda ids: st.tuples(*map(answer, ids)))
    some_answers = st.lists(
        st.fixed_dictionaries({}, optional={"question": st.one_of(*map(st.just, world.question_ids), wrong)}),
        max_size=len(world.question_ids) + 1,
    )
    questions = {f"question_{q}": score for q in world.question_ids}
    questions |= {f"question_{q}_comment": (st.just(""), wrong) for q in world.question_ids}
    by_endpoint = {
        "api-ratings": {**target, "score": score, "district": district},
        "api-comments": {**target, "body": free_text, "nickname": (st.just(""), wrong), "district": district},
        "api-survey-responses": {
            "survey": (st.just(world.survey_id), wrong),
            "answers": (full_answers.map(list), st.one_of(some_answers, wrong)),
            "district": district,
        },
        "api-verification": {"phone": phone},
        "api-verification-confirm": {"phone": phone, "code": code},
        "html-rate": {"score": score, "district": district, **honeypot},
        "html-comment": {"body": free_text, "nickname": (st.just(""), wrong), "district": district}
        | honeypot,
        "html-survey": {**questions, "district": district, **honeypot},
        "html-verify": {"phone": phone, "resend": (st.just(""), st.just("1")), **honeypot},
        "html-verify-confirm": {"phone": phone, "code": code},
        "html-my-data-delete": {"confirm": (st.just("on"), st.sampled_from(["", "false", "0"]))},
    }
    reply_rating = {
        "verdict": (st.sampled_from(["satisfied", "fairly", "unsatisfied"]), wrong),
        "solved": (st.sampled_from([True, False, None]), wrong),
    }
    return by_endpoint.get(endpoint, reply_rating if "replies" in endpoint else {})


FIXED_PATHS = {
    "api-ratings": "/api/v1/ratings/",
    "api-comments": "/api/v1/comments/",
    "api-survey-responses": "/api/v1/survey-responses/",
    "api-verification": "/api/v1/verification/",
    "api-verification-delete": "/api/v1/verification/",
    "api-verification-confirm": "/api/v1/verification/confirm/",
    "api-me-delete": "/api/v1/me/",
    "html-verify": "/verify/",
    "html-verify-confirm": "/verify/confirm/",
    "html-verify-revoke": "/verify/revoke/",
    "html-my-data-delete": "/my-data/delete/",
}


def _path(endpoint: str, world: World, *, valid: bool) -> st.SearchStrategy[str]:
    pk = st.integers(min_value=0, max_value=2**70)
    if endpoint in FIXED_PATHS:
        return st.just(FIXED_PATHS[endpoint])
    if endpoint in ("html-rate", "html-comment"):
        action = endpoint.removeprefix("html-")
        if valid:
            return st.just(f"/participate/indicator/{world.indicator_id}/{action}/")
        kinds = st.sampled_from(["indicator", "story"])
        return st.builds(lambda k, p: f"/participate/{k}/{p}/{action}/", kinds, pk)
    if endpoint == "html-survey":
        return st.builds("/survey/{}/".format, st.just(world.survey_id) if valid else pk)
    reply = st.just(world.reply_id) if valid else pk
    return st.builds(lambda p: "/" + endpoint.replace("<int:pk>", str(p)), reply)


ENDPOINTS = {
    "api-ratings": "POST",
    "api-comments": "POST",
    "api-survey-responses": "POST",
    "api-verification": "POST",
    "api-verification-confirm": "POST",
    "api-verification-delete": "DELETE",
    "api-me-delete": "DELETE",
    "html-rate": "POST",
    "html-comment": "POST",
    "html-survey": "POST",
    "html-verify": "POST",
    "html-verify-confirm": "POST",
    "html-verify-revoke": "POST",
    "html-my-data-delete": "POST",
    **dict.fromkeys(_reply_routes(), "POST"),
}

# --- The bodies -------------------------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=()), max_size=30)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    TEXT,
)
JSON_VALUES = st.recursive(
    LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=15,
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/json; charset=latin-1",
            "application/json; charset=bz2_codec",
            "application/x-www-form-urlencoded",
            "application/x-www-form-urlencoded; charset=utf-16",
            f"multipart/form-data; boundary={BOUNDARY}",
            "multipart/form-data",
            "text/plain",
            "application/xml",
            "application/octet-stream",
            "",
        ]
    ),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
)


def _json(value, *, ascii_only: bool) -> bytes:
    text = json.dumps(value, ensure_ascii=ascii_only, allow_nan=True)
    return text.encode("utf-8", "surrogatepass")  # a lone surrogate becomes bytes no decoder takes


def _form_value(value) -> bytes:
    if isinstance(value, bytes):
        return value
    return ("" if value is None else str(value)).encode("utf-8", "surrogatepass")


def _urlencoded(data: dict) -> bytes:
    quoted = ((quote_from_bytes(_form_value(k)), quote_from_bytes(_form_value(v))) for k, v in data.items())
    return "&".join(f"{k}={v}" for k, v in quoted).encode()


def _multipart(data: dict) -> bytes:
    text = {k: _form_value(v).decode("utf-8", "replace") for k, v in data.items()}
    return encode_multipart(BOUNDARY, text)


API_SHAPES = ["json", "json", "json", "json-random", "json-deep", "form", "form-bytes", "multipart", "bytes"]
HTML_SHAPES = ["form", "form", "form", "form-bytes", "multipart", "json", "json-deep", "bytes"]


@st.composite
def requests(draw, endpoint: str, world: World) -> tuple[str, bytes, str, bool]:
    """(path, body, content type, whether the resident's cookie goes with it).

    A third of the bodies hold only values the endpoint accepts, a third mix them with
    wrong ones, a third only wrong ones; most are sent in the endpoint's own format.
    """
    fields = _fields(endpoint, world)
    mode = draw(st.sampled_from(["valid", "mixed", "wrong"]))
    if mode == "valid":
        shaped = draw(st.fixed_dictionaries({name: good for name, (good, _bad) in fields.items()}))
    else:
        pick = (lambda good, bad: st.one_of(good, bad)) if mode == "mixed" else (lambda _good, bad: bad)
        shaped = draw(st.fixed_dictionaries({}, optional={n: pick(*field) for n, field in fields.items()}))
    path = draw(_path(endpoint, world, valid=mode != "wrong"))
    shape = draw(st.sampled_from(API_SHAPES if endpoint.startswith("api") else HTML_SHAPES))
    if shape == "json":
        body, content_type = _json(shaped, ascii_only=draw(st.booleans())), "application/json"
    elif shape == "json-random":
        body, content_type = _json(draw(JSON_VALUES), ascii_only=draw(st.booleans())), "application/json"
    elif shape == "json-deep":
        depth = draw(st.integers(min_value=MAX_DEPTH - 2, max_value=5000))
        body, content_type = b"[" * depth + b"]" * depth, "application/json"
    elif shape == "form":
        body, content_type = _urlencoded(shaped), "application/x-www-form-urlencoded"
    elif shape == "form-bytes":
        garbage = draw(st.dictionaries(st.binary(max_size=8), st.binary(max_size=30), max_size=4))
        body, content_type = _urlencoded({**shaped, **garbage}), "application/x-www-form-urlencoded"
    elif shape == "multipart":
        body, content_type = _multipart(shaped), f"multipart/form-data; boundary={BOUNDARY}"
    else:
        body, content_type = draw(st.binary(max_size=200)), "application/octet-stream"
    if mode != "valid" and draw(st.integers(min_value=0, max_value=3)) == 0:
        content_type = draw(CONTENT_TYPES)  # a content type that may not fit the body
    return path, body, content_type, draw(st.booleans())


# --- The property -----------------------------------------------------------------------------


def _tables() -> list[str]:
    models = [m for app in ("feedback", "review") for m in apps.get_app_config(app).get_models()]
    return sorted({m._meta.db_table for m in models if m._meta.managed and not m._meta.proxy})


def row_counts() -> dict[str, int]:
    tables = _tables()
    # Table names from the models, not from input.
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{table}")' for table in tables)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(zip(tables, cursor.fetchone(), strict=True))


@pytest.fixture
def world(db, settings, edition, indicator, chapter) -> World:
    # Out of the way: limits answer 429 (a refusal, still checked) before the bodies get far.
    for name in (
        "RATE_LIMIT_RATINGS",
        "RATE_LIMIT_COMMENTS",
        "RATE_LIMIT_SURVEY",
        "RATE_LIMIT_VERIFICATION",
        "RATE_LIMIT_NEW_RESIDENTS",
        "VERIFICATION_PHONE_RATE",
        "VERIFICATION_ADDRESS_RATE",
    ):
        setattr(settings, name, "100000/h")
    settings.VERIFICATION_RESEND_INTERVAL = 0
    settings.SMS_BACKEND = "feedback.sms.backends.locmem.SmsBackend"
    district = DistrictFactory()
    story = StoryFactory(chapter=chapter, district=district)
    now = timezone.now()
    survey = Survey.objects.create(
        edition=edition,
        slug="satisfaction",
        title="满意度调查",
        opens_at=now - timedelta(days=30),
        closes_at=now + timedelta(days=30),
        status=PublishStatus.PUBLISHED,
        published_at=now - timedelta(days=30),
    )
    for order, dimension in enumerate(["公共交通", "积水防涝"], start=1):
        SurveyQuestion.objects.create(survey=survey, order=order, dimension=dimension, text=f"{dimension}？")
    resident = Client()
    comment = {"target_type": "story", "target_id": story.pk, "body": "好"}
    created = api_post(resident, "/api/v1/comments/", comment)
    assert created.status_code == 201
    staff = get_user_model().objects.create_user(username="replier", password="x" * 20, is_staff=True)  # noqa: S106
    reply = reply_write(
        target=Comment.objects.get(), author=staff, author_title="东城区责任规划师", body="已转交。"
    )
    sms.outbox.clear()
    assert api_post(resident, "/api/v1/verification/", {"phone": PHONE}).status_code == 201
    return World(
        indicator_id=indicator.pk,
        story_id=story.pk,
        district_id=district.pk,
        survey_id=survey.pk,
        question_ids=tuple(survey.questions.values_list("pk", flat=True)),
        reply_id=reply.pk,
        cookie=resident.cookies["resident"].value,
        code=sms.outbox[-1].params["code"],
    )


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_generated_bodies_never_get_a_500_and_refusals_store_nothing(world, endpoint):
    method = ENDPOINTS[endpoint]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,  # nothing written into the working tree; a failure prints its example
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(request=requests(endpoint, world))
    def check(request):
        path, body, content_type, with_cookie = request
        client = Client(REMOTE_ADDR="10.1.2.3")
        extra = {}
        if with_cookie:
            client.cookies["resident"] = world.cookie
            extra = SAME_SITE
        with transaction.atomic():
            before = row_counts()
            response = client.generic(method, path, body, content_type=content_type, **extra)
            after = row_counts()
            transaction.set_rollback(True)
        assert response.status_code < 500, (response.status_code, response.content[:500])
        if 400 <= response.status_code < 500:
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            assert not changed, f"{response.status_code} but rows changed: {changed}"

    check()


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_every_endpoint_exists(endpoint):
    """A renamed URL would leave the property above testing a 404."""
    paths = {**FIXED_PATHS, "html-survey": "/survey/1/"}
    paths |= {f"html-{action}": f"/participate/indicator/1/{action}/" for action in ("rate", "comment")}
    paths |= {route: "/" + route.replace("<int:pk>", "1") for route in ENDPOINTS if "replies" in route}
    assert resolve(paths[endpoint]).url_name
