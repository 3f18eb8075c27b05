"""The read API of the published report (``/api/v1/``).

Lists are paginated (``?page=``) and filterable; details are looked up by the
identifiers the site uses: ``/editions/<year>/``, ``/chapters/<year>/<slug>/``,
``/indicators/<year>/<code>/``, ``/stories/<year>/<slug>/``,
``/districts/<slug>/``. Only published content of a published edition is
served; a draft, a scheduled item or an unknown key is a 404. Each view
runs a fixed number of queries whatever the size of the report, and its JSON
comes from the page cache while the report has not changed
(``indicators.cache.CachedReadView``; a text search ``q`` is built each time).
"""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from indicators import selectors
from indicators.cache import CachedReadView, edition_tags
from indicators.filters import ChapterFilterSet, IndicatorFilterSet, StoryFilterSet
from indicators.models import Chapter, District, Edition, Indicator, Story
from indicators.serializers import (
    ChapterSerializer,
    DistrictSerializer,
    EditionSerializer,
    IndicatorSerializer,
    StorySerializer,
)

TAG = "report"


class _YearKeyedDetail(CachedReadView, generics.RetrieveAPIView):
    """A detail found by the edition year and one more key from the URL."""

    key_field = "slug"

    @classmethod
    def page_tags(cls, request, *args, **kwargs):
        return edition_tags(request, **kwargs)

    def get_object(self):
        key = self.kwargs[self.key_field]
        obj = get_object_or_404(
            self.get_queryset(), edition__year=self.kwargs["year"], **{self.key_field: key}
        )
        self.check_object_permissions(self.request, obj)
        return obj


# --- Editions -----------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="List published editions",
        description="The published yearly reports, newest first.",
    )
)
class EditionListView(CachedReadView, generics.ListAPIView):
    # Each view's ``name``: its page's title in the browsable API (DRF's ``get_view_name``),
    # in the page's language; DRF would make an English one of the class's name.
    name = gettext_lazy("各年度报告")

    serializer_class = EditionSerializer
    page_params = ("page",)

    def get_queryset(self) -> QuerySet[Edition]:
        return selectors.edition_list_published_with_chapters()


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="One edition", description="A published edition by its year, with its chapters."
    )
)
class EditionDetailView(CachedReadView, generics.RetrieveAPIView):
    name = gettext_lazy("年度报告详情")

    serializer_class = EditionSerializer
    lookup_field = "year"

    @classmethod
    def page_tags(cls, request, *args, **kwargs):
        return edition_tags(request, **kwargs)

    def get_queryset(self) -> QuerySet[Edition]:
        return selectors.edition_list_published_with_chapters()


# --- Chapters ------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="List chapters",
        description="The chapters of published editions with their sections; filter by `edition` year.",
    )
)
class ChapterListView(CachedReadView, generics.ListAPIView):
    name = gettext_lazy("章节")

    serializer_class = ChapterSerializer
    filterset_class = ChapterFilterSet
    page_params = ("page", "edition")

    def get_queryset(self) -> QuerySet[Chapter]:
        return selectors.chapter_list_published()


@extend_schema_view(
    get=extend_schema(tags=[TAG], summary="One chapter", description="A chapter by edition year and slug.")
)
class ChapterDetailView(_YearKeyedDetail):
    name = gettext_lazy("章节详情")

    serializer_class = ChapterSerializer
    key_field = "slug"

    def get_queryset(self) -> QuerySet[Chapter]:
        return selectors.chapter_list_published()


