"""Every write of the review workspace.

Functions are keyword-only, atomic, and lock the case (``select_for_update``)
before changing it, so two planners acting on one case at once are applied one
after the other. Each change writes a ``CaseEvent`` (who, when, what, before,
after). Notifications are queued with ``transaction.on_commit``.

The feedback app cannot import this one (it sits below it); ``ReviewConfig.ready``
registers ``case_open_on_feedback_stored``, ``case_record_moderation``,
``case_record_hold_decision`` and ``cases_record_feedback_deleted`` with
``feedback.hooks``, so a case opens inside the transaction that stores the
feedback, every moderation decision and every decision on a held rating —
from the admin too — is recorded in the case's history, and a case outlives
its resident's deletion of their data.

What the resident is told (the reply, the closing note) is written through
``feedback.replies``, because the resident's pages belong to the feedback app.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from feedback.models import (
    REPLY_MAX_LENGTH,
    Comment,
    ModerationState,
    OfficialReply,
    Rating,
    SurveyAnswer,
    TrustState,
)
from feedback.moderation import comment_moderate as feedback_comment_moderate
from feedback.replies import reply_write
from review.models import (
    CaseAction,
    CaseEvent,
    CaseKind,
    CaseResolution,
    CaseStatus,
    ReviewCase,
)
from review.routing import due_at_for, route_for_feedback
from review.selectors import case_answer, planner_covers_case, planner_title_for
from review.tasks import accountability_refresh_queue, case_assigned_notify

# Ratings at or below this score open a case (低分评价).
LOW_RATING_MAX = 2

# The one table of allowed status changes. "answered" additionally needs a
# public reply (checked in ``case_transition``).
TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.NEW: frozenset({CaseStatus.IN_REVIEW}),
    CaseStatus.IN_REVIEW: frozenset({CaseStatus.ANSWERED, CaseStatus.CLOSED}),
    CaseStatus.ANSWERED: frozenset({CaseStatus.CLOSED, CaseStatus.IN_REVIEW}),
    CaseStatus.CLOSED: frozenset({CaseStatus.IN_REVIEW}),
}


def _recorded() -> translation.override:
    """The history's own words (statuses, outcomes, trust states, hold reasons) in the site's
    language: a case has one history, which every planner reads, so its texts do not depend
    on the language of whoever acted (a resident on the English site opening a case, a
    planner using the English workspace). What people wrote is kept as they wrote it."""
    return translation.override(settings.LANGUAGE_CODE)


def _event(
    *, case: ReviewCase, actor: AbstractBaseUser | None, action: str, before: str = "", after: str = ""
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, actor=actor, action=action, before=str(before or ""), after=str(after or "")
    )


# --- Opening cases (called by the feedback app) -------------------------------


def _open(*, lookup: dict, defaults: dict) -> ReviewCase:
    # get_or_create retries the read after an IntegrityError on the one-to-one,
    # so two concurrent submissions of the same row end with one case.
    feedback = next(iter(lookup.values()))
    route = route_for_feedback(feedback)
    defaults = {**defaults, "district_id": route.district_id, "route": route.route}
    defaults["due_at"] = due_at_for(defaults["received_at"])
    case, created = ReviewCase.objects.get_or_create(**lookup, defaults=defaults)
    if created:
        with _recorded():
            opened = case.get_status_display()
        _event(case=case, actor=None, action=CaseAction.OPENED, after=opened)
    return case


def case_open_for_feedback(
    *,
    comment: Comment | None = None,
    answer: SurveyAnswer | None = None,
    rating: Rating | None = None,
) -> ReviewCase | None:
    """Open (or return) the review case of one feedback row; idempotent.

    - every comment opens a case;
    - a survey answer opens one when its free text (``comment``) is not blank;
    - a rating opens one when its score is 1 or 2. A rating later re-scored to
      3–5 keeps its case (the history stays); the queue always shows the
      rating's current score, so planners see that it was raised.

    Returns ``None`` when the row needs no case (and has none). Call it inside
    the transaction that saves the row: the case commits or rolls back with it.
    """
    if sum(x is not None for x in (comment, answer, rating)) != 1:
        raise ValueError("Pass exactly one of comment, answer, rating.")
    if comment is not None:
        return _open(lookup={"comment": comment}, defaults=_comment_case(comment))
    if answer is not None:
        if not (answer.comment or "").strip():
            return ReviewCase.objects.filter(survey_answer=answer).first()
        return _open(lookup={"survey_answer": answer}, defaults=_answer_case(answer))
    if rating.score > LOW_RATING_MAX:
        return ReviewCase.objects.filter(rating=rating).first()
    return _open(lookup={"rating": rating}, defaults=_rating_case(rating))


def feedback_opens_case(
    *,
    comment: Comment | None = None,
    answer: SurveyAnswer | None = None,
    rating: Rating | None = None,
) -> bool:
    """Whether ``case_open_on_feedback_stored`` acts on this row (its ``acts`` in
    ``feedback.hooks``): a comment, an answer with free text, a rating of 1–2.
    Reads only the row's score or text, so it may be asked before the row is stored."""
    if rating is not None:
        return rating.score <= LOW_RATING_MAX
    if answer is not None:
        return bool((answer.comment or "").strip())
    return True


