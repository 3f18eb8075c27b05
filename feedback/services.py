"""Every write of the participation app.

Submissions are validated, written in one transaction and acknowledged at
once. The review case of the feedback (``review.services.case_open_for_feedback``)
is opened in the same transaction. After the commit the affected aggregates
are marked "refresh queued" in the shared cache and one Celery task is queued
for those not already queued: a burst of ratings on one item costs one
recomputation per ``AGGREGATE_REFRESH_DELAY``, not one per rating. If the
broker is down the submission still stands; the periodic
``aggregates_reconcile`` recomputes everything from the raw rows.
"""

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from kombu.exceptions import OperationalError

from feedback.aggregation import (
    SCOPES,
    aggregate_key,
    aggregate_key_parse,
    aggregates_upsert,
    grouped_scores,
    tallies,
    tally_to_aggregate,
)
from feedback.models import (
    COMMENT_MAX_LENGTH,
    AggregateScope,
    Comment,
    ModerationState,
    Rating,
    Resident,
    ScoreAggregate,
    SensitiveWord,
    Survey,
    SurveyAnswer,
    SurveyResponse,
)
from indicators.models import District, Edition, Indicator, PublishStatus, Story
from review.services import case_open_for_feedback

logger = logging.getLogger(__name__)

Target = Indicator | Story
NICKNAME_MAX_LENGTH = 30
_PENDING_PREFIX = "feedback:aggregate-refresh-queued:"
_RECONCILE_BATCH = 500

# http(s)://…, www.…, or anything shaped like a domain name (example.com, a.b.cn/x).
LINK_PATTERN = re.compile(
    r"(https?://|www\.|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)",
    re.IGNORECASE,
)


# --- Residents ---------------------------------------------------------------------


def resident_get_or_create(*, key_hash: str, district: District | None = None) -> Resident:
    """The resident of a cookie; remembers the district they last reported."""
    resident, _created = Resident.objects.get_or_create(key_hash=key_hash, defaults={"district": district})
    if district is not None and resident.district_id != district.pk:
        Resident.objects.filter(pk=resident.pk).update(district=district)
        resident.district = district
    return resident


# --- Validation helpers ---------------------------------------------------------------


def _target_field(target: Target) -> str:
    return "indicator" if isinstance(target, Indicator) else "story"


def _target_check_public(target: Target) -> None:
    if not (target.is_public and target.edition.is_public):
        raise ValidationError({"target": _("该内容未发布，不能评价或留言。")}, code="unpublished")


def _score_check(score: int, field: str = "score") -> None:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({field: _("评分须为 1 到 5 的整数。")}, code="score_range")


def _target_keys(target: Target, district_id: int | None) -> list[str]:
    keys = [aggregate_key(_target_field(target), target.pk)]
    if target.chapter_id:
        keys.append(aggregate_key(AggregateScope.CHAPTER, target.chapter_id))
    if district_id:
        keys.append(aggregate_key(AggregateScope.DISTRICT, district_id))
    return keys


# --- Ratings --------------------------------------------------------------------------


def rating_submit(
    *, resident_key_hash: str, target: Target, score: int, district: District | None = None
) -> Rating:
    """Store the resident's current score on an item, replacing any earlier one.

    One statement, ``INSERT … ON CONFLICT (resident, item) DO UPDATE``, on the
    database's unique constraint: simultaneous submissions of one resident
    end as one row with the last score, never two rows and never an error.
    """
    _score_check(score)
    _target_check_public(target)
    field = _target_field(target)
    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district)
        previous_district = (
            Rating.objects.filter(resident=resident, **{field: target})
            .values_list("district_id", flat=True)
            .first()
        )
        rating = Rating(resident=resident, score=score, district=resident.district, **{field: target})
        Rating.objects.bulk_create(
            [rating],
            update_conflicts=True,
            unique_fields=["resident", field],
            update_fields=["score", "district", "updated_at"],
        )
        case_open_for_feedback(rating=rating)
        keys = _target_keys(target, rating.district_id)
        if previous_district and previous_district != rating.district_id:
            keys.append(aggregate_key(AggregateScope.DISTRICT, previous_district))
        aggregates_refresh_queue(keys=keys)
    return rating


# --- Survey -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerInput:
    question_id: int
    score: int
    comment: str = ""


def survey_is_open(survey: Survey, *, at=None) -> bool:
    at = at or timezone.now()
    return survey.is_public and survey.opens_at <= at < survey.closes_at


