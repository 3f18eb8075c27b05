"""A person decides on held submissions: release them or discard them.

Held ratings and survey responses (``feedback.limits``: too many new
identities on one address; ``feedback.anomaly``: suspicious patterns) wait
here. ``ratings_hold_decide`` and ``responses_hold_decide`` are the only ways
out, from the admin, the planners' dashboard or anywhere else:

- **release** — the submission is counted from now on, like any other;
- **discard** — it stays stored (the resident still sees it in 我的数据, and
  may delete it) but is never counted; a note saying why is required.

Only rows still held are decided, under a row lock, so two people deciding
at once do not overrule each other: the second finds nothing left to
decide. Who decided, when and why is kept on the row, the affected
aggregates are queued for a refresh, and apps above hear of it
(``hooks.notify("ratings_hold_decided")``: the review workspace writes the
case history).
"""

import logging

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import hooks
from feedback.aggregation import aggregate_key
from feedback.models import AggregateScope, Rating, SurveyQuestion, SurveyResponse, TrustState
from feedback.tasks import aggregates_refresh_queue

logger = logging.getLogger(__name__)

TRUST_NOTE_MAX_LENGTH = Rating._meta.get_field("trust_note").max_length


def trust_note_check(*, release: bool, note: str) -> str:
    """The rule on a decision's note: required to discard, at most 300 characters."""
    note = (note or "").strip()
    if not release and not note:
        raise ValidationError(_("剔除时必须填写说明。"), code="note_required")
    if len(note) > TRUST_NOTE_MAX_LENGTH:
        raise ValidationError(_("说明不能超过 300 字。"), code="too_long")
    return note


def _decide(queryset: QuerySet, *, release: bool, actor: AbstractBaseUser, note: str) -> list[Model]:
    """Lock the rows of ``queryset`` that are still held and decide them; the decided rows."""
    model = queryset.model
    locked = list(
        model.objects.select_for_update(of=("self",))
        .filter(pk__in=queryset.values("pk"), trust=TrustState.HELD)
        .order_by("pk")
    )
    if not locked:
        return []
    decided = {
        "trust": TrustState.COUNTED if release else TrustState.DISCARDED,
        "trust_decided_by": actor,
        "trust_decided_at": timezone.now(),
        "trust_note": note,
    }
    model.objects.filter(pk__in=[row.pk for row in locked]).update(**decided)
    for row in locked:
        for field, value in decided.items():
            setattr(row, field, value)
    logger.info(
        "%s %s held %s by %s", "released" if release else "discarded", len(locked), model.__name__, actor.pk
    )
    return locked


@transaction.atomic
def ratings_hold_decide(
    *, ratings: QuerySet[Rating], release: bool, actor: AbstractBaseUser, note: str = ""
) -> int:
    """Release (count from now on) or discard the held ratings among ``ratings``; how many were decided."""
    note = trust_note_check(release=release, note=note)
    decided = _decide(ratings, release=release, actor=actor, note=note)
    if not decided:
        return 0
    keys: set[str] = set()
    rows = Rating.objects.filter(pk__in=[r.pk for r in decided]).values_list(
        "indicator_id", "story_id", "district_id", "indicator__chapter_id", "story__chapter_id"
    )
    for indicator_id, story_id, district_id, indicator_chapter, story_chapter in rows:
        if indicator_id:
            keys.add(aggregate_key(AggregateScope.INDICATOR, indicator_id))
        if story_id:
            keys.add(aggregate_key(AggregateScope.STORY, story_id))
        if indicator_chapter or story_chapter:
            keys.add(aggregate_key(AggregateScope.CHAPTER, indicator_chapter or story_chapter))
        if district_id:
            keys.add(aggregate_key(AggregateScope.DISTRICT, district_id))
    aggregates_refresh_queue(keys=keys)
    hooks.notify("ratings_hold_decided", ratings=decided, actor=actor, release=release, note=note)
    return len(decided)


@transaction.atomic
def responses_hold_decide(
    *, responses: QuerySet[SurveyResponse], release: bool, actor: AbstractBaseUser, note: str = ""
) -> int:
    """Release or discard the held survey responses among ``responses``; how many were decided."""
    note = trust_note_check(release=release, note=note)
    decided = _decide(responses, release=release, actor=actor, note=note)
    surveys = {response.survey_id for response in decided}
    keys = {aggregate_key(AggregateScope.SURVEY, survey_id) for survey_id in surveys}
    questions = SurveyQuestion.objects.filter(survey_id__in=surveys).values_list("pk", flat=True)
    keys.update(aggregate_key(AggregateScope.QUESTION, question_id) for question_id in questions)
    aggregates_refresh_queue(keys=keys)
    return len(decided)
