"""``/favicon.ico``: browsers ask for it on their own (the API docs, a photo opened alone, bookmarks)."""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

# A day: the icon's fingerprinted name changes with a deploy that changes it.
MAX_AGE = 24 * 60 * 60


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """To the icon among the static files, under its fingerprinted name (looked up per
    request: a permanent redirect would outlive the name)."""
    response = HttpResponseRedirect(static("favicon.ico"))
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response
