"""Celery tasks of the participation app: thin wrappers around services.

Both are idempotent recomputations from the raw rows, so running one twice,
or again after a worker was killed mid-task (``acks_late``: the message goes
back to the queue), gives the same aggregates.
"""

from celery import shared_task

from feedback import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def aggregates_refresh(keys: list[str]) -> int:
    """Refresh the named aggregates (``"indicator:12"``, ``"chapter:3"`` …)."""
    return len(services.aggregates_refresh(keys=keys))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def aggregates_reconcile() -> dict[str, int]:
    """Recompute every aggregate (Celery beat, every RECONCILE_EVERY_MINUTES)."""
    return services.aggregates_reconcile()
