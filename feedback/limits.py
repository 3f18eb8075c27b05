"""Abuse limits on submissions, per resident and per hashed client address,
and where a submission comes from.

The counters live in the shared cache (Redis in production), so every web
process counts against the same limit. When Redis is down the cache degrades
(``IGNORE_EXCEPTIONS``) and django-ratelimit fails open
(``RATELIMIT_FAIL_OPEN``): a resident's submission is stored rather than lost.

Two kinds of limit:

- **refusing** limits (``submission_limited``): too many submissions from one
  resident or one address answer 429, nothing stored;
- the **holding** limit on new identities per address
  (``RATE_LIMIT_NEW_RESIDENTS``): dropping the cookie before each rating makes
  a new anonymous resident, so one address could become a crowd. Beyond the
  limit the submission is still stored and acknowledged exactly as usual, but
  *held* out of every public figure until a person decides
  (``feedback.trust``). It is never refused, because many honest phones share
  one address behind carrier-grade NAT; and the resident cannot tell, so a
  stuffer learns nothing from the answer.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_noop
from django_ratelimit.core import get_usage

from feedback.residents import ResidentIdentity, client_address_hash

_RATE_SETTINGS = {
    "rating": "RATE_LIMIT_RATINGS",
    "comment": "RATE_LIMIT_COMMENTS",
    "survey": "RATE_LIMIT_SURVEY",
    "verification": "RATE_LIMIT_VERIFICATION",
}

# Stored in Chinese whatever the visitor's language (staff read the record);
# translated when shown.
HOLD_NEW_IDENTITIES = gettext_noop("同一网络新身份过多")


@dataclass(frozen=True)
class SubmissionSource:
    """Where a submission comes from: a keyed hash of the client address, and
    why its submissions must be held ("" when they count as usual)."""

    source_hash: str
    hold_reason: str = ""

    @property
    def held(self) -> bool:
        return bool(self.hold_reason)


def _scaled(rate: str, factor: int) -> str:
    count, _, period = rate.partition("/")
    return f"{int(count) * factor}/{period}"


def _over(request: HttpRequest, *, group: str, rate: str, value: str) -> bool:
    """Count one hit of ``value`` in ``group``; True when it is over ``rate``."""
    usage = get_usage(
        request,
        group=group,
        key=lambda _group, _request: value,
        rate=rate,
        increment=True,
    )
    # ``None`` means the cache could not count (fail open).
    return usage is not None and usage["should_limit"]


def submission_limited(request: HttpRequest, *, kind: str, resident_key_hash: str) -> bool:
    """Count this submission; True when the resident or the address is over its limit."""
    rate = getattr(settings, _RATE_SETTINGS[kind])
    resident_over = _over(request, group=f"feedback.{kind}.resident", rate=rate, value=resident_key_hash)
    address_over = _over(
        request,
        group=f"feedback.{kind}.address",
        rate=_scaled(rate, settings.RATE_LIMIT_PER_IP_FACTOR),
        value=client_address_hash(request),
    )
    return resident_over or address_over


def submission_source(request: HttpRequest, *, identity: ResidentIdentity) -> SubmissionSource:
    """The source of this submission; a new identity counts against its address.

    Only a request without a valid resident cookie makes a new identity, so a
    returning resident never uses up the allowance of their shared address.
    """
    source_hash = client_address_hash(request)
    if identity.is_new and _over(
        request,
        group="feedback.new_resident.address",
        rate=settings.RATE_LIMIT_NEW_RESIDENTS,
        value=source_hash,
    ):
        return SubmissionSource(source_hash=source_hash, hold_reason=HOLD_NEW_IDENTITIES)
    return SubmissionSource(source_hash=source_hash)
