"""Which queue a new case belongs to, and by when it must be answered.

Routing is one rule, applied when a case opens (``case_route``):

1. the district the resident gave (on the comment, the rating, the survey
   response, else on their profile) — the planners of that district;
2. else the district of the item (a story's district);
3. else the city-level queue (a case with no district), worked by staff and
   by planners given the city scope in the admin.

A story on a street assigned to a street planner also reaches that planner
(``review.selectors.case_scope_for_user``). The rule that applied is stored on
the case (``ReviewCase.route``) and shown on the case page.

The due time counts ``CASE_REPLY_WORKING_DAYS`` working days from receipt:
weekends are off, and the holiday calendar staff edit in the admin
(``Holiday``) adds days off and working weekends (调休). When staff change the
calendar, the cases still waiting for their first reply get their due time
counted again on it (``due_times_recount``); a case already answered keeps the
time limit it was answered against.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from feedback.models import Comment, Rating, SurveyAnswer
from review.models import CaseRoute, CaseStatus, Holiday, ReviewCase


@dataclass(frozen=True)
class Route:
    district_id: int | None
    route: str


def case_route(*, resident_district_id: int | None, item_district_id: int | None) -> Route:
    """The owner queue of a new case (the rule above)."""
    if resident_district_id is not None:
        return Route(resident_district_id, CaseRoute.RESIDENT_DISTRICT)
    if item_district_id is not None:
        return Route(item_district_id, CaseRoute.ITEM_DISTRICT)
    return Route(None, CaseRoute.CITY)


def route_for_feedback(feedback: Comment | SurveyAnswer | Rating) -> Route:
    """The rule above applied to one feedback row."""
    if isinstance(feedback, SurveyAnswer):
        response = feedback.response
        own = response.district_id or response.resident.district_id
        return case_route(resident_district_id=own, item_district_id=None)
    story = feedback.story if feedback.story_id else None
    own = feedback.district_id or (feedback.resident.district_id if feedback.resident_id else None)
    return case_route(resident_district_id=own, item_district_id=story.district_id if story else None)


def _calendar(start: date, end: date) -> dict[date, bool]:
    return dict(Holiday.objects.filter(date__gte=start, date__lte=end).values_list("date", "is_workday"))


def is_working_day(day: date, calendar: dict[date, bool]) -> bool:
    if day in calendar:
        return calendar[day]
    return day.weekday() < 5


def due_at_for(received_at: datetime) -> datetime:
    """``received_at`` plus ``CASE_REPLY_WORKING_DAYS`` working days, at the same time of day.

    Feedback received on a day off counts from the next working day's start.
    One query: the calendar of the next few weeks.
    """
    days = settings.CASE_REPLY_WORKING_DAYS
    local = timezone.localtime(received_at)
    calendar = _calendar(local.date(), local.date() + timedelta(days=days * 3 + 30))
    day = local.date()
    if not is_working_day(day, calendar):
        while not is_working_day(day, calendar):
            day += timedelta(days=1)
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day, calendar):
            counted += 1
    naive = datetime.combine(day, local.time().replace(tzinfo=None))
    return timezone.make_aware(naive, local.tzinfo)


def due_times_recount(day: date) -> int:
    """Count again the due time of every case still waiting for its first reply whose
    counting may pass ``day`` (a holiday just added, changed or removed); returns how
    many due times changed.

    A case received up to a few weeks before ``day`` may count it; one answered,
    closed or received later does not. One calendar query per case (cases waiting
    for a first reply are few).
    """
    window = timedelta(days=settings.CASE_REPLY_WORKING_DAYS * 3 + 30)
    start = timezone.make_aware(datetime.combine(day - window, datetime.min.time()))
    end = timezone.make_aware(datetime.combine(day + timedelta(days=1), datetime.min.time()))
    waiting = ReviewCase.objects.filter(
        first_reply_at__isnull=True,
        status__in=[CaseStatus.NEW, CaseStatus.IN_REVIEW],
        received_at__gte=start,
        received_at__lt=end,
    ).only("id", "received_at", "due_at")
    changed = []
    for case in waiting:
        due_at = due_at_for(case.received_at)
        if due_at != case.due_at:
            case.due_at = due_at
            changed.append(case)
    ReviewCase.objects.bulk_update(changed, ["due_at"], batch_size=500)
    return len(changed)
