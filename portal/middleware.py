"""Request-wide behaviour of the portal."""

from collections.abc import Callable

from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

from indicators import cache as page_cache


def language_chosen(request: HttpRequest) -> str:
    """The interface language: the visitor's choice in the language cookie, else Chinese."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
    return chosen if translation.check_for_language(chosen) else settings.LANGUAGE_CODE


class ChineseFirstLocaleMiddleware(LocaleMiddleware):
    """Chinese unless the visitor chose English with the site's language switch.

    Django's own middleware follows the browser's Accept-Language; a Beijing
    government site answers in Chinese first, whatever the browser says, and
    remembers an explicit choice in the language cookie.
    """

    def process_request(self, request: HttpRequest) -> None:
        translation.activate(language_chosen(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # The language comes from a cookie, never from Accept-Language (Django's own
        # middleware says "Vary: Accept-Language"): a shared cache must tell responses
        # apart by the cookie. The page cache keys on the language itself (indicators.cache).
        patch_vary_headers(response, ("Cookie",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


class CacheControlMiddleware:
    """Nothing personal in a shared cache: ``Cache-Control: private, no-store`` by default.

    The public pages and the read API declare themselves shareable
    (``indicators.cache``). Everything else — my data, the per-resident
    fragment, ``/api/v1/me/``, the review workspace, the admin — and every
    response to a POST or that sets a cookie (a resident's, a session, a CSRF
    token, a flash message) must never be kept by a CDN or proxy, nor reach the
    next visitor: such a response is ``private, no-store`` whatever a view said.
    Files (photos served by the one-machine modes) keep their own headers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        personal = response.cookies or request.method not in ("GET", "HEAD")
        unmarked = "Cache-Control" not in response and not isinstance(response, FileResponse)
        if personal or unmarked:
            response["Cache-Control"] = "private, no-store"
        return response


class PageCacheMiddleware:
    """The public pages and the read API, from the page cache (``indicators.cache``).

    For a GET of a view marked ``cached_page`` (or a ``CachedReadView``), a fresh
    entry is answered here, before the middleware below (CSRF, authentication,
    messages, clickjacking, the login lockout) and the view run; otherwise the
    request goes on and the response, as that middleware left it, is stored. It
    sits below the middleware that add the security headers, the
    Content-Security-Policy, the default Cache-Control and the language's
    ``Vary``, so a cached response gets them like any other; the language, part
    of the key, is the one ``ChineseFirstLocaleMiddleware`` chose.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = page_cache.policy_for(request) if request.method in ("GET", "HEAD") else None
        if found is None:
            return self.get_response(request)
        policy, args, kwargs = found
        language = translation.to_language(language_chosen(request))
        return page_cache.serve(request, self.get_response, policy, args, kwargs, language=language)
