"""Persistent database connections health-checked once idle (``portal/db/postgresql``).

Each request below goes through Django's WSGI handler as gunicorn calls it, so Django's
``close_old_connections`` runs when it starts and ends (the test client skips both). The
connection is dropped by PostgreSQL itself (``pg_terminate_backend`` from another session),
as a restart or failover drops it.
"""

import json
import time

import psycopg
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection, connections
from django.test import RequestFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _healthz() -> dict:
    """``GET /healthz`` as gunicorn serves it: its JSON (the database: "ok" or "unreachable")."""
    environ = RequestFactory().get("/healthz", secure=True).environ
    response = WSGIHandler()(environ, lambda status, headers: None)
    try:
        return json.loads(response.content)
    finally:
        response.close()  # request_finished, as the server sends it


def _backend() -> int:
    return connection.connection.info.backend_pid


def _drop(pid: int) -> None:
    """PostgreSQL ends the session ``pid``, as a restart would."""
    params = connection.settings_dict
    with psycopg.connect(
        dbname=params["NAME"],
        user=params["USER"],
        password=params["PASSWORD"],
        host=params["HOST"],
        port=params["PORT"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    time.sleep(0.05)  # the session's process exits


@pytest.fixture
def delay():
    """Set the connection's CONN_HEALTH_CHECK_DELAY for the test."""
    saved = connection.settings_dict.get("CONN_HEALTH_CHECK_DELAY")

    def set_delay(seconds: float) -> None:
        connection.settings_dict["CONN_HEALTH_CHECK_DELAY"] = seconds

    yield set_delay
    connection.settings_dict["CONN_HEALTH_CHECK_DELAY"] = saved


def test_the_portal_uses_its_backend_with_health_checks_on():
    assert type(connections["default"]).__module__ == "portal.db.postgresql.base"
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True
    assert connection.settings_dict["CONN_MAX_AGE"] > 0
    assert connection.settings_dict["CONN_HEALTH_CHECK_DELAY"] > 0


def test_a_connection_idle_longer_than_the_delay_is_checked_and_replaced(delay):
    delay(0.2)
    assert _healthz()["database"] == "ok"
    dropped = _backend()
    _drop(dropped)
    time.sleep(0.3)
    # The check before the first query finds the connection dead and opens another.
    assert _healthz()["database"] == "ok"
    assert _backend() != dropped


def test_a_connection_that_answered_within_the_delay_is_reused_without_a_check(delay):
    delay(60)
    assert _healthz()["database"] == "ok"
    dropped = _backend()
    assert _healthz()["database"] == "ok"
    assert _backend() == dropped  # persistent: the same session served both
    _drop(dropped)
    # No SELECT 1 before the query: the request that meets the dropped connection fails
    # (the trade the delay makes) and Django closes the connection when it ends ...
    assert _healthz()["database"] == "unreachable"
    # ... so the next request has a new one.
    assert _healthz()["database"] == "ok"
    assert _backend() != dropped


def test_without_a_delay_every_reused_connection_is_checked_as_django_does(delay):
    delay(0)
    assert _healthz()["database"] == "ok"
    dropped = _backend()
    _drop(dropped)
    assert _healthz()["database"] == "ok"
    assert _backend() != dropped
