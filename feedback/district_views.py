"""``/districts/``: the map of Beijing's districts coloured by residents' satisfaction,
with a table; ``/districts/<slug>/``: one district's figures, stories and best alleys.

Thin views over ``feedback.districts``; the pages are the same for everyone and come
from the page cache, renewed by a report edit (stories, their coordinates, districts)
and by a refresh of the districts' or the survey questions' aggregates.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from feedback import districts
from feedback.caching import SURVEY_SCHEDULE
from feedback.models import AggregateScope
from indicators.cache import REPORT, REPORT_SCHEDULE, SHARED, SURVEYS, aggregate_tag, cached_page

_MAP_TAGS = (REPORT, SHARED, aggregate_tag(AggregateScope.DISTRICT))


@require_GET
@cached_page(tags=_MAP_TAGS)
def district_list(request: HttpRequest) -> HttpResponse:
    context = {
        "map": districts.district_map(),
        "min_count": settings.AGGREGATE_MIN_COUNT,
        "nav": "districts",
    }
    return render(request, "feedback/districts.html", context)


@require_GET
@cached_page(
    tags=(*_MAP_TAGS, SURVEYS, aggregate_tag(AggregateScope.QUESTION)),
    schedules=(REPORT_SCHEDULE, SURVEY_SCHEDULE),
)
def district_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = districts.district_page(slug=slug)
    context = {
        "page": page,
        "district": page.district,
        "map": districts.district_map(current=slug),
        "min_count": settings.AGGREGATE_MIN_COUNT,
        "nav": "districts",
    }
    return render(request, "feedback/district.html", context)


@require_GET
@cached_page(schedules=())
def district_boundaries(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(districts.boundaries_geojson(), content_type="application/geo+json")
    response["Content-Disposition"] = 'inline; filename="beijing-districts.geojson"'
    return response
