"""Request-wide behaviour of the portal."""

from collections.abc import Callable

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import FileResponse, HttpRequest, HttpResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers

from indicators import cache as page_cache


def language_chosen(request: HttpRequest) -> str:
    """The interface language: the visitor's choice in the language cookie, else Chinese.

    Only a language of the site (``LANGUAGES``): Django's ``check_for_language`` accepts any it
    has a catalogue for (its own messages in ~100), and the cookie is the visitor's to write,
    so ``fr`` would answer half-French pages and store page-cache entries for them."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "").lower()
    for code, _name in settings.LANGUAGES:
        if chosen == code.lower():  # language tags are case-insensitive (zh-Hans, EN)
            return code
    return settings.LANGUAGE_CODE


class _HooksCalled:
    """``MiddlewareMixin``'s dispatch written out for a middleware whose ``process_request``
    never answers: its two hooks called directly on a sync request, without the mixin's
    checks for which hooks exist and whether the first answered (async requests go to
    the mixin's ``__acall__`` as before). Listed first among the bases."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.async_mode:
            return self.__acall__(request)
        self.process_request(request)
        return self.process_response(request, self.get_response(request))


class ChineseFirstLocaleMiddleware(_HooksCalled, LocaleMiddleware):
    """Chinese unless the visitor chose English with the site's language switch.

    Django's own middleware follows the browser's Accept-Language; a Beijing
    government site answers in Chinese first, whatever the browser says, and
    remembers an explicit choice in the language cookie.
    """

    def process_request(self, request: HttpRequest) -> None:
        chosen = language_chosen(request)
        translation.activate(chosen)
        # What translation.get_language() now says (the activated catalogue's code), without
        # reading the active language back from the thread's state (without i18n: the setting).
        request.LANGUAGE_CODE = (
            translation.to_language(chosen) if settings.USE_I18N else translation.get_language()
        )

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        # The language comes from a cookie, never from Accept-Language (Django's own
        # middleware says "Vary: Accept-Language"): a shared cache must tell responses
        # apart by the cookie. The page cache keys on the language itself (indicators.cache).
        if "Vary" in response:
            patch_vary_headers(response, ("Cookie",))
        else:
            response.headers["Vary"] = "Cookie"  # patch_vary_headers' result when there is none
        if "Content-Language" not in response:
            response.headers["Content-Language"] = translation.get_language()
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
        # ChineseFirstLocaleMiddleware, above, decided it (from the language cookie).
        language = getattr(request, "LANGUAGE_CODE", None) or translation.to_language(
            language_chosen(request)
        )
        return page_cache.serve(request, self.get_response, policy, args, kwargs, language=language)


# The Content-Security-Policy and report-only headers of a response no view customised
# and whose page used no nonce, with the path prefixes each excludes: they depend on the
# settings alone.
_settings_policy: dict[bool, tuple[str, tuple[str, ...]]] = {}
# What django-csp's decorators (csp_update, csp_replace, csp ...) leave on a response.
_CUSTOMISED = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
_HEADERS = (
    (HEADER, False, "_csp_exempt"),
    (HEADER_REPORT_ONLY, True, "_csp_exempt_ro"),
)


@receiver(setting_changed)
def _settings_policy_forget(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _settings_policy.clear()


def _policy_from_settings(report_only: bool) -> tuple[str, tuple[str, ...]]:
    """The settings' policy (report-only or not) and the path prefixes it is not sent under."""
    if report_only not in _settings_policy:
        setting = "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY"
        excluded = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
        _settings_policy[report_only] = (build_policy(report_only=report_only), tuple(excluded))
    return _settings_policy[report_only]


class ContentSecurityPolicyMiddleware(_HooksCalled, CSPMiddleware):
    """django-csp's middleware, building the settings' policy once per process.

    django-csp builds the headers from the settings on every response, both the
    policy and the report-only one: a sixth of the work of a page served from the
    page cache. A response whose view customised the policy (``csp_update`` and the
    other decorators) or whose page used a nonce gets them built by django-csp.
    """

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        customised = any(getattr(response, name, None) is not None for name in _CUSTOMISED)
        debug_page = settings.DEBUG and response.status_code in (404, 500)
        if customised or debug_page or getattr(request, "_csp_nonce", None) is not None:
            return super().process_response(request, response)
        for header, report_only, exempt in _HEADERS:
            policy, excluded = _policy_from_settings(report_only)
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(excluded)
            ):
                response[header] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        # The object holds nothing of the request (it never evaluates): one serves them all.
        request.csp_nonce = _NONCE_AFTER_RESPONSE
        return response


_NONCE_AFTER_RESPONSE = CheckableLazyObject(ContentSecurityPolicyMiddleware._csp_nonce_post_response)
