"""Every read of the review workspace, with the access check built in.

``case_get_for_user`` is the only way a view fetches a case; it raises 404
for a case outside the user's area, so a planner cannot even learn that the
case exists. ``case_scope_for_user`` is the one definition of "the user's
area": staff and superusers see every area, a planner sees the cases of their
districts and of the streets assigned to them — and, when given the city
scope, the city-level queue (cases with no district) — anyone else sees
nothing. Each case is one row whatever the rules that reach it, so the queue,
the dashboard and the export count it once.
"""

import statistics
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback.models import AggregateScope, Rating, ScoreAggregate, TrustState
from indicators.models import Chapter, Indicator, Story, is_english
from review.filters import CaseFilter
from review.language import chapter_label
from review.models import CaseStatus, PlannerProfile, ReplySignature, ReplyTemplate, ReviewCase


def user_is_reviewer(user: AbstractBaseUser | AnonymousUser) -> bool:
    """May this user enter the workspace at all (staff, or an active planner)?"""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_staff or user.is_superuser:
        return True
    return PlannerProfile.objects.filter(user=user).exists()


def _area_q(user: AbstractBaseUser) -> Q:
    # Subqueries, not id lists: the scope costs no extra query per request.
    districts = PlannerProfile.districts.through.objects.filter(plannerprofile__user=user).values(
        "district_id"
    )
    streets = PlannerProfile.streets.through.objects.filter(plannerprofile__user=user).values("street_id")
    city = PlannerProfile.objects.filter(user=user, city_scope=True)
    return Q(district__in=districts) | Q(street__in=streets) | Q(Exists(city), district__isnull=True)


def case_scope_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[ReviewCase]:
    """Every case the user may see, unfiltered and unordered beyond the default."""
    if not (user.is_authenticated and user.is_active):
        return ReviewCase.objects.none()
    if user.is_staff or user.is_superuser:
        return ReviewCase.objects.all()
    return ReviewCase.objects.filter(_area_q(user))


def case_list_for_user(user: AbstractBaseUser | AnonymousUser, filters: dict[str, Any] | None = None):
    """The queue: the user's cases, filtered and ordered, ready to display.

    ``filters`` is the query string (``request.GET``); returns the django-filter
    ``FilterSet`` whose ``.qs`` is the page's queryset.
    """
    queryset = case_scope_for_user(user).select_related(
        "comment",
        "reply",
        "survey_answer",
        "rating",
        "district",
        "street",
        "chapter",
        "indicator",
        "story",
        "question",
        "question__survey",
        "assignee",
    )
    return CaseFilter(filters or {}, queryset=queryset, user=user)


def case_get_for_user(user: AbstractBaseUser | AnonymousUser, pk: int) -> ReviewCase:
    """The case ``pk`` if the user's area covers it, else 404."""
    try:
        return (
            case_scope_for_user(user)
            .select_related(
                "comment",
                "comment__resident",
                "reply",
                "reply__author",
                "reply__resident_rating",
                "comment__moderated_by",
                "survey_answer",
                "survey_answer__response",
                "rating",
                "district",
                "street",
                "chapter",
                "indicator",
                "indicator__edition",
                "story",
                "story__edition",
                "question",
                "question__survey",
                "assignee",
            )
            .get(pk=pk)
        )
    except ReviewCase.DoesNotExist:
        raise Http404("No such case.") from None


def case_events(case: ReviewCase) -> QuerySet:
    return case.events.select_related("actor").order_by("created_at", "id")


def planner_covers_case(user: AbstractBaseUser, case: ReviewCase) -> bool:
    """Is ``user`` an active planner whose area includes ``case``?"""
    if not user.is_active:
        return False
    return ReviewCase.objects.filter(pk=case.pk).filter(_area_q(user)).exists()


def case_answer(case: ReviewCase):
    """The reply or closing note sent to the case's author, if any (``feedback.OfficialReply``)."""
    return case.reply if case.reply_id else None


def planners_for_case(case: ReviewCase) -> QuerySet:
    """The planners a case may be assigned to: active, and covering its area."""
    query = Q(pk__in=[])
    if case.district_id is None:
        query |= Q(planner_profile__city_scope=True)
    if case.district_id:
        query |= Q(planner_profile__districts=case.district_id)
    if case.street_id:
        query |= Q(planner_profile__streets=case.street_id)
    return (
        get_user_model()
        .objects.filter(query, is_active=True, planner_profile__isnull=False)
        .select_related("planner_profile")
        .distinct()
        .order_by("username")
    )


