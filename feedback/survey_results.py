"""``/survey/results/``: the satisfaction survey's results by dimension and question, and by district.

Everything comes from the stored aggregates (``selectors.survey_aggregate_payload``:
the survey's and each question's ``ScoreSummary``, computed by
``feedback.aggregation``), so the counts, means and intervals are the API's and the
withholding is the same: below ``AGGREGATE_MIN_COUNT`` raters a mean, its interval
and its distribution are not shown, overall or in a district (``_breakdown_public``
also withholds a district whose figure, subtracted from the total, would give a
small group away). This module only arranges those figures for the page.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.http import Http404

from feedback import selectors
from feedback.models import Survey
from indicators.models import District

# The interval strip of a row: the 1–5 scale drawn over this many SVG units, with a margin.
STRIP_WIDTH = 200
STRIP_MARGIN = 8


def strip_x(score: Decimal | float) -> float:
    """Where a score (1–5) sits on the interval strip."""
    return round(STRIP_MARGIN + (float(score) - 1) / 4 * (STRIP_WIDTH - 2 * STRIP_MARGIN), 1)


@dataclass(frozen=True)
class QuestionResult:
    number: int
    dimension: str
    text: str
    summary: selectors.ScoreSummary

    @property
    def strip(self) -> dict | None:
        """The mean and its interval on the strip; None while withheld."""
        s = self.summary
        if s.mean is None or s.ci_low is None:
            return None
        return {"mean": strip_x(s.mean), "low": strip_x(s.ci_low), "high": strip_x(s.ci_high)}


@dataclass(frozen=True)
class DistrictCell:
    count: int
    mean: Decimal | None


@dataclass(frozen=True)
class DistrictRow:
    district: District
    cells: list[DistrictCell]

    @property
    def shown(self) -> int:
        return sum(cell.mean is not None for cell in self.cells)


@dataclass(frozen=True)
class SurveyResults:
    survey: Survey
    summary: selectors.ScoreSummary
    questions: list[QuestionResult]
    districts: list[DistrictRow]
    min_count: int

    @property
    def ticks(self) -> list[tuple[int, float]]:
        return [(score, strip_x(score)) for score in range(1, 6)]


def _cell(entry: dict | None) -> DistrictCell:
    if entry is None:
        return DistrictCell(count=0, mean=None)
    mean = entry.get("mean")
    return DistrictCell(
        count=entry["count"], mean=None if mean is None else Decimal(str(mean)).quantize(Decimal("0.001"))
    )


def _district_rows(questions: list[QuestionResult]) -> list[DistrictRow]:
    """Each district that answered, with each question's figure among its residents."""
    rows = []
    for district in selectors.district_list():
        key = str(district.pk)
        cells = [_cell(q.summary.by_district.get(key)) for q in questions]
        if any(cell.count for cell in cells):
            rows.append(DistrictRow(district=district, cells=cells))
    return rows


def survey_results_get(*, pk: int | None = None) -> SurveyResults:
    """The current survey's results (or survey ``pk``'s, if public); 404 when there is none (5 queries)."""
    survey = selectors.survey_current() if pk is None else selectors.survey_public_get(pk=pk)
    if survey is None:
        raise Http404("No such survey")
    payload = selectors.survey_aggregate_payload(survey)
    questions = [
        QuestionResult(number=n, dimension=q["dimension"], text=q["text"], summary=q["score"])
        for n, q in enumerate(payload["questions"], start=1)
    ]
    return SurveyResults(
        survey=survey,
        summary=payload["score"],
        questions=questions,
        districts=_district_rows(questions),
        min_count=payload["score"].min_count,
    )