def survey_response_submit(
    *,
    resident_key_hash: str,
    survey: Survey,
    answers: Sequence[AnswerInput],
    district: District | None = None,
) -> SurveyResponse:
    """Store (or change) the resident's one response to a survey while it is open.

    Every question must be answered with a 1–5 score; free text is optional
    and at most 1000 characters.
    """
    if not survey.is_public:
        raise ValidationError({"survey": _("该问卷未发布。")}, code="unpublished")
    now = timezone.now()
    if now < survey.opens_at:
        raise ValidationError({"survey": _("问卷尚未开始。")}, code="not_open")
    if now >= survey.closes_at:
        raise ValidationError({"survey": _("问卷已截止，答卷不能再修改。")}, code="closed")

    questions = {q.pk: q for q in survey.questions.all()}
    errors: dict[str, list] = {}
    given: dict[int, AnswerInput] = {}
    for answer in answers:
        key = f"question_{answer.question_id}"
        question = questions.get(answer.question_id)
        if question is None:
            errors.setdefault("answers", []).append(
                ValidationError(_("题目不属于该问卷：%(id)s"), code="unknown_question", params={"id": key})
            )
            continue
        if answer.question_id in given:
            errors.setdefault(key, []).append(ValidationError(_("同一题目只能回答一次。"), code="duplicate"))
        try:
            _score_check(answer.score, field=key)
        except ValidationError as error:
            errors.setdefault(key, []).extend(error.error_dict[key])
        text = (answer.comment or "").strip()
        if len(text) > COMMENT_MAX_LENGTH:
            errors.setdefault(f"{key}_comment", []).append(
                ValidationError(_("补充意见最多 1000 字。"), code="too_long")
            )
        if text and not question.allow_comment:
            errors.setdefault(f"{key}_comment", []).append(
                ValidationError(_("该题不收补充意见。"), code="no_comment")
            )
        given[answer.question_id] = AnswerInput(answer.question_id, answer.score, text)
    for question_id in questions.keys() - given.keys():
        errors.setdefault(f"question_{question_id}", []).append(
            ValidationError(_("请为这一项打分。"), code="required")
        )
    if not questions:
        errors.setdefault("survey", []).append(ValidationError(_("该问卷没有题目。"), code="empty"))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district)
        response, created = SurveyResponse.objects.get_or_create(
            survey=survey, resident=resident, defaults={"district": resident.district}
        )
        if not created:
            response.district = resident.district
            response.save(update_fields=["district", "updated_at"])
        rows = [
            SurveyAnswer(
                response=response, question=questions[a.question_id], score=a.score, comment=a.comment
            )
            for a in given.values()
        ]
        SurveyAnswer.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["response", "question"],
            update_fields=["score", "comment"],
        )
        for row in rows:
            if row.comment:
                case_open_for_feedback(answer=row)
        keys = [aggregate_key(AggregateScope.QUESTION, q) for q in questions]
        keys.append(aggregate_key(AggregateScope.SURVEY, survey.pk))
        aggregates_refresh_queue(keys=keys)
    return response


# --- Comments --------------------------------------------------------------------------


def comment_hold_reasons(body: str) -> list[str]:
    """Why a comment must wait for a moderator even under post-moderation."""
    reasons = []
    lowered = body.casefold()
    words = [w for w in SensitiveWord.objects.values_list("word", flat=True) if w.casefold() in lowered]
    if words:
        reasons.append(str(_("含敏感词：%(words)s")) % {"words": "、".join(words)})
    if LINK_PATTERN.search(body):
        reasons.append(str(_("含链接")))
    return reasons


def comment_submit(
    *,
    resident_key_hash: str,
    target: Target,
    body: str,
    nickname: str = "",
    district: District | None = None,
) -> Comment:
    """Store a comment: pending under pre-moderation, public at once under
    post-moderation unless a sensitive word or a link holds it."""
    body = (body or "").strip()
    nickname = (nickname or "").strip()
    errors = {}
    if not body:
        errors["body"] = ValidationError(_("请填写留言内容。"), code="required")
    elif len(body) > COMMENT_MAX_LENGTH:
        errors["body"] = ValidationError(
            _("留言最多 %(max)s 字（现有 %(n)s 字）。"),
            code="too_long",
            params={"max": COMMENT_MAX_LENGTH, "n": len(body)},
        )
    if len(nickname) > NICKNAME_MAX_LENGTH:
        errors["nickname"] = ValidationError(_("昵称最多 30 字。"), code="too_long")
    if errors:
        raise ValidationError(errors)
    _target_check_public(target)

    reasons = comment_hold_reasons(body)
    public_at_once = settings.COMMENT_MODERATION == "post" and not reasons
    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district)
        comment = Comment.objects.create(
            resident=resident,
            body=body,
            nickname=nickname,
            district=district,
            moderation_state=ModerationState.APPROVED if public_at_once else ModerationState.PENDING,
            moderated_at=timezone.now() if public_at_once else None,
            held_reason="；".join(reasons)[:200],
            **{_target_field(target): target},
        )
        case_open_for_feedback(comment=comment)
    return comment


