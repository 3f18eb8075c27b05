"""Abuse limits on submissions, per resident and per hashed client address,
and where a submission comes from.

The counters live in the shared cache (Redis in production), so every web
process counts against the same limit; one submission's counters travel in
one round trip (``feedback.cache_batch``). When Redis is down nothing is
refused or held (fail open): a resident's submission is stored rather than lost.

Two kinds of limit:

- **refusing** limits: too many submissions from one
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

import hashlib
import re
import time
import zlib
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.translation import gettext_noop

from feedback import cache_batch
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
    """Where a submission comes from: a keyed hash of the client address, why its
    submissions must be held ("" when they count as usual), and whether the
    resident's id was made in this very request (no cookie came with it), so that
    no stored resident can have it yet."""

    source_hash: str
    hold_reason: str = ""
    new_resident: bool = False

    @property
    def held(self) -> bool:
        return bool(self.hold_reason)


# --- Fixed-window counters ----------------------------------------------------------------

# django-ratelimit's rate syntax, as the settings document it: "60/h", "100/5m".
_RATE = re.compile(r"^(\d+)/(\d*)([smhd])$")
_PERIOD_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# A counter outlives its window a little, as django-ratelimit's do.
_EXPIRY_FUDGE = 5


def _rate_parse(rate: str) -> tuple[int, int]:
    """``"60/h"`` → (60, 3600)."""
    match = _RATE.match(rate.strip())
    if match is None:
        raise ImproperlyConfigured(f"Rate {rate!r} is not count/period (e.g. 60/h, 100/5m).")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _PERIOD_SECONDS[unit]


@dataclass(frozen=True)
class _Limit:
    """One counter: ``value`` (a hash, never an address) may hit ``group`` ``rate`` times a window."""

    group: str
    rate: str
    value: str

    def key_ttl_limit(self, now: int) -> tuple[str, int, int]:
        limit, period = _rate_parse(self.rate)
        # Fixed windows, each value's shifted by a stable jitter so that they do not all
        # end at once (django-ratelimit's scheme); the key names its window.
        jitter = zlib.crc32(self.value.encode()) % period
        window_end = now - (now % period) + jitter
        if window_end < now:
            window_end += period
        name = f"{self.group}|{limit}/{period}s|{self.value}|{window_end}"
        key = "rl:" + hashlib.sha256(name.encode()).hexdigest()
        return key, period + _EXPIRY_FUDGE, limit


def _scaled(rate: str, factor: int) -> str:
    count, _, period = rate.partition("/")
    return f"{int(count) * factor}/{period}"


@dataclass(frozen=True)
class SubmissionCount:
    """What counting a submission found: whether to refuse it (429), and its source."""

    limited: bool
    source: SubmissionSource


def submission_count(request: HttpRequest, *, kind: str, identity: ResidentIdentity) -> SubmissionCount:
    """Count this submission against its resident's and its address's limits and,
    for a new identity, against the new identities of its address.

    All counters go to the shared cache in one round trip (``cache_batch``). A
    refused submission does not use up its address's allowance of new
    identities: that hit is taken back. When the cache cannot count, nothing is
    refused or held (fail open: a resident's submission is stored, not lost).
    """
    rate = getattr(settings, _RATE_SETTINGS[kind])
    source_hash = client_address_hash(request)
    limits = [
        _Limit(f"feedback.{kind}.resident", rate, identity.key_hash),
        _Limit(f"feedback.{kind}.address", _scaled(rate, settings.RATE_LIMIT_PER_IP_FACTOR), source_hash),
    ]
    # Only a request without a valid resident cookie makes a new identity, so a
    # returning resident never uses up the allowance of their shared address.
    if identity.is_new:
        limits.append(_Limit("feedback.new_resident.address", settings.RATE_LIMIT_NEW_RESIDENTS, source_hash))
    now = int(time.time())
    keyed = [limit.key_ttl_limit(now) for limit in limits]
    counts = cache_batch.counters_hit([(key, ttl) for key, ttl, _limit in keyed])
    if counts is None:
        return SubmissionCount(False, SubmissionSource(source_hash, new_resident=identity.is_new))
    over = [count > limit for count, (_key, _ttl, limit) in zip(counts, keyed, strict=True)]
    if over[0] or over[1]:
        if identity.is_new:
            cache_batch.counter_undo(keyed[2][0])
        return SubmissionCount(True, SubmissionSource(source_hash, new_resident=identity.is_new))
    held = identity.is_new and over[2]
    return SubmissionCount(
        False,
        SubmissionSource(
            source_hash, hold_reason=HOLD_NEW_IDENTITIES if held else "", new_resident=identity.is_new
        ),
    )
