import re

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.static import serve

from portal import display, favicon, health, i18n

api_v1 = [
    path("", include("indicators.api_urls")),
    path("", include("feedback.api_urls")),
    path("", include("review.api_urls")),
]

# JSON under /api/, the site's page elsewhere (portal/api_errors.py).
handler404 = "portal.api_errors.page_not_found"

urlpatterns = [
    # First: the report's pages, which launch-day traffic is made of, are found before the
    # 30 other routes are tried (resolving a chapter's path: 24 µs → 15 µs, the home page's
    # 22 → 9; other paths 3 µs later). None of its routes ("", "search/", "stories/", paths
    # under a year's digits) matches another app's path.
    path("", include("indicators.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", favicon.favicon),
    path("display/", display.display_set, name="display_set"),
    path("admin/", admin.site.urls),
    # Before Django's own route of the same name: the switch without a CSRF token (portal/i18n.py).
    path("i18n/setlang/", i18n.language_set, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(api_v1)),
    path("review/", include("review.urls")),
    path("", include("review.public_urls")),
    path("", include("feedback.urls")),
]

if (settings.DEBUG or settings.EMBEDDED) and not re.match(r"^[a-z]+://", settings.MEDIA_URL):
    # The one-machine modes serve uploaded photos themselves (django.conf.urls.static
    # would only with DEBUG on); in production nginx or the object store does.
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]
