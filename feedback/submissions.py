"""Residents' submissions: ratings, survey responses, comments.

Each is validated, written in one transaction and acknowledged at once.
Inside that transaction the apps above hear of it (``hooks.notify
("feedback_stored")``: the review workspace opens its case), so the feedback
and its case commit or roll back together. After the commit the affected
aggregates are queued for one coalesced refresh (``tasks``). (A new resident's
rating that no receiver acts on is one statement, atomic by itself: it runs in
autocommit, without a transaction around it; see ``_rating_insert_new``.)

Each service takes the submission's ``source`` (``feedback.limits.
SubmissionSource``, computed once per request by the pipeline): its keyed
address hash is stored for anomaly detection, and when the source says so the
submission is stored *held* — acknowledged exactly as usual, counted nowhere
until a person decides (``feedback.trust``). A later change by the same
resident never lifts a hold or a discard: only a person does.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback import hooks
from feedback.aggregates import item_aggregate_keys, target_aggregate_keys, target_scope
from feedback.aggregation import aggregate_key
from feedback.caching import comment_pages_changed
from feedback.limits import SubmissionSource
from feedback.models import (
    COMMENT_MAX_LENGTH,
    NICKNAME_MAX_LENGTH,
    AggregateScope,
    Comment,
    ModerationState,
    Rating,
    Resident,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    TrustState,
)
from feedback.moderation import HELD_REASON_MAX_LENGTH, comment_hold_reasons
from feedback.tasks import aggregates_refresh_queue
from indicators.compiled import Statement, sql_statement, statement_rows
from indicators.models import District, Indicator, Story, public_q

Target = Indicator | Story


@dataclass(frozen=True)
class TargetRef:
    """An item as a request names it (``"indicator"`` or ``"story"``, and its key), not read yet.

    ``rating_submit`` reads it: for a new resident inside the statement that stores
    the rating, otherwise with ``rating_target_get``.
    """

    kind: str
    pk: int


def _target_unknown() -> ValidationError:
    return ValidationError({"target_id": [_("没有这个已发布的指标或亮点故事。")]}, code="unknown_target")


def resident_get_or_create(*, key_hash: str, district: District | None = None, new: bool = False) -> Resident:
    """The resident of a cookie; remembers the district they last reported.

    ``new``: the id was made in this request (``SubmissionSource.new_resident``),
    so no row can have its hash (a 192-bit random id): one INSERT, without
    ``get_or_create``'s SELECT and savepoint. Should it ever collide, the
    unique constraint refuses it and the submission rolls back whole.
    """
    if new:
        return Resident.objects.create(key_hash=key_hash, district=district)
    resident, _created = Resident.objects.get_or_create(key_hash=key_hash, defaults={"district": district})
    if district is not None and resident.district_id != district.pk:
        Resident.objects.filter(pk=resident.pk).update(district=district)
        resident.district = district
    return resident


# What a rating reads of its target: whether it and its edition are public, its chapter
# (the chapter's aggregate), and a story's street and district (where a low rating's review
# case goes). Not the ~40 other columns (texts, figures) an item row has.
_RATING_TARGET_FIELDS = {
    "indicator": ("status", "published_at", "chapter", "edition__status", "edition__published_at"),
    "story": (
        "status",
        "published_at",
        "chapter",
        "street",
        "district",
        "edition__status",
        "edition__published_at",
    ),
}


def rating_target_get(*, kind: str, pk: int) -> Target | None:
    """``selectors.target_public_get`` for a rating: the same rule, reading only what a rating uses.

    Fetched by its key without ORDER BY; other columns load on access (one query
    each), so a caller that shows the item uses ``target_public_get``.
    """
    fields = _RATING_TARGET_FIELDS.get(kind)
    if fields is None:
        return None
    model = Indicator if kind == "indicator" else Story
    try:
        target = model.objects.select_related("edition").only(*fields).get(pk=pk)
    except model.DoesNotExist:
        return None
    return target if target.is_public and target.edition.is_public else None


def _target_check_public(target: Target) -> None:
    if not (target.is_public and target.edition.is_public):
        raise ValidationError({"target": _("该内容未发布，不能评价或留言。")}, code="unpublished")


def _screened_fields(source: SubmissionSource | None) -> dict:
    """The ``Screened`` columns of a new row from this source."""
    if source is None:
        return {}
    fields = {"source_hash": source.source_hash}
    if source.held:
        fields.update(trust=TrustState.HELD, hold_reason=source.hold_reason)
    return fields


def _hold_if_counted(queryset, source: SubmissionSource | None) -> None:
    """A changed row from a held source is held, unless already held or discarded.

    A new row got its state in the INSERT; this is for an existing one, whose
    state the change must never improve: a held row stays held, a discarded
    one discarded, whatever the new source.
    """
    if source is not None and source.held:
        counted = queryset.filter(trust=TrustState.COUNTED)
        counted.update(trust=TrustState.HELD, hold_reason=source.hold_reason)


def _score_check(score: int, field: str = "score") -> None:
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise ValidationError({field: _("评分须为 1 到 5 的整数。")}, code="score_range")


# --- Ratings --------------------------------------------------------------------------


def rating_submit(
    *,
    resident_key_hash: str,
    target: Target | TargetRef,
    score: int,
    district: District | None = None,
    source: SubmissionSource | None = None,
) -> Rating:
    """Store the resident's current score on an item, replacing any earlier one.

    One statement, ``INSERT … ON CONFLICT (resident, item) DO UPDATE``, on the
    database's unique constraint: simultaneous submissions of one resident
    end as one row with the last score, never two rows and never an error.
    The update leaves the trust state alone (see ``_hold_if_counted``).

    ``target`` may be a ``TargetRef`` (the API's): an unknown or unpublished item
    is then a ValidationError on ``target_id``. For a new resident the target's
    check, the resident and the rating are one statement (``_rating_insert_new``).
    """
    _score_check(score)
    # A resident made in this request has no earlier rating to look up or to hold.
    new_resident = source is not None and source.new_resident
    if isinstance(target, TargetRef):
        # The one statement is PostgreSQL's (a WITH that inserts); SQLite, the embedded
        # default, takes the ORM's path below.
        if new_resident and connection.vendor == "postgresql":
            return _rating_insert_new(resident_key_hash, target, score, district, source)
        target = rating_target_get(kind=target.kind, pk=target.pk)
        if target is None:
            raise _target_unknown()
    _target_check_public(target)
    field = target_scope(target)
    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district, new=new_resident)
        previous_district = (
            None
            if new_resident
            else Rating.objects.filter(resident=resident, **{field: target})
            .values_list("district_id", flat=True)
            .first()
        )
        rating = Rating(
            resident=resident,
            score=score,
            district=resident.district,
            **{field: target},
            **_screened_fields(source),
        )
        update_fields = ["score", "district", "updated_at"]
        if source is not None:
            # The current score's source is the one the anomaly rules look at.
            update_fields.append("source_hash")
        Rating.objects.bulk_create(
            [rating],
            update_conflicts=True,
            unique_fields=["resident", field],
            update_fields=update_fields,
        )
        if not new_resident:
            _hold_if_counted(Rating.objects.filter(pk=rating.pk), source)
        hooks.notify("feedback_stored", rating=rating)
        keys = target_aggregate_keys(target, rating.district_id)
        if previous_district and previous_district != rating.district_id:
            keys.append(aggregate_key(AggregateScope.DISTRICT, previous_district))
        aggregates_refresh_queue(keys=keys)
    return rating


# --- A new resident's rating: one statement ----------------------------------------------
#
# A resident whose id was made in this request (no cookie came) has no row and no
# earlier rating: the rating is two INSERTs, after the target's publication check.
# Through the ORM those three are most of a rating POST's work (building, compiling
# and instantiating each query costs far more than PostgreSQL's side), so they go out
# as one statement: the target, read under ``public_q`` as the ORM compiled it once per
# process, feeds the resident's INSERT, which feeds the rating's. An unpublished or
# unknown target selects no row, so nothing is inserted and the answer is the same 400
# as before; the values inserted are what the ORM would write (``pre_save`` and
# ``get_db_prep_save`` of every field: defaults, ``auto_now``).

# Stand-ins compiled into the target's query, replaced by the request's values.
_PK_STANDIN = -7_316_000_001
_NOW_STANDIN = datetime(1901, 2, 3, 4, 5, 6, 789, tzinfo=UTC)


@dataclass(frozen=True)
class _NewRatingStatement:
    """The statement for one kind of target, with where each request's values go."""

    sql: str
    prepared: Statement  # the same SQL, prepared once per connection (indicators.compiled)
    params: tuple  # the target's query's, with the stand-ins
    pk_at: int
    now_at: tuple[int, ...]
    resident_fields: tuple[models.Field, ...]
    rating_fields: tuple[models.Field, ...]  # all but the key, the resident and the target
    resident_plan: tuple  # per field: (True, its constant database value) or (False, None)
    rating_plan: tuple


_statements: dict[str, _NewRatingStatement] = {}


def _columns(fields: tuple[models.Field, ...]) -> str:
    return ", ".join(connection.ops.quote_name(field.column) for field in fields)


# The fields of the resident and the rating a request sets; the others take their defaults.
_SET_BY_REQUEST = frozenset({"key_hash", "district", "score", "trust", "hold_reason", "source_hash"})


def _value_plan(fields: tuple[models.Field, ...]) -> tuple:
    """For each field, its database value when the same for every new row (a default that
    is no callable, of a field no request sets and not ``auto_now``): computed once."""
    plan = []
    for field in fields:
        varies = (
            field.name in _SET_BY_REQUEST
            or getattr(field, "auto_now", False)
            or getattr(field, "auto_now_add", False)
            or (field.has_default() and callable(field.default))
        )
        plan.append(
            (False, None) if varies else (True, field.get_db_prep_save(field.get_default(), connection))
        )
    return tuple(plan)


def _new_rating_statement(kind: str) -> _NewRatingStatement:
    """Built once per process and kind, from the ORM's own SQL and the models' fields."""
    if kind in _statements:
        return _statements[kind]
    model = Indicator if kind == "indicator" else Story
    target = (
        model.objects.filter(public_q(now=_NOW_STANDIN), public_q("edition__", now=_NOW_STANDIN))
        .filter(pk=_PK_STANDIN)
        .order_by()
        .values_list("pk", "chapter_id")
    )
    target_sql, params = target.query.sql_with_params()
    pk_at = [i for i, value in enumerate(params) if value == _PK_STANDIN]
    now_at = tuple(i for i, value in enumerate(params) if value == _NOW_STANDIN)
    if len(pk_at) != 1 or len(now_at) != 2:  # the ORM compiled it otherwise: say so at once
        raise RuntimeError(f"Unexpected SQL for a {kind}'s publication check: {target_sql} {params}")
    resident_fields = tuple(f for f in Resident._meta.concrete_fields if not f.primary_key)
    target_field = Rating._meta.get_field(kind)
    rating_fields = tuple(
        f
        for f in Rating._meta.concrete_fields
        if not f.primary_key and f.name not in ("resident", target_field.name)
    )
    resident_table = connection.ops.quote_name(Resident._meta.db_table)
    rating_table = connection.ops.quote_name(Rating._meta.db_table)
    resident_column = connection.ops.quote_name(Rating._meta.get_field("resident").column)
    values = ", ".join(["%s"] * len(rating_fields))
    sql = (
        f"WITH target (id, chapter_id) AS ({target_sql}), "  # noqa: S608 - names from the models, values as parameters
        f"resident AS (INSERT INTO {resident_table} ({_columns(resident_fields)}) "
        f"SELECT {', '.join(['%s'] * len(resident_fields))} FROM target RETURNING id), "
        f"rating AS (INSERT INTO {rating_table} "
        f"({resident_column}, {connection.ops.quote_name(target_field.column)}, {_columns(rating_fields)}) "
        f"SELECT resident.id, target.id, {values} FROM resident, target RETURNING id, {resident_column}) "
        f"SELECT rating.id, rating.{resident_column}, target.chapter_id FROM rating, target"
    )
    # PostgreSQL planned this statement (three CTEs) in more time than it ran it: each
    # parameter has its type, the target's id a bigint (a larger id runs the plain SQL and
    # finds nothing, as before), the other values their columns'.
    types = ["unknown"] * len(params)
    types[pk_at[0]] = "bigint"
    for i in now_at:
        types[i] = "timestamptz"
    types += [field.db_type(connection) for field in (*resident_fields, *rating_fields)]
    _statements[kind] = _NewRatingStatement(
        sql,
        sql_statement(connection.alias, sql, types, integers=pk_at),
        tuple(params),
        pk_at[0],
        now_at,
        resident_fields,
        rating_fields,
        _value_plan(resident_fields),
        _value_plan(rating_fields),
    )
    return _statements[kind]


class _NewRow:
    """A new row of ``model`` as ``Field.pre_save`` sees an unsaved instance: the attributes
    given, and any other field's default, made when asked for (as ``Model.__init__`` sets
    it). For the resident, of whom the statement needs only its values: building the
    model instance (every field, the init signals) cost more than computing them."""

    def __init__(self, model: type[models.Model], **given: object) -> None:
        self._meta = model._meta
        self.__dict__.update(given)

    def __getattr__(self, attname: str) -> object:
        field = next((f for f in self._meta.concrete_fields if f.attname == attname), None)
        if field is None:
            raise AttributeError(attname)
        value = field.get_default()
        setattr(self, attname, value)
        return value


def _insert_values(
    obj: models.Model | _NewRow, fields: tuple[models.Field, ...], plan: tuple, db: BaseDatabaseWrapper
) -> list:
    """What the ORM's INSERT of ``obj`` would write in ``fields`` (defaults, ``auto_now``…):
    the constants of ``plan``, and for the rest what the ORM computes for each row. ``db``:
    the connection itself, not ``django.db.connection``, whose every attribute is looked
    up in the thread's state (a date field asks it for ``ops`` and ``features``)."""
    return [
        value if constant else field.get_db_prep_save(field.pre_save(obj, True), db)
        for field, (constant, value) in zip(fields, plan, strict=True)
    ]


@functools.cache
def _rating_foreign_keys_unset() -> dict[str, None]:
    """The rating's foreign keys none of which a new row sets (``None``, their default),
    given to ``Rating()`` outright: asking each for its default took longer than the
    rest of the instance. The request's own target replaces its; the district is given
    as the instance (a low rating's case reads it), so it is not among them."""
    return {
        field.attname: None
        for field in Rating._meta.concrete_fields
        if field.many_to_one and not field.has_default() and field.name != "district"
    }


def _rating_insert_new(
    key_hash: str, ref: TargetRef, score: int, district: District | None, source: SubmissionSource
) -> Rating:
    """``rating_submit`` for a resident made in this request: one statement (above)."""
    if ref.kind not in _RATING_TARGET_FIELDS:
        raise _target_unknown()
    statement = _new_rating_statement(ref.kind)
    params = list(statement.params)
    params[statement.pk_at] = ref.pk
    now = timezone.now()
    for i in statement.now_at:
        params[i] = now
    resident = _NewRow(Resident, key_hash=key_hash, district_id=district.pk if district else None)
    given = {"score": score, "district": district, f"{ref.kind}_id": ref.pk, **_screened_fields(source)}
    rating = Rating(**(_rating_foreign_keys_unset() | given))
    db = connections[DEFAULT_DB_ALIAS]
    params += _insert_values(resident, statement.resident_fields, statement.resident_plan, db)
    params += _insert_values(rating, statement.rating_fields, statement.rating_plan, db)
    if hooks.acting("feedback_stored", rating=rating):
        # A receiver writes (a low rating's review case): it commits or rolls back with the rating.
        with transaction.atomic():
            return _rating_store_new(statement.prepared, params, ref, rating)
    # Nothing else writes: the one statement is atomic by itself, so in autocommit it needs
    # no BEGIN and COMMIT around it (two round trips and Django's transaction bookkeeping).
    # Outside a transaction ``on_commit`` runs its function at once, i.e. after the commit.
    return _rating_store_new(statement.prepared, params, ref, rating)


def _rating_store_new(statement: Statement, params: list, ref: TargetRef, rating: Rating) -> Rating:
    rows = statement_rows(statement, params)
    if not rows:  # the target is unknown or not public: nothing was inserted
        raise _target_unknown()
    rating.pk, rating.resident_id, chapter_id = rows[0]
    hooks.notify("feedback_stored", rating=rating)
    aggregates_refresh_queue(
        keys=item_aggregate_keys(ref.kind, ref.pk, chapter_id=chapter_id, district_id=rating.district_id)
    )
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


def _survey_check_open(survey: Survey) -> None:
    if not survey.is_public:
        raise ValidationError({"survey": _("该问卷未发布。")}, code="unpublished")
    now = timezone.now()
    if now < survey.opens_at:
        raise ValidationError({"survey": _("问卷尚未开始。")}, code="not_open")
    if now >= survey.closes_at:
        raise ValidationError({"survey": _("问卷已截止，答卷不能再修改。")}, code="closed")


def _answer_errors(answer: AnswerInput, question: SurveyQuestion, key: str) -> dict[str, list]:
    errors: dict[str, list] = {}
    try:
        _score_check(answer.score, field=key)
    except ValidationError as error:
        errors[key] = list(error.error_dict[key])
    text = (answer.comment or "").strip()
    if len(text) > COMMENT_MAX_LENGTH:
        errors.setdefault(f"{key}_comment", []).append(
            ValidationError(_("补充意见最多 1000 字。"), code="too_long")
        )
    if text and not question.allow_comment:
        errors.setdefault(f"{key}_comment", []).append(
            ValidationError(_("该题不收补充意见。"), code="no_comment")
        )
    return errors


def _survey_answers_clean(
    questions: dict[int, SurveyQuestion], answers: Sequence[AnswerInput]
) -> dict[int, AnswerInput]:
    """Every question answered once with a 1–5 score; free text ≤ 1000 characters."""
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
        for field, field_errors in _answer_errors(answer, question, key).items():
            errors.setdefault(field, []).extend(field_errors)
        given[answer.question_id] = AnswerInput(
            answer.question_id, answer.score, (answer.comment or "").strip()
        )
    for question_id in questions.keys() - given.keys():
        errors.setdefault(f"question_{question_id}", []).append(
            ValidationError(_("请为这一项打分。"), code="required")
        )
    if not questions:
        errors.setdefault("survey", []).append(ValidationError(_("该问卷没有题目。"), code="empty"))
    if errors:
        raise ValidationError(errors)
    return given


def survey_response_submit(
    *,
    resident_key_hash: str,
    survey: Survey,
    answers: Sequence[AnswerInput],
    district: District | None = None,
    source: SubmissionSource | None = None,
) -> SurveyResponse:
    """Store (or change) the resident's one response to a survey while it is open.

    Every question must be answered with a 1–5 score; free text is optional
    and at most 1000 characters.
    """
    _survey_check_open(survey)
    questions = {q.pk: q for q in survey.questions.all()}
    given = _survey_answers_clean(questions, answers)

    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district)
        screened = _screened_fields(source)
        response, created = SurveyResponse.objects.get_or_create(
            survey=survey, resident=resident, defaults={"district": resident.district, **screened}
        )
        if not created:
            response.district = resident.district
            fields = ["district", "updated_at"]
            if source is not None:
                response.source_hash = source.source_hash
                fields.append("source_hash")
            response.save(update_fields=fields)
            _hold_if_counted(SurveyResponse.objects.filter(pk=response.pk), source)
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
                hooks.notify("feedback_stored", answer=row)
        keys = [aggregate_key(AggregateScope.QUESTION, q) for q in questions]
        keys.append(aggregate_key(AggregateScope.SURVEY, survey.pk))
        aggregates_refresh_queue(keys=keys)
    return response


