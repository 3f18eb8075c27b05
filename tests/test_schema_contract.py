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
  all its questions, a district) and a code sent by SMS; a schema-valid request naming
  a row that does not exist, or the wrong code, is refused with 400 and field messages.
  For those operations ``positive_data_acceptance`` also takes a 400 — but only one
  whose messages are on those fields alone (``refused_only_for_stored_data`` below): a
  schema-valid request refused for anything else is still a failure.

The run is bounded (``EXAMPLES`` per operation and phase, ``MAX_SECONDS`` in all)
and its seed is printed with any failure, so a failure can be replayed.
"""

from datetime import timedelta

import pytest
import schemathesis
from django.utils import timezone
from schemathesis.engine import Status
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished

from feedback.models import Survey, SurveyQuestion
from indicators.models import PublishStatus
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
# row that is not there.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
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


# Operation → the fields whose validity depends on stored rows (or on the code sent).
DATA_DEPENDENT = {
    ("POST", "/api/v1/ratings/"): {"target_id", "district"},
    ("POST", "/api/v1/comments/"): {"target_id", "district"},
    ("POST", "/api/v1/survey-responses/"): {"survey", "answers", "district"},
    ("POST", "/api/v1/verification/"): {"phone"},  # already verified with this number
    ("POST", "/api/v1/verification/confirm/"): {"phone", "code"},  # no code sent to it; a wrong code
}


def _stored_data_fields(operation: tuple[str, str], body: object) -> bool:
    """Whether a 400's messages are all on fields that name stored rows, as plain messages
    (a nested message — an answer's own field — is about the request's shape)."""
    allowed = DATA_DEPENDENT[operation]
    return isinstance(body, dict) and all(
        (field in allowed or (field.startswith("question_") and "answers" in allowed))
        and isinstance(messages, list)
        and all(isinstance(message, str) for message in messages)
        for field, messages in body.items()
    )


@schemathesis.check
def refused_only_for_stored_data(ctx, response, case):
    """A schema-valid submission refused with 400 names only rows that do not exist."""
    operation = (case.method.upper(), case.operation.path)
    if operation not in DATA_DEPENDENT or response.status_code != 400:
        return
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    if not _stored_data_fields(operation, response.json()):
        raise AssertionError(f"A schema-valid request was refused for its shape: {response.json()}")
    return


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


@pytest.mark.xfail(
    strict=True,
    reason=(
        "Issue 11 point 4 is not done: in the clean-clone run schemathesis still found 26 "
        "content_type_conformance failures (a path no URL pattern matches, e.g. "
        "/api/v1/editions/1.96/, gets Django's HTML 404, not JSON) and 10 positive_data_acceptance "
        "failures (filters such as ?chapter=0 and malformed accountability periods refused with 400 "
        "although the schema allows them). strict: this marker fails the run once they are fixed."
    ),
)
def test_the_api_keeps_to_its_schema(live_server, report, settings):
    for name in RELAXED_LIMITS:
        setattr(settings, name, "100000/h")
    settings.VERIFICATION_RESEND_INTERVAL = 0
    settings.SMS_BACKEND = "feedback.sms.backends.locmem.SmsBackend"
    config = schemathesis.Config.from_dict(
        {
            "max-time": MAX_SECONDS,
            "checks": {name: {"enabled": True} for name in [*CHECKS, "refused_only_for_stored_data"]},
            "operations": [
                {
                    "include-method": method,
                    "include-path": path,
                    "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}},
                }
                for method, path in DATA_DEPENDENT
            ],
            "generation": {"mode": "all", "max-examples": EXAMPLES, "database": "none"},
            "warnings": False,
        }
    )
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/schema/", config=config)
    schema.config.update(base_url=live_server.url)
    failures, errors = _failures(schemathesis.engine.from_schema(schema).execute())
    assert not errors, "\n".join(errors)
    assert not failures, f"{len(failures)} failures (seed {schema.config.seed}):\n" + "\n".join(failures)
