"""Official replies as their authors see them, and what residents say of them.

The review workspace decides *what* to answer (``review.services``); this
module is the one place where the answer is stored where the resident can see
it, because the resident's pages (``/my-data/``, the item pages, ``/api/v1/me/``)
belong to this app and must not read the app above.

- ``reply_write``: the reply and/or closing note to one comment, survey answer
  or rating, signed with a title (never a login name);
- ``reply_rate``: the author of the feedback (only) rates the reply;
- ``replies_seen_mark``: the resident opened ``/my-data/`` (the badge clears);
- ``resident_notify_email_set``: the optional address for reply notices.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback.caching import comment_pages_changed
from feedback.models import (
    REPLY_MAX_LENGTH,
    Comment,
    OfficialReply,
    Rating,
    ReplyRating,
    ReplyTarget,
    ReplyVerdict,
    Resident,
    SurveyAnswer,
)
from feedback.tasks import reply_notice_queue

Answered = Comment | SurveyAnswer | Rating


def _target_fields(target: Answered) -> dict:
    if isinstance(target, Comment):
        return {"target_kind": ReplyTarget.COMMENT, "comment": target, "resident_id": target.resident_id}
    if isinstance(target, SurveyAnswer):
        return {
            "target_kind": ReplyTarget.SURVEY_ANSWER,
            "survey_answer": target,
            "resident_id": target.response.resident_id,
        }
    return {"target_kind": ReplyTarget.RATING, "rating": target, "resident_id": target.resident_id}


def _text(value: str | None, *, label: str) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > REPLY_MAX_LENGTH:
        raise ValidationError(
            _("%(label)s不能超过 %(n)d 字。") % {"label": label, "n": REPLY_MAX_LENGTH}, code="too_long"
        )
    return value


@transaction.atomic
def reply_write(
    *,
    target: Answered,
    author: AbstractBaseUser,
    author_title: str,
    body: str | None = None,
    closing_note: str | None = None,
) -> OfficialReply:
    """Write (or change) the reply to ``target``; ``None`` leaves a part as it is.

    The resident sees it at once on ``/my-data/`` (and, for a comment, beneath
    it); a changed reply counts as new for their badge, and when they left an
    e-mail address they are told after the commit.
    """
    author_title = (author_title or "").strip()
    if not author_title:
        raise ValidationError(_("答复须有公开署名。"), code="no_title")
    body = _text(body, label=_("答复"))
    closing_note = _text(closing_note, label=_("办结说明"))
    fields = _target_fields(target)
    lookup = {fields["target_kind"]: fields.pop(fields["target_kind"])}
    reply = OfficialReply.objects.select_for_update().filter(**lookup).first()
    if reply is None:
        reply = OfficialReply(**lookup, **fields)
    if body is not None:
        reply.body = body
    if closing_note is not None:
        reply.closing_note = closing_note
    if not (reply.body or reply.closing_note):
        raise ValidationError(_("答复不能为空。"), code="blank")
    reply.author = author
    reply.author_title = author_title
    reply.save()
    if isinstance(target, Comment):
        # The item's cached pages show the comment with its reply.
        comment_pages_changed(target)
    if isinstance(target, Comment):
        comment_pages_changed(target)  # a reply to a comment shows beneath it
    if reply.resident_id:
        resident_id = reply.resident_id
        transaction.on_commit(lambda: reply_notice_queue(resident_id=resident_id), robust=True)
    return reply


def reply_for_resident(*, resident_key_hash: str, reply_id: int) -> OfficialReply:
    """The reply ``reply_id`` if it answers this resident's feedback, else ``ObjectDoesNotExist``."""
    return OfficialReply.objects.get(pk=reply_id, resident__key_hash=resident_key_hash)


@transaction.atomic
def reply_rate(
    *, resident_key_hash: str, reply_id: int, verdict: str, solved: bool | None = None
) -> ReplyRating:
    """The author's one (changeable) rating of a reply; anyone else gets ``ObjectDoesNotExist``."""
    if verdict not in ReplyVerdict.values:
        raise ValidationError({"verdict": _("请选择满意、基本满意或不满意。")}, code="invalid")
    reply = reply_for_resident(resident_key_hash=resident_key_hash, reply_id=reply_id)
    rating, _created = ReplyRating.objects.update_or_create(
        reply=reply, defaults={"verdict": verdict, "solved": solved}
    )
    return rating


def replies_seen_mark(*, resident_key_hash: str) -> None:
    """The resident has seen their replies: the "new replies" badge clears."""
    Resident.objects.filter(key_hash=resident_key_hash).update(replies_seen_at=timezone.now())


def resident_notify_email_set(*, resident_key_hash: str, email: str) -> Resident:
    """Keep (or, with ``""``, forget) the address reply notices go to."""
    email = (email or "").strip()
    if email:
        validate_email(email)
    try:
        resident = Resident.objects.get(key_hash=resident_key_hash)
    except ObjectDoesNotExist:
        raise ValidationError(
            {"email": _("本浏览器还没有提交过反馈，无需通知。")}, code="no_resident"
        ) from None
    resident.notify_email = email
    resident.save(update_fields=["notify_email"])
    return resident
