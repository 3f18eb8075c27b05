"""``/api/v1/``: the report's read API, the OpenAPI schema and its docs.

The docs pages load Swagger UI and ReDoc from our own static files
(drf-spectacular-sidecar), never from a CDN.
"""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from indicators import api

app_name = "report_api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="report_api:schema"), name="docs"),
    path(
        "redoc/",
        # The stock page pulls web fonts from Google; ours loads nothing from outside.
        SpectacularRedocView.as_view(url_name="report_api:schema", template_name="indicators/api/redoc.html"),
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
