"""The language switch, without a per-visitor CSRF token.

Every public page carries the switch, and those pages are shared by every
visitor (``indicators.cache``), so its form holds no CSRF token. A browser says
where a POST comes from in ``Origin`` (else ``Referer``) and a page on another
site cannot forge either, so a switch posted from elsewhere is refused (403);
one without either header comes from outside a browser, where there is no one
to trick. This is the check ``feedback.pipeline`` makes for residents'
submissions. Django's own view does the rest (the cookie, the way back).
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from django.views.i18n import set_language


def _origin_of(request: HttpRequest) -> str | None:
    origin = request.META.get("HTTP_ORIGIN")
    if origin is not None:
        return origin
    referer = request.META.get("HTTP_REFERER")
    if not referer:
        return None
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "null"


@csrf_exempt
@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    origin = _origin_of(request)
    if origin is not None and origin not in (
        f"{request.scheme}://{request.get_host()}",
        *settings.CSRF_TRUSTED_ORIGINS,
    ):
        return HttpResponseForbidden()
    return set_language(request)