@transaction.atomic
def comment_moderate(
    *, comment: Comment, approve: bool, moderator: AbstractBaseUser, reason: str = ""
) -> Comment:
    """Approve (public from now on) or reject a comment; used by the admin actions."""
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    comment.moderation_state = ModerationState.APPROVED if approve else ModerationState.REJECTED
    comment.moderation_reason = reason[:300]
    comment.moderated_by = moderator
    comment.moderated_at = timezone.now()
    comment.save(update_fields=["moderation_state", "moderation_reason", "moderated_by", "moderated_at"])
    return comment


# --- My data ------------------------------------------------------------------------------


def _resident_aggregate_keys(resident: Resident) -> set[str]:
    keys: set[str] = set()
    rows = Rating.objects.filter(resident=resident).values_list(
        "indicator_id", "story_id", "district_id", "indicator__chapter_id", "story__chapter_id"
    )
    for indicator_id, story_id, district_id, indicator_chapter, story_chapter in rows:
        if indicator_id:
            keys.add(aggregate_key(AggregateScope.INDICATOR, indicator_id))
        if story_id:
            keys.add(aggregate_key(AggregateScope.STORY, story_id))
        if district_id:
            keys.add(aggregate_key(AggregateScope.DISTRICT, district_id))
        if indicator_chapter or story_chapter:
            keys.add(aggregate_key(AggregateScope.CHAPTER, indicator_chapter or story_chapter))
    answers = SurveyAnswer.objects.filter(response__resident=resident).values_list(
        "question_id", "question__survey_id"
    )
    for question_id, survey_id in answers:
        keys.add(aggregate_key(AggregateScope.QUESTION, question_id))
        keys.add(aggregate_key(AggregateScope.SURVEY, survey_id))
    return keys


def resident_data_delete(*, resident_key_hash: str) -> bool:
    """Delete everything submitted from one cookie; the aggregates follow.

    Ratings, survey responses and answers, comments and the replies to them,
    and their review cases go with the resident row. Returns False when there
    was nothing stored.
    """
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(key_hash=resident_key_hash).first()
        if resident is None:
            return False
        keys = _resident_aggregate_keys(resident)
        resident.delete()
        aggregates_refresh_queue(keys=keys)
    return True


# --- Aggregates -----------------------------------------------------------------------------


def aggregates_refresh_queue(*, keys: Iterable[str]) -> None:
    """After the commit, queue one refresh for the keys not already queued."""
    wanted = sorted(set(keys))
    if wanted:
        transaction.on_commit(partial(_aggregates_refresh_enqueue, wanted))


def _aggregates_refresh_enqueue(keys: list[str]) -> None:
    from feedback.tasks import aggregates_refresh  # tasks import this module

    # ``cache.add`` is SET NX with a TTL: True for the first submission of a
    # burst, False while a refresh is already queued, None when Redis is down
    # (the cache ignores the error); then we try to queue anyway.
    marked = []
    for key in keys:
        if cache.add(_PENDING_PREFIX + key, 1, settings.AGGREGATE_REFRESH_PENDING_TTL) is False:
            continue  # a refresh of this aggregate is already queued and will read our commit
        marked.append(key)
    if not marked:
        return
    try:
        aggregates_refresh.apply_async(args=[marked], countdown=settings.AGGREGATE_REFRESH_DELAY)
    except OperationalError:
        # The submission is committed; the reconciliation repairs the aggregates.
        logger.warning("Broker unavailable: aggregate refresh of %s not queued", ",".join(marked))
        cache.delete_many([_PENDING_PREFIX + key for key in marked])


