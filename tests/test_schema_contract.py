"""The OpenAPI schema is the contract: schemathesis holds the live API to it (issue 11).

schemathesis's engine — what ``st run --checks all`` runs — against the suite's live
server (pytest-django's ``live_server``: the real app in a thread, on the test
database), over every operation of ``/api/v1/schema/``, in every phase (the schema's
examples, its boundaries and every status it documents, generated data valid and
invalid, and chains of calls), with every check. A small published report is there
to read and rate, so that valid requests reach the views rather than a 404.

What the run must know of the API:

- **the resident cookie**: a request that carries ``resident`` must come from this
  site (feedback/pipeline.py) — schemathesis generates the cookie as the schema
  documents it, sends no ``Origin``, and so gets the documented 403; requests
  without it are new residents, as an integrator's first request is;
- **limits**: per resident and per address, and the run comes from one address:
  they are raised out of the way for it (they have tests of their own);
- **what no schema can say**: a submission names rows (the item rated, the survey and
  all its questions, a district; the story list's district filter too) and a code sent
  by SMS, and a period's start must not
  follow its end; a schema-valid request naming a row that does not exist, the wrong
  code or a reversed period is refused with 400 and field messages. For those
  operations ``positive_data_acceptance`` also takes a 400 — but only one whose
  messages are on those fields alone (``refused_only_for_what_no_schema_says``
  below): a schema-valid request refused for anything else is still a failure.

The run is bounded (``EXAMPLES`` per operation and phase, ``MAX_SECONDS`` in all)
and its seed is printed with any failure, so a failure can be replayed.
"""

import re
from datetime import timedelta

import pytest
import schemathesis
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.engine import Status
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished

from feedback.models import Survey, SurveyQuestion
from feedback.serializers import CODE_PATTERN, PHONE_PATTERN
from feedback.verification import _code_clean, phone_normalise
from indicators.models import PublishStatus
from review.public import MONTH_PATTERN, PeriodForm
from tests.factories import DistrictFactory, IndicatorFactory, StoryFactory

EXAMPLES = 15
MAX_SECONDS = 55
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "positive_data_acceptance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
]
# positive_data_acceptance's own list (schemathesis 4): a 404 is a well-formed request for a
# row that is not there. And 411, for both checks: a body sent chunked reaches this live
# server (Django's, which does not mark the end of the input) without a length, and
# portal/request_guards.py refuses to read it (documented on every operation with a body;
# gunicorn and nginx in front of it in production hand the app a length instead).
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "411", "429", "5xx"]
REJECTED = ["400", "401", "403", "404", "405", "406", "409", "411", "415", "422", "428", "429", "5xx"]
RELAXED_LIMITS = [
    "RATE_LIMIT_RATINGS",
    "RATE_LIMIT_COMMENTS",
    "RATE_LIMIT_SURVEY",
    "RATE_LIMIT_VERIFICATION",
    "RATE_LIMIT_NEW_RESIDENTS",
    "VERIFICATION_PHONE_RATE",
    "VERIFICATION_ADDRESS_RATE",
]


@pytest.fixture
def report(transactional_db, edition, chapter):
    districts = [DistrictFactory() for _ in range(2)]
    for _ in range(2):
        IndicatorFactory(chapter=chapter)
        StoryFactory(chapter=chapter, district=districts[0])
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
    return edition


# Operation → the fields whose validity depends on stored rows, on the code sent, or on
# each other (a period's start and end: Django's "__all__").
SCHEMA_CANNOT_SAY = {
    ("POST", "/api/v1/ratings/"): {"target_id", "district"},
    ("POST", "/api/v1/comments/"): {"target_id", "district"},
    ("POST", "/api/v1/survey-responses/"): {"survey", "answers", "district"},
    ("POST", "/api/v1/verification/"): {"phone"},  # already verified with this number
    ("POST", "/api/v1/verification/confirm/"): {"phone", "code"},  # no code sent to it; a wrong code
    ("GET", "/api/v1/accountability/"): {"__all__"},  # a start after the end (by default this month)
    ("GET", "/api/v1/stories/"): {"district"},  # a slug no district has (the schema lists none)
}


def _plain_message(message: object) -> bool:
    # A message of the field itself: DRF's string or Django's {"message", "code"}. A nested
    # object of messages (an answer's own fields) is about the request's shape.
    return isinstance(message, str) or (isinstance(message, dict) and set(message) == {"message", "code"})


