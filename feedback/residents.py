"""Who is submitting: the anonymous resident behind a signed cookie.

A resident has no account. The first submission gives the browser (or API
client) a signed cookie holding a random id; the database keeps only a keyed
hash of that id (``Resident.key_hash``), so a leaked database cannot be used
to impersonate anyone, and the raw id never leaves the resident's device.

Rate limits and anomaly detection need the client's address; only a keyed
hash of it is ever used: as a cache key, and as ``source_hash`` on ratings and
survey responses. The address itself is never written anywhere.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import salted_hmac

from feedback.addresses import client_address

COOKIE_NAME = "resident"
COOKIE_SALT = "feedback.resident.cookie"
COOKIE_MAX_AGE = timedelta(days=365)
_KEY_SALT = "feedback.resident.key"
_IP_SALT = "feedback.ratelimit.ip"


@dataclass(frozen=True)
class ResidentIdentity:
    """The cookie id of the current resident and its stored hash."""

    raw_id: str
    key_hash: str
    is_new: bool


def resident_key_hash(raw_id: str) -> str:
    """HMAC-SHA256 of the cookie id under a key derived from SECRET_KEY (64 hex chars)."""
    return salted_hmac(_KEY_SALT, raw_id, algorithm="sha256").hexdigest()


def _cookie_id(request: HttpRequest) -> str | None:
    raw = request.get_signed_cookie(
        COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=COOKIE_MAX_AGE.total_seconds()
    )
    # A forged or truncated id is treated as no id at all.
    if raw and 20 <= len(raw) <= 64:
        return raw
    return None


def resident_identity(request: HttpRequest, *, create: bool = False) -> ResidentIdentity | None:
    """The resident of this request; with ``create`` a new id when there is none.

    Memoised on the request, so a view and a template tag agree on one id.
    """
    identity: ResidentIdentity | None = getattr(request, "_resident_identity", None)
    if identity is None:
        raw = _cookie_id(request)
        if raw is not None:
            identity = ResidentIdentity(raw_id=raw, key_hash=resident_key_hash(raw), is_new=False)
        elif create:
            raw = secrets.token_urlsafe(24)
            identity = ResidentIdentity(raw_id=raw, key_hash=resident_key_hash(raw), is_new=True)
        else:
            return None
        request._resident_identity = identity  # type: ignore[attr-defined]
    return identity


def resident_cookie_set(response: HttpResponse, identity: ResidentIdentity | None) -> HttpResponse:
    """Give a new resident their cookie (HttpOnly, SameSite=Lax, Secure as configured)."""
    if identity is not None and identity.is_new:
        response.set_signed_cookie(
            COOKIE_NAME,
            identity.raw_id,
            salt=COOKIE_SALT,
            max_age=int(COOKIE_MAX_AGE.total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


def resident_cookie_delete(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(COOKIE_NAME, samesite="Lax")
    return response


def client_address_hash(request: HttpRequest) -> str:
    """A keyed hash of the client's address (32 hex chars): the rate-limit key and ``source_hash``.

    The key derives from SECRET_KEY, so the stored hash cannot be reversed by
    hashing the 2^32 IPv4 addresses without it.
    """
    return salted_hmac(_IP_SALT, client_address(request), algorithm="sha256").hexdigest()[:32]
