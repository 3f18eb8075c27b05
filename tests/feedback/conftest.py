"""Fixtures of the participation tests: a survey, residents, waiting for the workers."""

import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from feedback.models import Survey, SurveyQuestion
from feedback.residents import COOKIE_NAME, resident_identity
from indicators.models import PublishStatus


@pytest.fixture
def survey(edition) -> Survey:
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
    for order, dimension in enumerate(["公共交通", "积水防涝", "公园绿地"], start=1):
        SurveyQuestion.objects.create(
            survey=survey, order=order, dimension=dimension, text=f"您对{dimension}是否满意？"
        )
    return survey


_counter = iter(range(10**9))


def new_resident_client(address: str | None = None) -> Client:
    """A browser with its own cookie jar (and, by default, its own address)."""
    n = next(_counter)
    return Client(REMOTE_ADDR=address or f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")


@pytest.fixture
def resident_client() -> Client:
    return new_resident_client()


def cookie_key_hash(client: Client) -> str:
    """The stored hash of the resident id in a client's signed cookie (read as the site does)."""
    request = RequestFactory().get("/")
    request.COOKIES[COOKIE_NAME] = client.cookies[COOKIE_NAME].value
    identity = resident_identity(request)
    assert identity is not None, "the cookie does not verify"
    return identity.key_hash


def wait_until(predicate: Callable[[], object], timeout: float = 60, message: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"Timed out after {timeout}s: {message}", pytrace=False)


@pytest.fixture
def fast_redelivery(monkeypatch) -> None:
    """Workers started after this hand a killed worker's task on within seconds."""
    monkeypatch.setenv("CELERY_VISIBILITY_TIMEOUT", "4")
    monkeypatch.setenv("CELERY_UNACKED_RESTORE_INTERVAL", "1")
    monkeypatch.setenv("CELERY_UNACKED_RESTORE_THROTTLE", "1")


@pytest.fixture
def refresh_delay() -> float:
    return settings.AGGREGATE_REFRESH_DELAY


@pytest.fixture
def wait_for_idle_broker(redis_client) -> Callable[[], None]:
    """Waits until every queued task has run (instead of sleeping as long as one might take).

    Celery's Redis transport keeps waiting tasks in the ``celery`` list and tasks a
    worker received (countdown included) in the ``unacked`` hash until they are
    acknowledged, which with ``acks_late`` is after they ran. Idle twice in a row,
    0.2 s apart, so a task between the two is not missed.
    """

    def wait(timeout: float = 30) -> None:
        seen: list[bool] = []

        def idle() -> bool:
            seen.append(redis_client.llen("celery") == 0 and redis_client.hlen("unacked") == 0)
            return seen[-2:] == [True, True]

        wait_until(idle, timeout, "the queued tasks to finish")

    return wait
