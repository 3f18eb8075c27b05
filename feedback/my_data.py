"""A resident's right to erase what they submitted (PIPL), without erasing the public record."""

from django.db import transaction
from django.utils import timezone

from feedback import hooks
from feedback.aggregates import resident_aggregate_keys
from feedback.caching import comment_pages_changed
from feedback.models import Comment, OfficialReply, Rating, ReplyRating, Resident, SurveyAnswer
from feedback.tasks import aggregates_refresh_queue


def resident_data_delete(*, resident_key_hash: str) -> bool:
    """Erase everything that is the resident's; keep what the city answered.

    - ratings, survey responses and answers, the ratings they gave replies,
      their phone verification and notification e-mail are deleted: the
      aggregates follow;
    - their comments stay as part of the public record (a reply beneath one
      still answers it) but are anonymised: body, nickname, district, hold
      reason and the link to the resident are cleared, ``author_deleted_at``
      is set (居民已删除原文);
    - replies to deleted ratings and answers stay, marked ``source_deleted_at``;
    - apps above keep their record (``resident_data_deleting``: the review
      cases stay with their history, notes, assignment and timings).

    Returns False when there was nothing stored.
    """
    with transaction.atomic():
        resident = Resident.objects.select_for_update().filter(key_hash=resident_key_hash).first()
        if resident is None:
            return False
        keys = resident_aggregate_keys(resident)
        comment_ids = list(Comment.objects.filter(resident=resident).values_list("pk", flat=True))
        answer_ids = list(
            SurveyAnswer.objects.filter(response__resident=resident).values_list("pk", flat=True)
        )
        rating_ids = list(Rating.objects.filter(resident=resident).values_list("pk", flat=True))
        hooks.notify(
            "resident_data_deleting", comment_ids=comment_ids, answer_ids=answer_ids, rating_ids=rating_ids
        )
        now = timezone.now()
        ReplyRating.objects.filter(reply__resident=resident).delete()
        OfficialReply.objects.filter(resident=resident).exclude(comment__isnull=False).update(
            source_deleted_at=now
        )
        OfficialReply.objects.filter(resident=resident).update(resident=None)
        # Their public comments will read 市民已删除原文: those pages are built afresh.
        for comment in Comment.objects.filter(pk__in=comment_ids).only("indicator", "story"):
            comment_pages_changed(comment)
        Comment.objects.filter(pk__in=comment_ids).update(
            body="", nickname="", district=None, held_reason="", resident=None, author_deleted_at=now
        )
        resident.delete()
        aggregates_refresh_queue(keys=keys)
    return True
