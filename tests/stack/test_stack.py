"""End to end through the production stack: nginx → gunicorn → PostgreSQL, Redis → Celery worker.

Every request goes through nginx on its loopback port, as a resident's would.
"""

import gzip
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import brotli
import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count, Sum
from django.templatetags.static import static
from django.test import RequestFactory

from deploy.stack import program_name
from feedback.models import Rating, TrustState
from feedback.residents import client_address_hash
from portal.celery import app as celery_app
from tests.feedback.conftest import wait_until
from tests.feedback.helpers import API_RATINGS, aggregate_of

# One stack per module: the full run hands a module to one worker whole (tests/parallel.py),
# so the stack starts once.
pytestmark = pytest.mark.django_db(transaction=True)

# A minute, as an operator restarting Redis or failing it over would take: the worker
# loses its connection at once (the old crash) and must keep retrying past Celery's
# first, short retry intervals; the web processes keep storing what residents send.
OUTAGE_SECONDS = 60
# The longest a worker waits between two attempts to reconnect: Celery's consumer
# (Consumer.ensure_connected) retries with kombu's backoff, 2, 4, 6 ... seconds up to
# this, and no setting changes it. After the outage above, its next attempt comes up
# to 16 seconds after Redis is back.
RECONNECT_BACKOFF_MAX_SECONDS = 30


def _rate(stack, indicator, score: int, headers: dict | None = None) -> int:
    """POST a rating through nginx as a new resident (no cookie); the HTTP status."""
    body = json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": score}).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        stack.url + API_RATINGS,
        data=body,
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _counted(indicator) -> tuple[int, int]:
    counted = Rating.objects.filter(indicator=indicator, trust=TrustState.COUNTED)
    row = counted.aggregate(n=Count("id"), s=Sum("score"))
    return row["n"], row["s"] or 0


def _stored(indicator) -> tuple[int, int] | None:
    aggregate = aggregate_of("indicator", indicator.pk)
    return (aggregate.count, aggregate.total) if aggregate else None


def _address_hash(address: str) -> str:
    return client_address_hash(RequestFactory().get("/", REMOTE_ADDR=address))


def _access_lines(log: str, request_line: str) -> list[str]:
    return [line for line in log.splitlines() if request_line in line]


def test_a_rating_through_nginx_reaches_the_stored_aggregate(stack, indicator):
    forged = "203.0.113.77"
    assert _rate(stack, indicator, 4, headers={"X-Forwarded-For": forged}) == 201

    wait_until(lambda: _stored(indicator) == (1, 4), 30, "the worker to refresh the aggregate")
    # nginx replaced the client's X-Forwarded-For with the address it saw (127.0.0.1),
    # and the app believed nginx: the stored hash is of the real address, not the forged one.
    rating = Rating.objects.get(indicator=indicator)
    assert rating.source_hash == _address_hash("127.0.0.1")
    assert rating.source_hash != _address_hash(forged)

    # Both access logs record the request, and neither the client's address nor the forged one.
    for service in ("nginx", "web"):
        lines = _access_lines(stack.log(service), "POST /api/v1/ratings/")
        assert lines, f"{service} logged no access line"
        assert not [line for line in lines if "127.0.0.1" in line or forged in line], lines


class _Load:
    """Residents rating through nginx from ``clients`` threads until the block ends."""

    def __init__(self, stack, indicator, clients: int = 2) -> None:
        self.statuses: Counter[int] = Counter()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, args=(stack, indicator, n), daemon=True)
            for n in range(clients)
        ]

    def _run(self, stack, indicator, n: int) -> None:
        for i in itertools.count():
            if self._stop.is_set():
                return
            status = _rate(stack, indicator, 1 + (n + i) % 5)
            with self._lock:
                self.statuses[status] += 1

    def __enter__(self) -> "_Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)


def test_the_worker_rides_out_a_redis_outage_under_load(stack, indicator, redis_server, redis_client):
    pids = {service: stack.pid(service) for service in ("web", "worker", "beat", "nginx")}

    # Ratings until the outage is over: a rating no longer waits for Redis after its commit,
    # so any fixed number of them can finish within the outage on a fast enough machine.
    with _Load(stack, indicator) as load:
        # What killed the worker before: losing Redis while it holds a refresh it has
        # received but not yet acknowledged (each is queued with a countdown). The load's
        # own refreshes each run within seconds and one may just have finished as Redis
        # stops, so the worker is handed one that it still holds when the outage ends.
        held = celery_app.send_task(
            "feedback.tasks.aggregates_refresh",
            args=[[f"indicator:{indicator.pk}"]],
            countdown=2 * OUTAGE_SECONDS,
        )
        wait_until(
            lambda: any(held.id.encode() in message for message in redis_client.hvals("unacked")),
            30,
            "the worker to hold an unacknowledged refresh",
        )
        redis_server.stop()
        time.sleep(OUTAGE_SECONDS)
        during_outage = load.statuses.total()
        redis_server.start()
        # The worker reconnects by itself, at its next attempt; ratings go on meanwhile.
        wait_until(
            lambda: _reconnected(stack.log("worker")),
            2 * RECONNECT_BACKOFF_MAX_SECONDS,
            "the worker to reconnect to Redis",
        )

    # Every submission was acknowledged and stored, during the outage too.
    assert set(load.statuses) == {201}, load.statuses
    assert load.statuses.total() > during_outage > 0
    assert Rating.objects.filter(indicator=indicator).count() == load.statuses[201]

    # Nothing was restarted: the same worker lost the connection while holding a
    # refresh (left in Redis for redelivery; logged when the loss is noticed, not
    # on reconnecting), reconnected, and refreshes the aggregates again, exactly.
    worker_log = stack.log("worker")
    assert "Unrecoverable error" not in worker_log
    assert {service: stack.pid(service) for service in pids} == pids
    assert {stack.state(service) for service in pids} == {"RUNNING"}
    assert "Connection to broker lost" in worker_log
    assert "unacknowledged message(s) stay in Redis" in worker_log
    wait_until(lambda: _stored(indicator) == _counted(indicator), 90, "the aggregate to be exact again")
    _quiet(redis_client)


