"""Celery tasks of the participation app, and how submissions queue them.

Both tasks are idempotent recomputations from the raw rows, so running one
twice, or again after a worker was killed mid-task (``acks_late``: the
message goes back to the queue), gives the same aggregates.

``aggregates_refresh_queue`` is how a write asks for a refresh: after its
commit the affected aggregates are marked "refresh queued" in the shared
cache and one task is queued for those not already marked, so a burst of
ratings on one item costs one recomputation per ``AGGREGATE_REFRESH_DELAY``,
not one per rating. If the broker is down the submission still stands; the
periodic ``aggregates_reconcile`` recomputes everything from the raw rows.
"""

import logging
from collections.abc import Iterable
from functools import partial

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError

from feedback import aggregates, cache_batch, notifications
from feedback.models import Resident

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def aggregates_refresh(keys: list[str]) -> int:
    """Refresh the named aggregates (``"indicator:12"``, ``"chapter:3"`` …)."""
    return len(aggregates.aggregates_refresh(keys=keys))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def aggregates_reconcile() -> dict[str, int]:
    """Recompute every aggregate (Celery beat, every RECONCILE_EVERY_MINUTES)."""
    return aggregates.aggregates_reconcile()


def aggregates_refresh_queue(*, keys: Iterable[str]) -> None:
    """After the current transaction commits, queue one refresh of ``keys`` (at once when
    no transaction is open: a statement in autocommit has committed when it returns)."""
    wanted = sorted(set(keys))
    if wanted:
        transaction.on_commit(partial(_aggregates_refresh_enqueue, wanted))


def _aggregates_refresh_enqueue(keys: list[str]) -> None:
    # SET NX with a TTL for every key, in one round trip: True for the first
    # submission of a burst, False while a refresh is already queued, None when
    # Redis is down; then we try to queue anyway.
    added = cache_batch.marks_add(
        [aggregates.PENDING_PREFIX + key for key in keys], settings.AGGREGATE_REFRESH_PENDING_TTL
    )
    marked = [key for key, new in zip(keys, added, strict=True) if new is not False]
    if not marked:
        return
    try:
        aggregates_refresh.apply_async(args=[marked], countdown=settings.AGGREGATE_REFRESH_DELAY)
    except OperationalError:
        # The submission is committed; the reconciliation repairs the aggregates.
        logger.warning("Broker unavailable: aggregate refresh of %s not queued", ",".join(marked))
        cache.delete_many([aggregates.PENDING_PREFIX + key for key in marked])


@shared_task(ignore_result=True)
def reply_notice_send(resident_id: int) -> bool:
    """Tell a resident who left an e-mail address that an answer waits (``feedback.notifications``)."""
    return notifications.reply_notice_send(resident_id=resident_id)


def reply_notice_queue(*, resident_id: int) -> None:
    """Queue the notice when the resident left an address; a broker outage loses only the e-mail."""
    if not Resident.objects.filter(pk=resident_id).exclude(notify_email="").exists():
        return
    try:
        reply_notice_send.delay(resident_id)
    except OperationalError:
        logger.warning("Broker unavailable: reply notice to resident %s not queued", resident_id)