# --- Indicators ---------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="List indicators",
        description=(
            "Published indicators with their values (qualifier and unit), comparison, direction and "
            "source sentence. Filter by `edition` year, `chapter` (number or slug), `headline`, and "
            "`q` (substring of the name, English name or source sentence; Chinese works: `q=公园`)."
        ),
    )
)
class IndicatorListView(CachedReadView, generics.ListAPIView):
    name = gettext_lazy("指标列表")

    serializer_class = IndicatorSerializer
    filterset_class = IndicatorFilterSet
    page_params = ("page", "edition", "chapter", "headline")

    def get_queryset(self) -> QuerySet[Indicator]:
        return selectors.indicator_list_published_newest_first()

    def paginate_queryset(self, queryset: QuerySet[Indicator]) -> list[Indicator] | None:
        """The page's indicators, read as rows of the columns the list shows and made from
        them, then given the values of that page's rows in one query
        (``selectors.indicators_from_list_rows``)."""
        rows = super().paginate_queryset(queryset.prefetch_related(None).values_list(*selectors.LIST_COLUMNS))
        return None if rows is None else selectors.indicators_from_list_rows(rows)


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="One indicator", description="A published indicator by edition year and code."
    )
)
class IndicatorDetailView(_YearKeyedDetail):
    name = gettext_lazy("指标详情")

    serializer_class = IndicatorSerializer
    key_field = "code"

    def get_queryset(self) -> QuerySet[Indicator]:
        return selectors.indicator_list_published()


# --- Stories ----------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG],
        summary="List stories",
        description=(
            "Published highlights (best alleys, parks, 12345 hotline themes …) with photos and credits. "
            "Filter by `edition` year, `kind`, `district` slug and `q` (substring of title or text)."
        ),
    )
)
class StoryListView(CachedReadView, generics.ListAPIView):
    name = gettext_lazy("亮点故事")

    serializer_class = StorySerializer
    filterset_class = StoryFilterSet
    page_params = ("page", "edition", "kind", "district")

    def get_queryset(self) -> QuerySet[Story]:
        return selectors.story_list_published_with_photos()


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="One story", description="A published story by edition year and slug."
    )
)
class StoryDetailView(_YearKeyedDetail):
    name = gettext_lazy("亮点故事详情")

    serializer_class = StorySerializer
    key_field = "slug"

    def get_queryset(self) -> QuerySet[Story]:
        return selectors.story_list_published_with_photos()


# --- Districts -----------------------------------------------------------------------------------------


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="List districts", description="Beijing's districts with their streets."
    )
)
class DistrictListView(CachedReadView, generics.ListAPIView):
    name = gettext_lazy("各区")

    serializer_class = DistrictSerializer
    page_params = ("page",)

    def get_queryset(self) -> QuerySet[District]:
        return selectors.district_list_with_streets()


@extend_schema_view(
    get=extend_schema(
        tags=[TAG], summary="One district", description="A district by its slug, with its streets."
    )
)
class DistrictDetailView(CachedReadView, generics.RetrieveAPIView):
    name = gettext_lazy("区详情")

    serializer_class = DistrictSerializer
    lookup_field = "slug"

    def get_queryset(self) -> QuerySet[District]:
        return selectors.district_list_with_streets()


# --- The root --------------------------------------------------------------------------------

# What ``/api/v1/`` points to: the schema and its two readers, then the report's lists.
# The submission and review endpoints are in the schema, which is the whole index.
ROOT_LINKS = {
    "schema": "report_api:schema",
    "docs": "report_api:docs",
    "redoc": "report_api:redoc",
    "editions": "report_api:edition-list",
    "chapters": "report_api:chapter-list",
    "indicators": "report_api:indicator-list",
    "stories": "report_api:story-list",
    "districts": "report_api:district-list",
}


@extend_schema(
    tags=[TAG],
    summary="The API's root",
    description=(
        "Where to start: the OpenAPI schema (every endpoint, the submissions' included), its "
        "Swagger UI and ReDoc pages, and the lists of the published report."
    ),
    responses=inline_serializer("ApiRoot", {name: serializers.URLField() for name in ROOT_LINKS}),
)
class ApiRootView(APIView):
    name = gettext_lazy("接口目录")

    def get(self, request: Request) -> Response:
        return Response({name: reverse(route, request=request) for name, route in ROOT_LINKS.items()})