def _only_what_no_schema_says(operation: tuple[str, str], body: object) -> bool:
    allowed = SCHEMA_CANNOT_SAY[operation]
    return isinstance(body, dict) and all(
        (field in allowed or (field.startswith("question_") and "answers" in allowed))
        and isinstance(messages, list)
        and all(_plain_message(message) for message in messages)
        for field, messages in body.items()
    )


@schemathesis.check
def refused_only_for_what_no_schema_says(ctx, response, case):
    """A schema-valid request refused with 400 has messages only on those fields."""
    operation = (case.method.upper(), case.operation.path)
    if operation not in SCHEMA_CANNOT_SAY or response.status_code != 400:
        return
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if not _only_what_no_schema_says(operation, response.json()):
        raise AssertionError(f"A schema-valid request was refused for its shape: {response.json()}")


def _failures(events) -> tuple[list[str], list[str]]:
    failures, errors = [], []
    for event in events:
        if isinstance(event, ScenarioFinished) and event.status == Status.FAILURE:
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.status != Status.FAILURE or check.failure_info is None:
                        continue
                    info = check.failure_info
                    label = f"{event.recorder.label} [{check.name}] {info.failure.title}"
                    failures.append(f"{label}: {info.failure.message}\n    {info.code_sample}")
        elif isinstance(event, NonFatalError):
            errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, EngineFinished):
            errors.extend(f"after run: {failure.title}: {failure.message}" for failure in event.failures)
    return sorted(set(failures)), errors


def test_the_api_keeps_to_its_schema(live_server, report, settings, monkeypatch):
    # The server's request threads close their connections after each request (not after
    # CONN_MAX_AGE), so none outlives the test and holds the test database.
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    for name in RELAXED_LIMITS:
        setattr(settings, name, "100000/h")
    settings.VERIFICATION_RESEND_INTERVAL = 0
    settings.SMS_BACKEND = "feedback.sms.backends.locmem.SmsBackend"
    config = schemathesis.Config.from_dict(
        {
            "max-time": MAX_SECONDS,
            "checks": {
                **{name: {"enabled": True} for name in [*CHECKS, "refused_only_for_what_no_schema_says"]},
                "positive_data_acceptance": {"expected-statuses": ACCEPTED},
                "negative_data_rejection": {"expected-statuses": REJECTED},
            },
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                }
                for method, path in SCHEMA_CANNOT_SAY
            ],
            "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
            "warnings": False,
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/", config=config)
    schema.config.update(base_url=live_server.url)
    events = schemathesis.engine.from_schema(schema).execute()
    failures, errors = _failures(events)
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures (seed {schema.config.seed}):\n" + "\n".join(failures)


# --- The patterns the schema gives, held to what the services read ------------------------------

PHONE_ALPHABET = "0123456789０１３６８９+＋-‐（）() .86"


# The schema allows what matches the pattern within maxLength 40. Filtering the pattern's
# strings by length makes Hypothesis throw most away (its separators may repeat) and costs
# half a minute; the longer ones (about three in four) are drawn and passed over instead.
@hypothesis_settings(max_examples=150, deadline=None, database=None)
@given(phone=st.from_regex(PHONE_PATTERN))
def test_every_number_the_schema_allows_is_read(phone):
    if len(phone) <= 40:
        assert phone_normalise(phone).startswith("+861")


@hypothesis_settings(max_examples=300, deadline=None, database=None)
@given(text=st.text(PHONE_ALPHABET, max_size=20) | st.from_regex(r"\A(\+86)?1[3-9][0-9]{9}\Z"))
def test_every_number_read_is_one_the_schema_allows(text):
    try:
        phone_normalise(text)
    except ValidationError:
        return
    assert re.match(PHONE_PATTERN, text), text


@hypothesis_settings(max_examples=200, deadline=None, database=None)
@given(text=st.from_regex(CODE_PATTERN) | st.text("0123456789１２ \t", max_size=9))
def test_the_code_pattern_is_what_the_service_reads(text):
    try:
        _code_clean(text)
    except ValidationError:
        accepted = False
    else:
        accepted = True
    assert accepted == bool(re.match(CODE_PATTERN, text)), text


MONTHS = ["2023-01", "2023-1", " 2023-12 ", "0001-01", "", "2023-13", "0000-01", " ", "23-01"]


@pytest.mark.parametrize("month", MONTHS)
def test_the_month_pattern_is_what_the_period_form_reads(month):
    form = PeriodForm({"start": month, "end": "9999-12"})
    assert form.is_valid() == bool(re.match(MONTH_PATTERN, month)), form.errors