def planner_title_for(user: AbstractBaseUser) -> str:
    """The public signature of a reply, chosen in the admin: the planner's title, else the
    staff member's ``ReplySignature``. Never a login name or a person's name: without a
    title the user cannot reply (a ``ValidationError`` says so)."""
    profile = PlannerProfile.objects.filter(user=user).only("title").first()
    if profile and profile.title.strip():
        return profile.title.strip()
    signature = ReplySignature.objects.filter(user=user).only("title").first()
    if signature and signature.title.strip():
        return signature.title.strip()
    raise ValidationError(
        _("您还没有公开署名：请管理员在后台“答复署名”中为您设置（如“北京市规划和自然资源委员会”）后再答复。"),
        code="no_title",
    )


def reply_templates_for_case(case: ReviewCase) -> QuerySet[ReplyTemplate]:
    """The active reply templates of the case's district, then the city-wide ones."""
    query = Q(district__isnull=True)
    if case.district_id:
        query |= Q(district_id=case.district_id)
    return ReplyTemplate.objects.filter(query, is_active=True).order_by(
        F("district_id").asc(nulls_last=True), "title", "id"
    )


def planner_profiles_with_email() -> QuerySet[PlannerProfile]:
    return (
        PlannerProfile.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__username")
    )


# --- Dashboard -------------------------------------------------------------------


def area_district_ids(user: AbstractBaseUser) -> list[int] | None:
    """The districts whose figures a user's dashboard shows; ``None`` means the whole city.

    Aggregates are broken down by district only, so a planner of a single
    street sees the figures of that street's district.
    """
    if user.is_staff or user.is_superuser:
        return None
    profile = PlannerProfile.objects.filter(user=user).first()
    if profile is None:
        return []
    ids = set(profile.districts.values_list("id", flat=True))
    ids |= set(profile.streets.values_list("district_id", flat=True))
    return sorted(ids)


def _area_figures(aggregate, district_ids: list[int] | None) -> tuple[int, int, float | None]:
    """(count, raters, mean) of an aggregate restricted to the area, from its per-district breakdown.

    ``raters`` (distinct residents) is what the minimum is judged on, as on the public site.
    """
    if district_ids is None:
        mean = float(aggregate.mean) if aggregate.mean is not None else None
        return aggregate.count, aggregate.raters, mean
    count = raters = 0
    total = 0.0
    breakdown = aggregate.by_district or {}
    for district_id in district_ids:
        entry = breakdown.get(str(district_id)) or breakdown.get(district_id)
        if not entry or not entry.get("count"):
            continue
        count += int(entry["count"])
        raters += int(entry.get("raters", entry["count"]))
        total += float(entry["mean"]) * int(entry["count"])
    return count, raters, (total / count if count else None)


def _aggregate_targets(aggregates: list[ScoreAggregate]) -> dict[str, dict[int, Any]]:
    """The chapters, indicators and stories the aggregates are about (three queries)."""
    ids: dict[str, set[int]] = {"chapter": set(), "indicator": set(), "story": set()}
    for aggregate in aggregates:
        ids[aggregate.scope].add(aggregate.object_id)
    return {
        AggregateScope.CHAPTER: Chapter.objects.select_related("edition").in_bulk(ids["chapter"]),
        AggregateScope.INDICATOR: Indicator.objects.select_related("edition", "chapter").in_bulk(
            ids["indicator"]
        ),
        AggregateScope.STORY: Story.objects.select_related("edition", "chapter").in_bulk(ids["story"]),
    }


def _area_score_row(aggregate: ScoreAggregate, target, district_ids: set[int] | None) -> dict | None:
    """The area's count (ratings), raters (people) and mean of one aggregate, or None when the
    area gave no score. A chapter's raters rate several of its items: fewer people than ratings."""
    located_here = (
        district_ids is not None
        and aggregate.scope == AggregateScope.STORY
        and target.district_id in district_ids
    )
    # A story located in the area counts every rating of it, wherever the
    # rater lives; anything else counts the ratings of the area's residents.
    count, raters, mean = _area_figures(aggregate, None if located_here else district_ids)
    if count == 0:
        return None
    enough = raters >= settings.AGGREGATE_MIN_COUNT
    return {"count": count, "raters": raters, "mean": mean if enough else None, "located_here": located_here}


def _dashboard_scores(district_ids: set[int] | None) -> dict[str, list[dict]]:
    """Satisfaction of the area: per chapter, per item, and the ten lowest items."""
    aggregates = list(
        ScoreAggregate.objects.filter(
            scope__in=[AggregateScope.CHAPTER, AggregateScope.INDICATOR, AggregateScope.STORY]
        )
    )
    targets = _aggregate_targets(aggregates)
    by_chapter, items = [], []
    english = is_english()
    for aggregate in aggregates:
        target = targets[aggregate.scope].get(aggregate.object_id)
        row = _area_score_row(aggregate, target, district_ids) if target is not None else None
        if row is None:
            continue
        if aggregate.scope == AggregateScope.CHAPTER:
            # In the planner's language: the chart shows the label (``str`` on a Chinese page).
            by_chapter.append({**row, "chapter": target, "label": chapter_label(target, english=english)})
        else:
            is_indicator = aggregate.scope == AggregateScope.INDICATOR
            label = target.display_name if is_indicator else target.display_title
            items.append({**row, "target": target, "label": label, "chapter": target.chapter})
    by_chapter.sort(key=lambda row: (row["chapter"].edition.year, row["chapter"].number))
    items.sort(key=lambda row: (row["mean"] is None, row["mean"] or 0, -row["count"]))
    lowest = [row for row in items if row["mean"] is not None][:10]
    return {"by_chapter": by_chapter, "items": items, "lowest": lowest}


