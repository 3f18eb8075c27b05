"""Writes of the published report that staff make: publication.

Editions, indicators and stories are public only when published *and* their
publish date has come (``indicators.models.public_q``). Staff publish and
unpublish from the admin's list actions, which call these services; loading a
report data file is ``indicators.loader``.
"""

from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from indicators.models import PublishStatus, public_q


def _touch_fields(model: type[models.Model], now: datetime) -> dict[str, Any]:
    # ``QuerySet.update`` skips ``auto_now``; keep "updated at" honest by hand.
    names = {f.name for f in model._meta.concrete_fields}
    return {"updated_at": now} if "updated_at" in names else {}


@transaction.atomic
def publishable_publish(*, queryset: models.QuerySet) -> int:
    """Publish every row of ``queryset`` that is not public yet, as of now.

    Drafts and rows scheduled for a later date become public at once; rows
    that are already public keep their original publish date. Returns the
    number of rows that changed.
    """
    now = timezone.now()
    pending = queryset.exclude(public_q(now=now))
    touched = _touch_fields(queryset.model, now)
    return pending.update(status=PublishStatus.PUBLISHED, published_at=now, **touched)


@transaction.atomic
def publishable_unpublish(*, queryset: models.QuerySet) -> int:
    """Turn every published or scheduled row of ``queryset`` back into a draft.

    The publish date is cleared, so publishing again later dates from then.
    Returns the number of rows that changed.
    """
    now = timezone.now()
    published = queryset.filter(status=PublishStatus.PUBLISHED)
    touched = _touch_fields(queryset.model, now)
    return published.update(status=PublishStatus.DRAFT, published_at=None, **touched)
