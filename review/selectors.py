"""Every read of the review workspace, with the access check built in.

``case_get_for_user`` is the only way a view fetches a case; it raises 404
for a case outside the user's area, so a planner cannot even learn that the
case exists. ``case_scope_for_user`` is the one definition of "the user's
area": staff and superusers see every area, a planner sees the cases of their
districts and of the streets assigned to them, anyone else sees nothing.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.http import Http404

from review.models import PlannerProfile, ReviewCase


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
    return Q(district__in=districts) | Q(street__in=streets)


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
    from review.filters import CaseFilter  # filters import this module

    queryset = case_scope_for_user(user).select_related(
        "comment",
        "comment__official_reply",
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
        return case_scope_for_user(user).select_related(
            "comment",
            "comment__resident",
            "comment__official_reply",
            "comment__official_reply__author",
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
        ).get(pk=pk)
    except ReviewCase.DoesNotExist:
        raise Http404("No such case.") from None


def case_events(case: ReviewCase) -> QuerySet:
    return case.events.select_related("actor").order_by("created_at", "id")


def planner_covers_case(user: AbstractBaseUser, case: ReviewCase) -> bool:
    """Is ``user`` an active planner whose area includes ``case``?"""
    if not user.is_active:
        return False
    return ReviewCase.objects.filter(pk=case.pk).filter(_area_q(user)).exists()


def planners_for_case(case: ReviewCase) -> QuerySet:
    """The planners a case may be assigned to: active, and covering its area."""
    from django.contrib.auth import get_user_model

    query = Q(pk__in=[])
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
    """The public signature of a reply: the planner's title, else the name."""
    profile = PlannerProfile.objects.filter(user=user).only("title").first()
    if profile and profile.title:
        return profile.title
    return user.get_full_name() or user.get_username()


def planner_profiles_with_email() -> QuerySet[PlannerProfile]:
    return (
        PlannerProfile.objects.filter(user__is_active=True)
        .exclude(user__email="")
        .select_related("user")
        .order_by("user__username")
    )