def case_open_on_feedback_stored(
    *,
    comment: Comment | None = None,
    answer: SurveyAnswer | None = None,
    rating: Rating | None = None,
) -> None:
    """The ``feedback_stored`` receiver: ``case_open_for_feedback`` when the row needs a case.

    A rating of 3–5 or an answer without free text opens none, and the receiver's
    answer is not used, so the lookup of a case it may already have is skipped: on
    launch day most ratings are such, and that query was a fifth of a rating POST.
    Nor does it query anything then, so a new resident's rating of 3–5 needs no
    transaction around its one statement (``feedback.submissions``).
    """
    if feedback_opens_case(comment=comment, answer=answer, rating=rating):
        case_open_for_feedback(comment=comment, answer=answer, rating=rating)


def _item_fields(feedback: Comment | Rating) -> dict:
    """Where an item's feedback belongs: its chapter, and a story's street."""
    story = feedback.story if feedback.story_id else None
    indicator = feedback.indicator if feedback.indicator_id else None
    return {
        "street_id": story.street_id if story else None,
        "chapter_id": (indicator or story).chapter_id,
        "indicator": indicator,
        "story": story,
    }


# The district (the owner queue) is chosen by ``review.routing`` in ``_open``.


def _comment_case(comment: Comment) -> dict:
    return {
        "kind": CaseKind.COMMENT,
        "received_at": comment.created_at or timezone.now(),
        **_item_fields(comment),
    }


def _answer_case(answer: SurveyAnswer) -> dict:
    response = answer.response
    return {
        "kind": CaseKind.SURVEY_ANSWER,
        "score_snapshot": answer.score,
        "question_id": answer.question_id,
        "received_at": response.updated_at or timezone.now(),
    }


def _rating_case(rating: Rating) -> dict:
    return {
        "kind": CaseKind.RATING,
        "score_snapshot": rating.score,
        "received_at": rating.updated_at or timezone.now(),
        **_item_fields(rating),
    }


# --- Planner actions ------------------------------------------------------------


def _locked(case: ReviewCase) -> ReviewCase:
    return (
        ReviewCase.objects.select_for_update(of=("self",))
        .select_related("comment", "assignee")
        .get(pk=case.pk)
    )


@transaction.atomic
def case_transition(*, user: AbstractBaseUser, case: ReviewCase, to_status: str) -> ReviewCase:
    """Move a case along new → in review → answered → closed (see ``TRANSITIONS``)."""
    case = _locked(case)
    if to_status not in CaseStatus.values:
        raise ValidationError(_("未知的状态。"), code="unknown_status")
    before = case.status
    if to_status == CaseStatus.CLOSED and to_status in TRANSITIONS[before]:
        raise ValidationError(_("办结须选择办结结果，请使用“办结”表单。"), code="close_with_resolution")
    if to_status not in TRANSITIONS[before]:
        raise ValidationError(
            _("不能从“%(before)s”改为“%(after)s”。")
            % {"before": CaseStatus(before).label, "after": CaseStatus(to_status).label},
            code="invalid_transition",
        )
    if to_status == CaseStatus.ANSWERED and not ((reply := case_answer(case)) is not None and reply.body):
        raise ValidationError(_("尚未答复，不能标记为“已答复”。"), code="no_reply")
    case.status = to_status
    fields = ["status", "updated_at"]
    if before == CaseStatus.CLOSED:
        case.resolution, case.closed_at = "", None
        fields += ["resolution", "closed_at"]
    case.save(update_fields=fields)
    with _recorded():
        labels = str(CaseStatus(before).label), str(CaseStatus(to_status).label)
    _event(case=case, actor=user, action=CaseAction.STATUS, before=labels[0], after=labels[1])
    return case


