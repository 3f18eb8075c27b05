"""Moderation of residents' comments: what holds one, and the one decision.

``comment_hold_reasons`` says why a new comment must wait for a person even
under post-moderation; ``comment_moderate`` is the only way a comment is
approved or rejected — the admin, the planners' workspace and any other
caller use it, so the rules (a rejection needs a reason, a decided comment is
not decided again) hold everywhere. Apps above register for
``comment_moderated`` (see ``feedback.hooks``) to keep their history.
"""

import re

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from feedback import hooks
from feedback.models import MODERATION_REASON_MAX_LENGTH, Comment, ModerationState, SensitiveWord

# http(s)://…, www.…, or anything shaped like a domain name (example.com, a.b.cn/x).
LINK_PATTERN = re.compile(
    r"(https?://|www\.|\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9-]+)*\.[a-z]{2,}\b)",
    re.IGNORECASE,
)
# ``Comment.held_reason`` is a short column: reasons are joined and cut to it.
HELD_REASON_MAX_LENGTH = Comment._meta.get_field("held_reason").max_length


def comment_hold_reasons(body: str) -> list[str]:
    """Why a comment must wait for a moderator even under post-moderation."""
    reasons = []
    lowered = body.casefold()
    words = [w for w in SensitiveWord.objects.values_list("word", flat=True) if w.casefold() in lowered]
    if words:
        reasons.append(_("含敏感词：%(words)s") % {"words": "、".join(words)})
    if LINK_PATTERN.search(body):
        reasons.append(_("含链接"))
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
    before = comment.get_moderation_state_display()
    comment.moderation_state = ModerationState.APPROVED if approve else ModerationState.REJECTED
    comment.moderation_reason = reason
    comment.moderated_by = moderator
    comment.moderated_at = timezone.now()
    comment.save(update_fields=["moderation_state", "moderation_reason", "moderated_by", "moderated_at"])
    hooks.notify("comment_moderated", comment=comment, moderator=moderator, before=before, reason=reason)
    return comment
