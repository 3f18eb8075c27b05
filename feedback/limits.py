"""Abuse limits on submissions, per resident and per hashed client address.

The counters live in the shared cache (Redis in production), so every web
process counts against the same limit. When Redis is down the cache degrades
(``IGNORE_EXCEPTIONS``) and django-ratelimit fails open
(``RATELIMIT_FAIL_OPEN``): a resident's submission is stored rather than lost.
"""

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from feedback.residents import client_address_hash

_RATE_SETTINGS = {
    "rating": "RATE_LIMIT_RATINGS",
    "comment": "RATE_LIMIT_COMMENTS",
    "survey": "RATE_LIMIT_SURVEY",
}


def _scaled(rate: str, factor: int) -> str:
    count, _, period = rate.partition("/")
    return f"{int(count) * factor}/{period}"


def submission_limited(request: HttpRequest, *, kind: str, resident_key_hash: str) -> bool:
    """Count this submission; True when the resident or the address is over its limit."""
    rate = getattr(settings, _RATE_SETTINGS[kind])
    checks = (
        (f"feedback.{kind}.resident", rate, resident_key_hash),
        (
            f"feedback.{kind}.address",
            _scaled(rate, settings.RATE_LIMIT_PER_IP_FACTOR),
            client_address_hash(request),
        ),
    )
    limited = False
    for group, group_rate, value in checks:
        usage = get_usage(
            request,
            group=group,
            key=lambda _group, _request, value=value: value,
            rate=group_rate,
            increment=True,
        )
        # ``None`` means the cache could not count (fail open).
        if usage is not None and usage["should_limit"]:
            limited = True
    return limited
