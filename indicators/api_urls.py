"""``/api/v1/``: its root, the report's read API, the OpenAPI schema and its docs.

The docs pages load Swagger UI and ReDoc from our own static files
(drf-spectacular-sidecar), never from a CDN.
"""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from indicators import api

app_name = "report_api"

urlpatterns = [
    path("", api.ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # Split: the init script is fetched from "docs/?script", so the page has no inline script.
        SpectacularSwaggerSplitView.as_view(
            url_name="report_api:schema", template_name="indicators/api/swagger_ui.html"
        ),
        name="docs",
    ),
    path(
        "redoc/",
        # The stock page pulls web fonts from Google; ours loads nothing from outside.
        # ReDoc's search index runs in a worker it builds from a blob: URL.
        csp_update({"worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(
                url_name="report_api:schema", template_name="indicators/api/redoc.html"
            )
        ),
        name="redoc",
    ),
    path("editions/", api.EditionListView.as_view(), name="edition-list"),
    path("editions/<int:year>/", api.EditionDetailView.as_view(), name="edition-detail"),
    path("chapters/", api.ChapterListView.as_view(), name="chapter-list"),
    path("chapters/<int:year>/<slug:slug>/", api.ChapterDetailView.as_view(), name="chapter-detail"),
    path("indicators/", api.IndicatorListView.as_view(), name="indicator-list"),
    path("indicators/<int:year>/<slug:code>/", api.IndicatorDetailView.as_view(), name="indicator-detail"),
    path("stories/", api.StoryListView.as_view(), name="story-list"),
    path("stories/<int:year>/<slug:slug>/", api.StoryDetailView.as_view(), name="story-detail"),
    path("districts/", api.DistrictListView.as_view(), name="district-list"),
    path("districts/<slug:slug>/", api.DistrictDetailView.as_view(), name="district-detail"),
]