def _reconnected(worker_log: str) -> bool:
    """The worker connected to the broker again after it last lost it."""
    _, lost, after = worker_log.rpartition("Connection to broker lost")
    return bool(lost) and "Connected to " in after


def _busy_backends() -> int:
    """Other connections to the test database running a statement or inside a transaction."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND (state = 'active' OR state LIKE %s)",
            ["idle in transaction%"],
        )
        return cursor.fetchone()[0]


def _quiet(redis_client, seconds: float = 3) -> None:
    """Wait until the stack has had nothing queued and no transaction open for ``seconds``
    (longer than a refresh's countdown): the tables are emptied after the test, and that
    TRUNCATE and a refresh still writing would deadlock."""
    polls: list[bool] = []

    def quiet() -> bool:
        polls.append(redis_client.llen("celery") == 0 and _busy_backends() == 0)
        return len(polls) > seconds / 0.2 and all(polls[-int(seconds / 0.2) :])

    wait_until(quiet, 60, "the stack to finish its work before the tables are emptied")


def _slow_body(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(
        b"POST /api/v1/ratings/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
    )
    return sock


def test_slow_bodies_never_hold_gunicorn(stack, indicator):
    for _ in range(6):  # every gunicorn process has rendered the page once
        assert stack.get("/")[0] == 200

    # Ten clients sending a body a byte a second: more than gunicorn's 2 × 4 threads.
    slow = [_slow_body(stack.port) for _ in range(10)]
    try:
        timings = []
        for _ in range(3):
            for sock in slow:
                sock.sendall(b" ")
            started = time.monotonic()
            status, _body = stack.get("/")
            timings.append(time.monotonic() - started)
            assert status == 200
            time.sleep(1)
        assert max(timings) < 1.0, timings
        # nginx still holds every one of them: not one reached the app.
        for sock in slow:
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
        assert not Rating.objects.exists()
    finally:
        for sock in slow:
            sock.close()


def test_a_crashed_worker_is_restarted(stack, indicator):
    before = stack.pid("worker")
    stack.supervisorctl("signal", "KILL", program_name("worker"))

    wait_until(
        lambda: stack.state("worker") == "RUNNING" and stack.pid("worker") != before, 30, "a new worker"
    )
    assert _rate(stack, indicator, 5) == 201
    wait_until(lambda: _stored(indicator) == (1, 5), 60, "the new worker to refresh the aggregate")


def _static(stack, path: str, accept_encoding: str) -> tuple[dict[str, str], bytes]:
    request = urllib.request.Request(stack.url + path, headers={"Accept-Encoding": accept_encoding})  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return dict(response.headers), response.read()


@pytest.mark.parametrize("name", ["vendor/chartjs/chart.umd.js", "css/site.css"])
def test_nginx_serves_static_files_brotli_or_gzip_and_keeps_them_a_year(stack, name):
    """The copies collectstatic compressed, as each browser accepts them, never Python's work."""
    path = static(name)
    on_disk = (Path(settings.STATIC_ROOT) / path.removeprefix(settings.STATIC_URL)).read_bytes()
    sizes = {}
    for accept, encoding, decode in [
        ("gzip, deflate, br, zstd", "br", brotli.decompress),  # what Chromium and Firefox send
        ("gzip, deflate", "gzip", gzip.decompress),
        ("br;q=0, gzip", "gzip", gzip.decompress),
        ("identity", None, bytes),
    ]:
        headers, body = _static(stack, path, accept)
        assert headers.get("Content-Encoding") == encoding, (accept, headers)
        assert decode(body) == on_disk, accept
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["Vary"] == "Accept-Encoding"
        assert headers["Content-Type"].split(";")[0] in ("application/javascript", "text/css")
        sizes[encoding] = len(body)
    assert sizes["br"] < sizes["gzip"] < sizes[None] / 2, sizes
    # Served by nginx from disk: gunicorn's access log has no static request.
    assert path not in stack.log("web")
