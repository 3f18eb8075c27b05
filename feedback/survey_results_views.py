"""``/survey/results/`` and ``/survey/<pk>/results/``: a thin view over ``feedback.survey_results``.

The same for everyone, from the page cache; renewed when a question's or the
survey's aggregate is refreshed, the survey is edited, or it opens or closes.
"""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from feedback.caching import SURVEY_SCHEDULE
from feedback.models import AggregateScope
from feedback.survey_results import survey_results_get
from indicators.cache import REPORT, REPORT_SCHEDULE, SHARED, SURVEYS, aggregate_tag, cached_page


@require_GET
@cached_page(
    tags=(
        REPORT,
        SHARED,
        SURVEYS,
        aggregate_tag(AggregateScope.SURVEY),
        aggregate_tag(AggregateScope.QUESTION),
    ),
    schedules=(REPORT_SCHEDULE, SURVEY_SCHEDULE),
)
def survey_results(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    results = survey_results_get(pk=pk)
    return render(request, "feedback/survey_results.html", {"results": results, "nav": "survey"})
