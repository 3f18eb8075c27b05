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

In a web worker (gunicorn's ``post_worker_init`` calls ``refresh_batching_start``)
the marks are not set by the request that committed: it hands its keys to the
process's ``_RefreshBatch``, whose thread marks the keys of all the requests of
the last ``AGGREGATE_REFRESH_BATCH_SECONDS`` together, one round trip to Redis
where each request made its own (a storm of ratings on one item: one every 50 ms
per process instead of several hundred a second). Nothing about the refresh
changes: the marks are still set after the commit, so a refresh that has begun
reads every rating they stand for, and the refresh still starts
``AGGREGATE_REFRESH_DELAY`` after the first mark of a burst. What a worker
holds when it stops is marked as it exits (``atexit``: gunicorn's workers end
with ``sys.exit``); only a worker killed outright (SIGKILL, gunicorn's timeout) loses
its last batch's marks, which the reconciliation repairs, as it does a
Redis or broker outage.
"""

import atexit
import logging
import os
import threading
import time
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
        transaction.on_commit(partial(_aggregates_refresh_request, wanted))


def _aggregates_refresh_request(keys: list[str]) -> None:
    if not _refresh_batch.add(keys):
        _aggregates_refresh_enqueue(keys)


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


class _RefreshBatch:
    """The keys this process's requests asked to refresh since its thread last marked them.

    Off (``add`` answers False: the caller marks at once) until ``start`` in this
    process; a process forked from one that started it starts off, with nothing held
    (its parent's thread marks what the parent held).
    """

    def __init__(self) -> None:
        self._forked()

    def _forked(self) -> None:
        self._lock = threading.Lock()
        self._waiting = threading.Condition(self._lock)
        self._keys: set[str] = set()
        self._seconds = 0.0
        self._on = False  # in this process: a fork starts off (``_forked``)
        self._run_number = 0  # which start the running thread belongs to

    def start(self, seconds: float) -> bool:
        with self._lock:
            if self._on:
                return True
            if seconds <= 0:
                return False
            self._seconds, self._on = seconds, True
            self._run_number += 1
            run = self._run_number
        threading.Thread(target=self._run, args=(run,), name="aggregates-refresh-batch", daemon=True).start()
        return True

    def stop(self) -> None:
        """Back to marking in each request, once what is held is marked."""
        with self._lock:
            self._on = False
            self._run_number += 1
            self._waiting.notify_all()
        self.flush()

    def add(self, keys: list[str]) -> bool:
        with self._lock:
            if not self._on:
                return False
            if not self._keys:
                self._waiting.notify()
            self._keys.update(keys)
        return True

    def flush(self) -> None:
        """Mark (and queue) what is held, now, in the calling thread."""
        with self._lock:
            keys, self._keys = sorted(self._keys), set()
        if keys:
            try:
                _aggregates_refresh_enqueue(keys)
            except Exception:  # the thread must live on; the reconciliation repairs
                logger.exception("Aggregate refresh of %s not queued", ",".join(keys))

    def _run(self, run: int) -> None:
        while True:
            with self._lock:
                while not self._keys and self._run_number == run:
                    self._waiting.wait()
                if self._run_number != run:
                    return
            time.sleep(self._seconds)  # the rest of the burst joins this batch
            self.flush()


_refresh_batch = _RefreshBatch()
os.register_at_fork(after_in_child=_refresh_batch._forked)
# What a process holds as it exits is marked (nothing to do where batching never started).
atexit.register(_refresh_batch.flush)


def refresh_batching_start(seconds: float | None = None) -> bool:
    """Batch this process's refresh marks (a web worker: ``gunicorn.conf.py``); whether it does.

    Off with ``AGGREGATE_REFRESH_BATCH_SECONDS=0`` and where tasks run in the
    process (the embedded mode: a refresh run by the batch's thread would hold a
    database connection of its own).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return False
    return _refresh_batch.start(settings.AGGREGATE_REFRESH_BATCH_SECONDS if seconds is None else seconds)


def refresh_batching_flush() -> None:
    """Mark what the batch holds now (tests: without waiting for the thread)."""
    _refresh_batch.flush()


def refresh_batching_stop() -> None:
    """Mark what the batch holds and go back to marking in each request (tests)."""
    _refresh_batch.stop()


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
