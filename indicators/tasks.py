"""Celery tasks of the report app: they call ``indicators.services`` and nothing else."""

from celery import shared_task

from indicators import services


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def photo_files_prune() -> int:
    """Remove photo files no photo refers to (Celery beat, hourly); safe to run twice."""
    return len(services.photo_files_prune())
