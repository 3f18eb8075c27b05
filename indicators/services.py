"""Writes of the published report that staff make: publication, and the photo files.

Editions, indicators and stories are public only when published *and* their
publish date has come (``indicators.models.public_q``). Staff publish and
unpublish from the admin's list actions, which call these services; loading a
report data file is ``indicators.loader``.

Photo files live in the default storage (``STORAGES``: MEDIA_ROOT, or an S3
bucket). Django never removes a file when its row goes, so
``photo_files_prune`` (Celery beat, hourly) removes the files no photo refers to.
"""

import posixpath
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.core.files.storage import Storage
from django.db import models, transaction
from django.utils import timezone

from indicators import cache as page_cache
from indicators.models import Photo, PublishStatus, public_q


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
    page_cache.report_changed(years=page_cache.content_years_of(pending))
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
    page_cache.report_changed(years=page_cache.content_years_of(published))
    return published.update(status=PublishStatus.DRAFT, published_at=None, **touched)


# Every uploaded photo sits below this folder of the storage (``Photo.image``'s ``upload_to``).
PHOTO_FOLDER = Photo._meta.get_field("image").upload_to.split("/")[0]


def _storage_files(storage: Storage, folder: str) -> Iterator[str]:
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:
        # A filesystem storage has no folder until the first upload; a bucket lists nothing.
        return
    for name in files:
        yield posixpath.join(folder, name)
    for sub in folders:
        yield from _storage_files(storage, posixpath.join(folder, sub))


def photo_files_prune(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Remove stored photo files that no photo refers to; return their names.

    A file is orphaned when staff delete its photo (or the story or edition
    holding it), or upload a replacement or clear it in the admin. Left behind,
    an image staff removed, perhaps because it showed a person, would stay public
    at its old URL. One sweep over the storage catches every one of those paths,
    where hooks on each would miss a cascade. Files younger than ``older_than``
    are kept: an upload is stored before the transaction saving its row commits.
    """
    storage = Photo._meta.get_field("image").storage
    cutoff = timezone.now() - older_than
    referenced = set(Photo.objects.exclude(image="").values_list("image", flat=True))
    removed = []
    for name in _storage_files(storage, PHOTO_FOLDER):
        if name not in referenced and storage.get_modified_time(name) < cutoff:
            storage.delete(name)
            removed.append(name)
    return removed
