"""The large-text, high-contrast display (适老化) and the switch between it and the standard one.

The national special action on ageing-friendly and accessible internet
applications asks government sites for a display older readers can use: larger
type, stronger contrast and larger touch targets, with nothing left out. The
site keeps one set of pages; the mode is a class on ``<html>`` (``display-large``,
static/css/site.css does the rest), chosen by the ``portal_display`` cookie.

The page cache (``indicators.cache``) keys its entries on the same cookie, so a
page built in one mode is never served in the other; the pages stay shared by
every visitor of a mode and hold nothing personal.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET

from indicators.cache import DISPLAY_COOKIE

# The page cache keys its entries on this cookie's value being "large" (indicators.cache).
COOKIE = DISPLAY_COOKIE
LARGE = "large"
STANDARD = "standard"
MODES = (LARGE, STANDARD)
# A year: the choice is a reading aid, not something to lose with the session.
COOKIE_MAX_AGE = 365 * 24 * 60 * 60


def display_mode(request: HttpRequest) -> str:
    """``large`` when the visitor chose the large display, else ``standard`` (any other value)."""
    return LARGE if request.COOKIES.get(COOKIE) == LARGE else STANDARD


def _local_path(target: str) -> bool:
    """A path on this site: no scheme, no host (``allowed_hosts`` empty), not ``//host``."""
    return target.startswith("/") and url_has_allowed_host_and_scheme(target, allowed_hosts=None)


# A GET, and no CSRF token: the switch changes only how this browser shows the pages
# (a cookie of the visitor's own display preference), never a resident's data, so a
# link from another site can at worst make the text larger. A link works without
# JavaScript and can sit on the shared, cached pages, which hold no per-visitor token.
@require_GET
def display_set(request: HttpRequest) -> HttpResponse:
    """``/display/?mode=large|standard&next=<local path>``: remember the mode, go back to ``next``."""
    mode = request.GET.get("mode", "")
    target = request.GET.get("next") or "/"
    if mode not in MODES or not _local_path(target):
        # Only a hand-made or forged link gets here: say so, and go nowhere else.
        return render(request, "portal/display_refused.html", {"modes": MODES}, status=400)
    response = HttpResponseRedirect(target)
    if mode == LARGE:
        response.set_cookie(
            COOKIE,
            LARGE,
            max_age=COOKIE_MAX_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
        )
    else:
        response.delete_cookie(COOKIE, samesite="Lax")
    return response