@transaction.atomic
def case_assign(*, user: AbstractBaseUser, case: ReviewCase, assignee: AbstractBaseUser) -> ReviewCase:
    """Give the case to a planner whose area covers it; the assignee gets an e-mail."""
    case = _locked(case)
    if not planner_covers_case(assignee, case):
        raise ValidationError(_("只能指派给负责该区域的规划师。"), code="assignee_out_of_area")
    if case.assignee_id == assignee.pk:
        return case
    before = case.assignee.get_username() if case.assignee else ""
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    _event(case=case, actor=user, action=CaseAction.ASSIGN, before=before, after=assignee.get_username())
    case_id = case.pk
    # robust: a broker outage must not undo or fail the committed assignment.
    transaction.on_commit(lambda: case_assigned_notify.delay(case_id), robust=True)
    return case


@transaction.atomic
def case_note_add(*, user: AbstractBaseUser, case: ReviewCase, body: str) -> CaseEvent:
    """An internal note: kept in the history, never shown to the public."""
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("备注不能为空。"), code="blank")
    case = _locked(case)
    case.save(update_fields=["updated_at"])
    return _event(case=case, actor=user, action=CaseAction.NOTE, after=body)


def _feedback_locked(case: ReviewCase) -> Comment | SurveyAnswer | Rating:
    """The case's feedback row, locked; refused when the resident deleted it."""
    if case.comment_id:
        return Comment.objects.select_for_update().get(pk=case.comment_id)
    if case.survey_answer_id:
        return (
            SurveyAnswer.objects.select_for_update().select_related("response").get(pk=case.survey_answer_id)
        )
    if case.rating_id:
        return Rating.objects.select_for_update().get(pk=case.rating_id)
    raise ValidationError(_("市民已删除原文，无法再答复。"), code="feedback_deleted")


def _link_reply(case: ReviewCase, reply: OfficialReply, fields: list[str]) -> None:
    # The case keeps its reply even after the resident deletes the rating or
    # answer it replied to (the reply's own link to it then becomes empty).
    if case.reply_id != reply.pk:
        case.reply = reply
        fields.append("reply")


def _first_response(case: ReviewCase, fields: list[str]) -> None:
    if case.first_reply_at is None:
        case.first_reply_at = timezone.now()
        fields.append("first_reply_at")


@transaction.atomic
def case_reply(*, user: AbstractBaseUser, case: ReviewCase, body: str) -> OfficialReply:
    """Write or edit the one reply to the case's feedback, signed with the user's title.

    A comment's reply is public beneath it; a survey answer's or a rating's is
    private, on its author's "my data". Either way its author can rate it.
    """
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("答复不能为空。"), code="blank")
    if len(body) > REPLY_MAX_LENGTH:
        raise ValidationError(_("答复不能超过 4000 字。"), code="too_long")
    case = _locked(case)
    feedback = _feedback_locked(case)
    if isinstance(feedback, Comment) and feedback.moderation_state == ModerationState.REJECTED:
        raise ValidationError(_("未通过审核的留言不能公开答复。"), code="comment_rejected")
    previous = case_answer(case)
    before = previous.body if previous else ""
    reply = reply_write(target=feedback, author=user, author_title=planner_title_for(user), body=body)
    fields = ["updated_at"]
    _link_reply(case, reply, fields)
    _first_response(case, fields)
    case.save(update_fields=fields)
    _event(case=case, actor=user, action=CaseAction.REPLY, before=before, after=body)
    accountability_refresh_queue()
    return reply


@transaction.atomic
def case_close(*, user: AbstractBaseUser, case: ReviewCase, resolution: str, note: str = "") -> ReviewCase:
    """Close a case (办结) as solved or not, telling its author why when there was no reply.

    A case with no reply can be closed only with a note, which the author
    reads on "my data" (and which counts as the first response). With a
    reply, a note is optional and shown beside it.
    """
    note = (note or "").strip()
    if resolution not in CaseResolution.values:
        raise ValidationError(_("请选择办结结果。"), code="unknown_resolution")
    if len(note) > REPLY_MAX_LENGTH:
        raise ValidationError(_("办结说明不能超过 4000 字。"), code="too_long")
    case = _locked(case)
    before = case.status
    if CaseStatus.CLOSED not in TRANSITIONS[before]:
        raise ValidationError(
            _("不能从“%(before)s”改为“%(after)s”。")
            % {"before": CaseStatus(before).label, "after": CaseStatus.CLOSED.label},
            code="invalid_transition",
        )
    reply = case_answer(case)
    if not (reply and reply.body) and not note:
        raise ValidationError(
            _("尚未答复的反馈办结时必须填写办结说明（反馈者可见）。"), code="reason_required"
        )
    fields = ["status", "resolution", "closed_at", "updated_at"]
    if note and case.feedback_deleted_at is None:
        reply = reply_write(
            target=_feedback_locked(case),
            author=user,
            author_title=planner_title_for(user),
            closing_note=note,
        )
        _link_reply(case, reply, fields)
        _first_response(case, fields)
    case.status = CaseStatus.CLOSED
    case.resolution = resolution
    case.closed_at = timezone.now()
    case.save(update_fields=fields)
    with _recorded():
        closed = f"{CaseStatus.CLOSED.label}（{CaseResolution(resolution).label}）"
        before_label = str(CaseStatus(before).label)
    _event(
        case=case,
        actor=user,
        action=CaseAction.CLOSE,
        before=before_label,
        after=f"{closed}：{note}" if note else closed,
    )
    accountability_refresh_queue()
    return case