def aggregates_refresh(*, keys: Iterable[str]) -> list[ScoreAggregate]:
    """Recompute the named aggregates from the raw rows (one GROUP BY each).

    The queued marks are cleared first: a submission committed from now on
    queues a new refresh, and everything committed before is read below.
    An aggregate whose object has no scores left is deleted.
    """
    parsed = sorted({aggregate_key_parse(key) for key in keys})
    cache.delete_many([_PENDING_PREFIX + aggregate_key(scope, oid) for scope, oid in parsed])
    refreshed = []
    for scope, object_id in parsed:
        with transaction.atomic():
            tally = next(tallies(grouped_scores(scope, object_id)), None)
            if tally is None:
                ScoreAggregate.objects.filter(scope=scope, object_id=object_id).delete()
                continue
            aggregate = tally_to_aggregate(scope, tally)
            aggregates_upsert([aggregate])
            refreshed.append(aggregate)
    logger.info("aggregates refreshed: %s", " ".join(aggregate_key(s, o) for s, o in parsed))
    return refreshed


def aggregates_reconcile() -> dict[str, int]:
    """Recompute every aggregate from the raw rows, set-wise.

    One ordered GROUP BY per scope, streamed through a server-side cursor and
    folded object by object; upserts go out in batches; aggregates whose
    object has no scores left are deleted. Memory holds one batch, whatever
    the number of ratings.
    """
    written: dict[str, int] = {}
    for scope in SCOPES:
        with transaction.atomic():
            batch: list[ScoreAggregate] = []
            seen: list[int] = []
            for tally in tallies(grouped_scores(scope).iterator(chunk_size=5000)):
                batch.append(tally_to_aggregate(scope, tally))
                seen.append(tally.object_id)
                if len(batch) >= _RECONCILE_BATCH:
                    aggregates_upsert(batch)
                    batch = []
            aggregates_upsert(batch)
            ScoreAggregate.objects.filter(scope=scope).exclude(object_id__in=seen).delete()
        written[scope] = len(seen)
    logger.info("aggregates reconciled: %s", written)
    return written


# --- Survey definition (data file) ------------------------------------------------------------


SURVEY_FIELDS = ("title", "title_en", "intro", "intro_en", "opens_at", "closes_at")
QUESTION_FIELDS = ("order", "dimension_en", "text", "text_en", "allow_comment")


def survey_read(path) -> dict:
    """Parse a survey data file (YAML); errors name the file and the problem."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValidationError(f"{path}: {error}", code="unreadable") from error
    survey = (raw or {}).get("survey")
    if not isinstance(survey, dict) or not survey.get("questions"):
        raise ValidationError(f"{path}: a 'survey' with 'questions' is required", code="shape")
    for key in ("edition", "slug", "title", "opens_at", "closes_at"):
        if not survey.get(key):
            raise ValidationError(f"{path}: survey.{key} is required", code="required")
    if not Edition.objects.filter(year=survey["edition"]).exists():
        raise ValidationError(
            f"Edition {survey['edition']} is not loaded yet (manage.py load_report first)", code="no_edition"
        )
    return survey


@dataclass
class SurveyLoadResult:
    created: bool
    changed: int
    questions: int


@transaction.atomic
def survey_load(*, data: dict) -> SurveyLoadResult:
    """Create or update a survey and its questions from parsed data; idempotent.

    Questions are matched by dimension. Publication (status, date) is only
    set when the survey is created, so a staff decision to unpublish stays.
    Questions staff added in the admin are kept.
    """
    edition = Edition.objects.get(year=data["edition"])
    values = {field: data.get(field) or "" for field in SURVEY_FIELDS}
    survey, created = Survey.objects.get_or_create(
        edition=edition,
        slug=data["slug"],
        defaults={
            **values,
            "status": data.get("status", PublishStatus.DRAFT),
            "published_at": data.get("published_at"),
        },
    )
    changed = int(created)
    if not created and any(getattr(survey, f) != values[f] for f in SURVEY_FIELDS):
        for field_name, value in values.items():
            setattr(survey, field_name, value)
        survey.full_clean()
        survey.save()
        changed += 1
    existing = {q.dimension: q for q in survey.questions.all()}
    for order, item in enumerate(data["questions"], start=1):
        wanted = {
            "order": order,
            "dimension_en": item.get("dimension_en", ""),
            "text": item["text"],
            "text_en": item.get("text_en", ""),
            "allow_comment": item.get("allow_comment", True),
        }
        question = existing.get(item["dimension"])
        if question is None:
            survey.questions.create(dimension=item["dimension"], **wanted)
            changed += 1
        elif any(getattr(question, f) != wanted[f] for f in QUESTION_FIELDS):
            for field_name, value in wanted.items():
                setattr(question, field_name, value)
            question.save()
            changed += 1
    return SurveyLoadResult(created=created, changed=changed, questions=len(data["questions"]))
