"""``/open-data/``: the downloads page, each table in each format, and ``datapackage.json``.

Thin: the tables and their writers are ``feedback.open_data``. Every response is
the same for every visitor and comes from the page cache; the tags are those of
what a table shows, so a staff edit (``report``), an aggregate refresh
(``agg:<scope>``) or a survey change renews exactly the files it touches.
"""

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from feedback import open_data
from feedback.caching import SURVEY_SCHEDULE
from feedback.models import AggregateScope
from indicators.cache import REPORT, REPORT_SCHEDULE, SURVEYS, aggregate_tag, cached_page

_SCORE_TAGS = (REPORT, SURVEYS, *(aggregate_tag(scope) for scope in AggregateScope.values))


def _file_tags(request: HttpRequest, *, name: str, fmt: str) -> tuple[str, ...]:
    return _SCORE_TAGS if name == open_data.SCORES.name else (REPORT,)


def _absolute(request: HttpRequest):
    return request.build_absolute_uri


@require_GET
@cached_page(tags=(REPORT,), schedules=())
def open_data_page(request: HttpRequest) -> HttpResponse:
    context = {
        "tables": list(open_data.TABLES.values()),
        "formats": open_data.FORMATS,
        "license": open_data.LICENSE,
        "attribution": open_data.ATTRIBUTION,
        "nav": "open_data",
    }
    return render(request, "feedback/open_data.html", context)


@require_GET
@cached_page(tags=_file_tags, schedules=(REPORT_SCHEDULE, SURVEY_SCHEDULE))
def open_data_file(request: HttpRequest, name: str, fmt: str) -> HttpResponse:
    table = open_data.TABLES.get(name)
    if table is None or fmt not in open_data.FORMATS:
        raise Http404
    body = open_data.WRITERS[fmt](table, _absolute(request))
    response = HttpResponse(body, content_type=open_data.CONTENT_TYPES[fmt])
    disposition = "inline" if fmt == "json" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}.{fmt}"'
    return response


@require_GET
@cached_page(schedules=())
def open_data_package(request: HttpRequest) -> JsonResponse:
    descriptor = open_data.datapackage(home=request.build_absolute_uri(reverse("feedback:open_data")))
    return JsonResponse(descriptor, json_dumps_params={"ensure_ascii": False, "indent": 1})