def case_status_counts(cases: QuerySet[ReviewCase]) -> dict[str, int]:
    """How many of ``cases`` are in each status (one grouped query)."""
    return dict(cases.order_by().values_list("status").annotate(n=Count("id")))


def _reply_durations(scope: QuerySet[ReviewCase]) -> list[float]:
    """Seconds from receipt to first public reply, per replied case."""
    return [
        (replied - received).total_seconds()
        for received, replied in scope.filter(first_reply_at__isnull=False)
        .order_by()
        .values_list("received_at", "first_reply_at")
    ]


def _weekly_received(scope: QuerySet[ReviewCase], weeks: int = 12) -> list[dict]:
    """Cases received per week over the last ``weeks`` weeks, oldest first, zeros included."""
    today = timezone.localdate()
    first_monday = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    counts = {
        timezone.localtime(week).date() if hasattr(week, "tzinfo") else week: n
        for week, n in scope.filter(received_at__date__gte=first_monday)
        .order_by()
        .annotate(week=TruncWeek("received_at"))
        .values_list("week")
        .annotate(n=Count("id"))
    }
    mondays = [first_monday + timedelta(weeks=i) for i in range(weeks)]
    return [{"week": monday, "count": counts.get(monday, 0)} for monday in mondays]


def case_due_counts(cases: QuerySet[ReviewCase]) -> dict[str, int]:
    """Of the unanswered open cases: how many are overdue, and due within a day (one query)."""
    now = timezone.now()
    waiting = cases.filter(first_reply_at__isnull=True, status__in=[CaseStatus.NEW, CaseStatus.IN_REVIEW])
    return waiting.order_by().aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        due_soon=Count("id", filter=Q(due_at__gte=now, due_at__lt=now + timedelta(days=1))),
    )


def dashboard_for_user(user: AbstractBaseUser) -> dict[str, Any]:
    """Every figure of the dashboard, for the user's area, in a fixed number of queries."""
    district_ids = area_district_ids(user)
    scope = case_scope_for_user(user)
    status_counts = case_status_counts(scope)
    backlog = [{"status": s, "label": s.label, "count": status_counts.get(s.value, 0)} for s in CaseStatus]
    durations = _reply_durations(scope)
    return {
        "district_ids": district_ids,
        **_dashboard_scores(district_ids),
        "backlog": backlog,
        "backlog_total": sum(row["count"] for row in backlog),
        "due": case_due_counts(scope),
        "replied_count": len(durations),
        "median_hours": statistics.median(durations) / 3600 if durations else None,
        "weekly": _weekly_received(scope),
        "minimum": settings.AGGREGATE_MIN_COUNT,
    }


# --- Held ratings ------------------------------------------------------------------

HELD_RATINGS_SHOWN = 100


def ratings_scope_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Rating]:
    """The ratings whose hold a user may decide, scoped like their cases.

    Staff: all. A planner: the ratings whose case would be theirs — the
    rater's self-reported district, else the rated story's district, among
    their districts; or the story on one of their streets. Anyone else: none.
    """
    if not (user.is_authenticated and user.is_active):
        return Rating.objects.none()
    if user.is_staff or user.is_superuser:
        return Rating.objects.all()
    districts = PlannerProfile.districts.through.objects.filter(plannerprofile__user=user).values(
        "district_id"
    )
    streets = PlannerProfile.streets.through.objects.filter(plannerprofile__user=user).values("street_id")
    return Rating.objects.filter(
        Q(district__in=districts)
        | Q(district__isnull=True, story__district__in=districts)
        | Q(story__street__in=streets)
    )


def held_ratings_for_user(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Rating]:
    """The user's held ratings, oldest first (the longest waiting), ready to list."""
    return (
        ratings_scope_for_user(user)
        .filter(trust=TrustState.HELD)
        .select_related("indicator", "story", "district")
        .order_by("updated_at", "id")
    )


def ratings_get_for_user(user: AbstractBaseUser | AnonymousUser, pks: list[int]) -> QuerySet[Rating]:
    """The ratings ``pks``, all within the user's area, else 404 (as ``case_get_for_user``)."""
    wanted = set(pks)
    ratings = ratings_scope_for_user(user).filter(pk__in=wanted)
    if not wanted or ratings.count() != len(wanted):
        raise Http404("No such rating.")
    return ratings
