"""Moderation of residents' comments: what holds one, and the one decision.

``comment_hold_reasons`` says why a new comment must wait for a person even
under post-moderation; ``comment_moderate`` is the only way a comment is
approved or rejected — the admin, the planners' workspace and any other
caller use it, so the rules (a rejection needs a reason, a decided comment is
not decided again) hold everywhere. Apps above register for
``comment_moderated`` (see ``feedback.hooks``) to keep their history.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import hooks
from feedback.caching import comment_pages_changed
from feedback.models import MODERATION_REASON_MAX_LENGTH, Comment, ModerationState, SensitiveWord
from feedback.textfilter import PersonalDataKind, screen

PERSONAL_DATA_LABELS = {
    PersonalDataKind.MOBILE: _("手机号"),
    PersonalDataKind.ID_CARD: _("身份证号"),
    PersonalDataKind.EMAIL: _("电子邮箱"),
    PersonalDataKind.QQ: _("QQ 号"),
}
# ``Comment.held_reason`` is a short column: reasons are joined and cut to it.
HELD_REASON_MAX_LENGTH = Comment._meta.get_field("held_reason").max_length


def comment_hold_reasons(body: str) -> list[str]:
    """Why a comment must wait for a moderator even under post-moderation.

    Matching is done on the normalised text (``feedback.textfilter``: NFKC,
    traditional→simplified, spaces, punctuation and zero-width characters
    inside words removed), so ``法 轮 功``, ``法輪功`` or ``ｗｗｗ．ｘ．ｃｏｍ``
    hold a comment as the plain spelling does. Personal data (a mobile
    number, an ID-card number, an e-mail address) holds it too, so that a
    person decides before a resident's contact details go public; the reason
    names only the kind, never the datum.
    """
    found = screen(body, SensitiveWord.objects.values_list("word", flat=True))
    reasons = []
    if found.words:
        reasons.append(_("含敏感词：%(words)s") % {"words": "、".join(found.words)})
    if found.links:
        reasons.append(_("含链接"))
    kinds = list(dict.fromkeys(kind for kind, _datum in found.personal_data))
    if kinds:
        labels = "、".join(str(PERSONAL_DATA_LABELS.get(kind, kind)) for kind in kinds)
        reasons.append(_("含个人信息：%(kinds)s") % {"kinds": labels})
    return reasons


def moderation_reason_check(*, approve: bool, reason: str) -> str:
    """The rule on a moderator's reason: required to reject, at most 300 characters."""
    reason = (reason or "").strip()
    if not approve and not reason:
        raise ValidationError(_("不通过时必须填写理由。"), code="reason_required")
    if len(reason) > MODERATION_REASON_MAX_LENGTH:
        raise ValidationError(_("理由不能超过 300 字。"), code="too_long")
    return reason


@transaction.atomic
def comment_moderate(
    *, comment: Comment, approve: bool, moderator: AbstractBaseUser, reason: str = ""
) -> Comment:
    """Approve (public from now on) or reject a pending comment.

    A rejection needs a reason (shown to its author); a comment already
    decided is refused, so two moderators cannot overrule each other silently.
    """
    reason = moderation_reason_check(approve=approve, reason=reason)
    comment = Comment.objects.select_for_update().get(pk=comment.pk)
    if comment.moderation_state != ModerationState.PENDING:
        raise ValidationError(_("该留言已审核过。"), code="already_moderated")
    before_state = comment.moderation_state
    comment.moderation_state = ModerationState.APPROVED if approve else ModerationState.REJECTED
    comment.moderation_reason = reason
    comment.moderated_by = moderator
    comment.moderated_at = timezone.now()
    comment.save(update_fields=["moderation_state", "moderation_reason", "moderated_by", "moderated_at"])
    comment_pages_changed(comment)
    hooks.notify(
        "comment_moderated", comment=comment, moderator=moderator, before_state=before_state, reason=reason
    )
    return comment