@transaction.atomic
def comment_moderate(*, user: AbstractBaseUser, case: ReviewCase, approve: bool, reason: str = "") -> Comment:
    """Approve or reject the case's pending comment, by the feedback app's one rule.

    The case's history is written by ``case_record_moderation``, which the
    feedback app calls back for every decision.
    """
    case = _locked(case)
    if not case.comment_id:
        raise ValidationError(_("只有留言需要审核。"), code="not_a_comment")
    return feedback_comment_moderate(comment=case.comment, approve=approve, moderator=user, reason=reason)


def case_record_moderation(
    *, comment: Comment, moderator: AbstractBaseUser, before_state: str, reason: str
) -> None:
    """Receiver of ``comment_moderated``: the decision goes into the case's history."""
    case = ReviewCase.objects.select_for_update(of=("self",)).filter(comment=comment).first()
    if case is None:
        return
    approved = comment.moderation_state == ModerationState.APPROVED
    with _recorded():
        before = str(ModerationState(before_state).label)
        after = comment.get_moderation_state_display()
    if reason:
        after = f"{after}：{reason}"
    case.save(update_fields=["updated_at"])
    _event(
        case=case,
        actor=moderator,
        action=CaseAction.APPROVE if approved else CaseAction.REJECT,
        before=before,
        after=after,
    )


def case_record_hold_decision(
    *, ratings: list[Rating], actor: AbstractBaseUser, release: bool, note: str
) -> None:
    """Receiver of ``ratings_hold_decided``: the decision goes into the history of
    each decided rating's case (low ratings have one), in one statement."""
    by_rating = {rating.pk: rating for rating in ratings}
    cases = list(
        ReviewCase.objects.select_for_update(of=("self",)).filter(rating__in=list(by_rating)).order_by("pk")
    )
    if not cases:
        return
    with _recorded():
        after = str(TrustState.COUNTED.label if release else TrustState.DISCARDED.label)
        held = str(TrustState.HELD.label)
        reasons = {rating.hold_reason: _(rating.hold_reason) for rating in ratings if rating.hold_reason}
    if note:
        after = f"{after}：{note}"
    events = []
    for case in cases:
        reason = by_rating[case.rating_id].hold_reason
        events.append(
            CaseEvent(
                case=case,
                actor=actor,
                action=CaseAction.TRUST,
                before=f"{held}：{reasons[reason]}" if reason else held,
                after=after,
            )
        )
    CaseEvent.objects.bulk_create(events)
    ReviewCase.objects.filter(pk__in=[case.pk for case in cases]).update(updated_at=timezone.now())


def cases_record_feedback_deleted(
    *, comment_ids: list[int], answer_ids: list[int], rating_ids: list[int]
) -> None:
    """Receiver of ``resident_data_deleting``: the cases stay, marked 居民已删除原文.

    Runs before the feedback rows go, so each case can be marked (its check
    constraint wants the mark once its link is empty) and its score kept.
    """
    cases = list(
        ReviewCase.objects.select_for_update(of=("self",))
        .filter(Q(comment__in=comment_ids) | Q(survey_answer__in=answer_ids) | Q(rating__in=rating_ids))
        .select_related("rating", "survey_answer")
        .order_by("pk")
    )
    if not cases:
        return
    now = timezone.now()
    for case in cases:
        case.score_snapshot = case.score
        case.feedback_deleted_at = now
        case.updated_at = now
    ReviewCase.objects.bulk_update(cases, ["score_snapshot", "feedback_deleted_at", "updated_at"])
    with _recorded():
        deleted = str(CaseAction.DELETED.label)
    CaseEvent.objects.bulk_create(
        [CaseEvent(case=case, actor=None, action=CaseAction.DELETED, after=deleted) for case in cases]
    )
