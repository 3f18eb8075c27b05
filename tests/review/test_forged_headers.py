"""A forged X-Forwarded-For buys neither more login attempts nor more ratings.

The attacker connects directly (gunicorn published, or any untrusted peer) and
sends a new X-Forwarded-For with every request; only a trusted proxy's hops
count (feedback/addresses.py).
"""

import pytest
from django.conf import settings
from django.test import Client, override_settings

from feedback.addresses import parse_trusted_proxies
from feedback.models import Rating
from tests.feedback.helpers import rate
from tests.review.helpers import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(world_shared):
    """The tests here only start from the world: its rows are made once for the module."""
    return world_shared


LOGIN = "/review/login/"
ATTACKER = "203.0.113.66"
NGINX = "10.0.0.2"


def forged(n: int) -> str:
    return f"198.51.{n // 256}.{n % 256}"


def test_a_new_forged_address_per_attempt_does_not_escape_the_login_lockout(world):
    client = Client(REMOTE_ADDR=ATTACKER)
    statuses = [
        client.post(
            LOGIN, {"username": "planner_a", "password": f"guess-{n}"}, HTTP_X_FORWARDED_FOR=forged(n)
        ).status_code
        for n in range(30)
    ]
    allowed = settings.AXES_FAILURE_LIMIT - 1
    assert statuses == [200] * allowed + [429] * (30 - allowed)
    # The right password, with yet another forged address, is refused too.
    right = client.post(
        LOGIN, {"username": "planner_a", "password": PASSWORD}, HTTP_X_FORWARDED_FOR=forged(99)
    )
    assert right.status_code == 429
    assert "登录已暂时锁定" in right.content.decode()
    assert "_auth_user_id" not in client.session


@override_settings(RATE_LIMIT_RATINGS="2/h", RATE_LIMIT_PER_IP_FACTOR=3)
def test_cookieless_ratings_with_new_forged_addresses_hit_the_address_limit(world):
    # A new Client per rating (a client's defaults go into every request's META):
    # no cookie, so a new resident every time, and a new forged address.
    statuses = [
        rate(Client(REMOTE_ADDR=ATTACKER, HTTP_X_FORWARDED_FOR=forged(n)), world.indicator, 1).status_code
        for n in range(10)
    ]
    assert statuses == [302] * 6 + [429] * 4
    assert Rating.objects.filter(indicator=world.indicator).count() == 6


@override_settings(
    RATE_LIMIT_RATINGS="2/h", RATE_LIMIT_PER_IP_FACTOR=3, TRUSTED_PROXIES=parse_trusted_proxies(NGINX)
)
def test_behind_the_trusted_proxy_each_real_client_has_its_own_limit(world):
    def through_nginx(real_client: str, n: int):
        # What nginx forwards: whatever the client sent, then the address it saw.
        nginx = Client(REMOTE_ADDR=NGINX, HTTP_X_FORWARDED_FOR=f"{forged(n)}, {real_client}")
        return rate(nginx, world.indicator, 2).status_code

    first = [through_nginx("192.0.2.10", n) for n in range(7)]
    assert first == [302] * 6 + [429]
    # Another resident behind the same proxy is not held back by the first one's limit.
    assert [through_nginx("192.0.2.11", n) for n in range(6)] == [302] * 6
    assert Rating.objects.filter(indicator=world.indicator).count() == 12
