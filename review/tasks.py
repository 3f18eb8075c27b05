"""Celery tasks of the review workspace: thin wrappers over ``review.notifications``."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from kombu.exceptions import OperationalError

from review import accountability, notifications

logger = logging.getLogger(__name__)
ACCOUNTABILITY_PENDING_KEY = "review:accountability-refresh-pending"


@shared_task(name="review.tasks.case_assigned_notify")
def case_assigned_notify(case_id: int) -> bool:
    """E-mail the current assignee of a case; quiet if the case or assignee is gone."""
    return notifications.case_assigned_email_send(case_id=case_id)


@shared_task(name="review.tasks.planner_digest_send")
def planner_digest_send() -> int:
    """Send each planner the digest of the last 24 h (beat: daily 08:00); returns how many were sent."""
    return notifications.planner_digests_send()


@shared_task(name="review.tasks.accountability_refresh", ignore_result=True)
def accountability_refresh() -> int:
    """Recompute the public accountability figures (beat: every ACCOUNTABILITY_REFRESH_MINUTES)."""
    return accountability.accountability_refresh()


def accountability_refresh_queue() -> None:
    """After the current transaction commits, queue one refresh (coalesced in the shared cache)."""
    transaction.on_commit(_accountability_refresh_enqueue, robust=True)


def _accountability_refresh_enqueue() -> None:
    # One refresh per delay for a burst of answers; the periodic run repairs a lost one.
    if cache.add(ACCOUNTABILITY_PENDING_KEY, 1, settings.ACCOUNTABILITY_REFRESH_DELAY) is False:
        return
    try:
        accountability_refresh.apply_async(countdown=settings.ACCOUNTABILITY_REFRESH_DELAY)
    except OperationalError:
        logger.warning("Broker unavailable: accountability refresh not queued")
        cache.delete(ACCOUNTABILITY_PENDING_KEY)
