"""The one pipeline every resident submission goes through, HTML or API.

Before a submission is validated, in this order:

1. **size** — a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused (413)
   before anything parses it;
2. **cross-site** — a request that carries a resident's cookie must prove it
   comes from this site. A browser says where a request comes from in
   ``Origin`` (else ``Referer``), and a page on another site cannot forge
   either: this site's own origin (or one in ``CSRF_TRUSTED_ORIGINS``)
   passes, any other is refused. Without either header (a client outside a
   browser) Django's CSRF token is required: the ``csrftoken`` cookie's value
   echoed in ``X-CSRFToken`` or the form field. This is the whole check for
   the resident views (HTML and API), which are exempt from
   ``CsrfViewMiddleware``: their pages then need no per-visitor token and can
   be served from a shared cache. The resident cookie is also
   ``SameSite=Lax``, so browsers do not send it with a cross-site POST at
   all. A request without the resident cookie (a new resident, an
   integrator) cannot act for anybody and passes;
3. **identity** — the resident of the cookie, or a new one;
4. **limits** — per resident and per client address (429);
5. **source** — a keyed hash of the client address, and whether the
   submission is held: a new identity beyond ``RATE_LIMIT_NEW_RESIDENTS`` on
   its address is stored and acknowledged as usual but not counted
   (``feedback.limits``). Computed once per request; views pass it to the
   services as ``source=submission_source_get(request)``.

A refusal is a :class:`SubmissionRefused`: DRF renders it as a JSON error,
the HTML decorator as a page; both give a new resident their cookie.
"""

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import status
from rest_framework.exceptions import APIException

from feedback.limits import SubmissionSource, submission_count
from feedback.residents import COOKIE_NAME, ResidentIdentity, resident_cookie_set, resident_identity


class SubmissionRefused(APIException):
    """A submission stopped before validation; nothing was stored."""

    template = "feedback/refused.html"


class PayloadTooLarge(SubmissionRefused):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = _("提交的内容过大。")
    default_code = "payload_too_large"
    template = "feedback/too_large.html"


class CrossSiteRefused(SubmissionRefused):
    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _(
        "跨站请求被拒绝：带有市民 Cookie 的提交须来自本站页面，"
        "或在 X-CSRFToken 请求头中附上 csrftoken Cookie 的值。"
    )
    default_code = "cross_site"


class TooManySubmissions(SubmissionRefused):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("提交过于频繁，请稍后再试。")
    default_code = "throttled"
    template = "feedback/rate_limited.html"


def body_too_large(request: HttpRequest) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE


class _CsrfCheck(CsrfViewMiddleware):
    """Django's own CSRF check, answering the reason instead of a 403 page (as DRF does)."""

    def _reject(self, request: HttpRequest, reason: str) -> str:
        return reason


def _origin_of(request: HttpRequest) -> str | None:
    """Where the browser says the request comes from: Origin, else the Referer's origin."""
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin
    referer = request.META.get("HTTP_REFERER")
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


def from_this_site(request: HttpRequest) -> bool | None:
    """Whether the browser says the request comes from this site (or an origin in
    ``CSRF_TRUSTED_ORIGINS``); None when it says nothing (neither Origin nor Referer)."""
    origin = _origin_of(request)
    if origin is None:
        return None
    return origin in (f"{request.scheme}://{request.get_host()}", *settings.CSRF_TRUSTED_ORIGINS)


def cross_site_check(request: HttpRequest) -> None:
    """Refuse an unsafe request that carries the resident cookie and does not come from this site."""
    if request.method in ("GET", "HEAD", "OPTIONS", "TRACE") or COOKIE_NAME not in request.COOKIES:
        return
    same_site = from_this_site(request)
    if same_site is not None:
        if not same_site:
            raise CrossSiteRefused
        return
    check = _CsrfCheck(lambda _request: HttpResponse())
    check.process_request(request)
    if check.process_view(request, None, (), {}) is not None:
        raise CrossSiteRefused


def submission_open(request: HttpRequest, *, kind: str | None) -> ResidentIdentity | None:
    """Steps 1–5 above; ``kind`` names the limit (``None``: not a new submission, no limit)."""
    if body_too_large(request):
        raise PayloadTooLarge
    cross_site_check(request)
    if kind is None:
        return resident_identity(request)
    identity = resident_identity(request, create=True)
    # Steps 4 and 5 count in one round trip to the shared cache.
    counted = submission_count(request, kind=kind, identity=identity)
    if counted.limited:
        raise TooManySubmissions
    request._submission_source = counted.source  # type: ignore[attr-defined]
    return identity


def submission_source_get(request: HttpRequest) -> SubmissionSource | None:
    """The source ``submission_open`` found for this request (None before it ran)."""
    return getattr(request, "_submission_source", None)


def submission_close(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Give a resident who is new in this request their cookie."""
    return resident_cookie_set(response, getattr(request, "_resident_identity", None))


def submission(kind: str | None, *, back: Callable[..., str] | None = None):
    """Decorator of an HTML view: POSTs pass the pipeline; a refusal renders its page.

    ``back(request, *args, **kwargs)`` gives the page the refusal links back to.
    The view finds the resident in ``resident_identity(request)``.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method != "POST":
                return view(request, *args, **kwargs)
            try:
                submission_open(request, kind=kind)
            except SubmissionRefused as refusal:
                back_url = back(request, *args, **kwargs) if back else request.path
                response = render(
                    request,
                    refusal.template,
                    {"back_url": back_url, "message": refusal.detail},
                    status=refusal.status_code,
                )
            else:
                response = view(request, *args, **kwargs)
            return submission_close(request, response)

        # The cross-site check above replaces CsrfViewMiddleware's for these views.
        return csrf_exempt(wrapper)

    return decorator