# --- Comments --------------------------------------------------------------------------


def _comment_clean(body: str, nickname: str) -> tuple[str, str]:
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
    return body, nickname


def comment_submit(
    *,
    resident_key_hash: str,
    target: Target,
    body: str,
    nickname: str = "",
    district: District | None = None,
    source: SubmissionSource | None = None,
) -> Comment:
    """Store a comment: pending under pre-moderation, public at once under
    post-moderation unless something in it, or its source, holds it for a person."""
    body, nickname = _comment_clean(body, nickname)
    _target_check_public(target)

    reasons = list(comment_hold_reasons(body))
    if source is not None and source.held:
        reasons.append(source.hold_reason)
    with transaction.atomic():
        resident = resident_get_or_create(key_hash=resident_key_hash, district=district)
        # A verified resident (后台实名) may have a lighter setting; whatever holds a comment still does.
        verified = resident.is_verified
        moderation = settings.COMMENT_MODERATION_VERIFIED if verified else settings.COMMENT_MODERATION
        public_at_once = moderation == "post" and not reasons
        comment = Comment.objects.create(
            resident=resident,
            body=body,
            nickname=nickname,
            district=district,
            moderation_state=ModerationState.APPROVED if public_at_once else ModerationState.PENDING,
            moderated_at=timezone.now() if public_at_once else None,
            held_reason="；".join(str(r) for r in reasons)[:HELD_REASON_MAX_LENGTH],
            **{target_scope(target): target},
        )
        if public_at_once:
            comment_pages_changed(comment)
        hooks.notify("feedback_stored", comment=comment)
    return comment
