"""Public accountability (办理情况): the hotline's three figures, applied to the portal.

For each of the 16 districts and the city-level queue, over a chosen run of
months, by the month the feedback was received:

- 受理数: cases received;
- 响应率: cases whose first answer to the author (reply or closing note) came
  within the time limit (``ReviewCase.due_at``), of the cases answered or past
  their due time (a case still inside its time limit is not yet judged);
- 解决率: cases closed as solved, of the cases closed;
- 满意率: replies their author rated 满意 or 基本满意, of the rated replies;
- median time to first answer, over the answered cases.

Each rate carries its count, and is withheld below ``AGGREGATE_MIN_COUNT``
(like the scores: one resident's verdict must not be readable). The figures
are stored per queue and month (``AccountabilityFigure``) by
``accountability_refresh`` (Celery, queued after each answer and periodically);
the page and the API read only those rows.
"""

import statistics
from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.db.models import Count, ExpressionWrapper, F, Q
from django.db.models.fields import DurationField
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.models import ReplyVerdict
from indicators.models import District
from review.models import AccountabilityFigure, CaseResolution, CaseStatus, ReviewCase

CITY_LABEL = _("市级队列")
COUNTED = ("received", "response_base", "responded_in_time", "closed", "solved", "rated", "satisfied")


def _local_month(value: datetime | date) -> date:
    # PostgreSQL truncates in the current time zone and returns an aware datetime.
    return timezone.localtime(value).date() if isinstance(value, datetime) else value


@transaction.atomic
def accountability_refresh() -> int:
    """Recompute every stored figure from the cases (idempotent); returns the rows written."""
    now = timezone.now()
    answered_in_time = Q(first_reply_at__isnull=False, first_reply_at__lte=F("due_at"))
    judged = Q(first_reply_at__isnull=False) | Q(due_at__lt=now)
    satisfied = [ReplyVerdict.SATISFIED, ReplyVerdict.FAIRLY]
    grouped = (
        ReviewCase.objects.order_by()
        .annotate(month=TruncMonth("received_at"))
        .values("district_id", "month")
        .annotate(
            received=Count("id"),
            response_base=Count("id", filter=judged),
            responded_in_time=Count("id", filter=answered_in_time),
            closed=Count("id", filter=Q(status=CaseStatus.CLOSED)),
            solved=Count("id", filter=Q(status=CaseStatus.CLOSED, resolution=CaseResolution.SOLVED)),
            rated=Count("id", filter=Q(reply__resident_rating__isnull=False)),
            satisfied=Count("id", filter=Q(reply__resident_rating__verdict__in=satisfied)),
        )
    )
    rows: dict[tuple[int | None, date], AccountabilityFigure] = {}
    for entry in grouped:
        month = _local_month(entry["month"])
        rows[(entry["district_id"], month)] = AccountabilityFigure(
            district_id=entry["district_id"], month=month, **{name: entry[name] for name in COUNTED}
        )
    durations = (
        ReviewCase.objects.order_by()
        .filter(first_reply_at__isnull=False)
        .annotate(
            month=TruncMonth("received_at"),
            took=ExpressionWrapper(F("first_reply_at") - F("received_at"), output_field=DurationField()),
        )
        .values_list("district_id", "month", "took")
    )
    for district_id, month, took in durations.iterator():
        month = _local_month(month)
        rows[(district_id, month)].reply_hours.append(round(max(took.total_seconds(), 0) / 3600, 2))
    AccountabilityFigure.objects.all().delete()
    AccountabilityFigure.objects.bulk_create(rows.values())
    return len(rows)


@dataclass(frozen=True)
class Rate:
    """A share with its count; ``percent`` is None below the minimum."""

    count: int
    base: int
    percent: float | None


@dataclass(frozen=True)
class QueueFigures:
    district: District | None
    received: int
    response: Rate
    resolution: Rate
    satisfaction: Rate
    replied: int
    median_hours: float | None

    @property
    def label(self) -> str:
        return self.district.display_name if self.district else str(CITY_LABEL)


def _rate(count: int, base: int, minimum: int) -> Rate:
    enough = base >= minimum
    return Rate(count=count, base=base, percent=round(100 * count / base, 1) if enough and base else None)


def month_first(day: date) -> date:
    return day.replace(day=1)


def accountability_table(*, start: date, end: date) -> list[QueueFigures]:
    """The 16 districts and the city queue over the months ``start``..``end`` (two queries)."""
    minimum = settings.AGGREGATE_MIN_COUNT
    figures = AccountabilityFigure.objects.filter(month__gte=month_first(start), month__lte=month_first(end))
    sums: dict[int | None, dict] = {}
    for row in figures:
        entry = sums.setdefault(row.district_id, dict.fromkeys(COUNTED, 0) | {"hours": []})
        for name in COUNTED:
            entry[name] += getattr(row, name)
        entry["hours"].extend(row.reply_hours)
    queues: list[District | None] = [*District.objects.order_by("order", "name"), None]
    table = []
    for district in queues:
        entry = sums.get(district.pk if district else None) or (dict.fromkeys(COUNTED, 0) | {"hours": []})
        hours = entry["hours"]
        table.append(
            QueueFigures(
                district=district,
                received=entry["received"],
                response=_rate(entry["responded_in_time"], entry["response_base"], minimum),
                resolution=_rate(entry["solved"], entry["closed"], minimum),
                satisfaction=_rate(entry["satisfied"], entry["rated"], minimum),
                replied=len(hours),
                median_hours=round(statistics.median(hours), 1) if len(hours) >= minimum else None,
            )
        )
    return table
