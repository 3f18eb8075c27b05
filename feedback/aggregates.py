"""Writes of the stored score aggregates: refresh some, reconcile all.

The maths (one grouped query, folded, upserted) is in ``aggregation``; this
module decides *which* aggregates a change touches and recomputes them. A
submission never recomputes anything itself: it queues a refresh after its
commit (``tasks.aggregates_refresh_queue``), and the periodic reconciliation
recomputes everything from the raw rows, so the stored figures converge to
the truth even after a lost message. Both tell the page cache which aggregates
they rewrote (``indicators.cache.aggregates_changed``): exactly the pages and
API answers showing those figures are built afresh.
"""

import logging
from collections.abc import Iterable

from django.core.cache import cache
from django.db import transaction

from feedback.aggregation import (
    AGGREGATE_UPDATE_FIELDS,
    SCOPES,
    aggregate_key,
    aggregate_key_parse,
    aggregates_upsert,
    scope_tallies,
    tally_to_aggregate,
)
from feedback.anomaly import ratings_screen, source_hashes_expire
from feedback.models import AggregateScope, Rating, Resident, ScoreAggregate, SurveyAnswer
from indicators import cache as page_cache
from indicators.models import Indicator, Story

logger = logging.getLogger(__name__)

# The cache key prefix that marks an aggregate "refresh queued" (see tasks).
PENDING_PREFIX = "feedback:aggregate-refresh-queued:"
_RECONCILE_BATCH = 500


def target_scope(target: Indicator | Story) -> str:
    """``"indicator"`` or ``"story"``: the aggregate scope, and the field naming the target."""
    return "indicator" if isinstance(target, Indicator) else "story"


def target_aggregate_keys(target: Indicator | Story, district_id: int | None) -> list[str]:
    """The aggregates one rating of ``target`` counts in."""
    return item_aggregate_keys(
        target_scope(target), target.pk, chapter_id=target.chapter_id, district_id=district_id
    )


def item_aggregate_keys(scope: str, pk: int, *, chapter_id: int | None, district_id: int | None) -> list[str]:
    """``target_aggregate_keys`` from the item's scope, key and chapter."""
    keys = [aggregate_key(scope, pk)]
    if chapter_id:
        keys.append(aggregate_key(AggregateScope.CHAPTER, chapter_id))
    if district_id:
        keys.append(aggregate_key(AggregateScope.DISTRICT, district_id))
    return keys


def resident_aggregate_keys(resident: Resident) -> set[str]:
    """Every aggregate a resident's ratings and survey answers count in."""
    keys: set[str] = set()
    rows = Rating.objects.filter(resident=resident).values_list(
        "indicator_id", "story_id", "district_id", "indicator__chapter_id", "story__chapter_id"
    )
    for indicator_id, story_id, district_id, indicator_chapter, story_chapter in rows:
        if indicator_id:
            keys.add(aggregate_key(AggregateScope.INDICATOR, indicator_id))
        if story_id:
            keys.add(aggregate_key(AggregateScope.STORY, story_id))
        if district_id:
            keys.add(aggregate_key(AggregateScope.DISTRICT, district_id))
        if indicator_chapter or story_chapter:
            keys.add(aggregate_key(AggregateScope.CHAPTER, indicator_chapter or story_chapter))
    answers = SurveyAnswer.objects.filter(response__resident=resident).values_list(
        "question_id", "question__survey_id"
    )
    for question_id, survey_id in answers:
        keys.add(aggregate_key(AggregateScope.QUESTION, question_id))
        keys.add(aggregate_key(AggregateScope.SURVEY, survey_id))
    return keys


def aggregates_refresh(*, keys: Iterable[str]) -> list[ScoreAggregate]:
    """Recompute the named aggregates from the raw rows (one GROUP BY each,
    plus the distinct raters of a chapter, district or survey).

    The queued marks are cleared first: a submission committed from now on
    queues a new refresh, and everything committed before is read below.
    An aggregate whose object has no counted or held scores left is deleted;
    one with held scores only is kept, so its ``held_count`` shows.
    """
    # Suspicious ratings are held before the figures are computed; what the
    # holds change elsewhere (chapter, districts) is refreshed with the rest.
    keys = set(keys)
    keys |= ratings_screen(keys=keys)
    parsed = sorted({aggregate_key_parse(key) for key in keys})
    cache.delete_many([PENDING_PREFIX + aggregate_key(scope, oid) for scope, oid in parsed])
    refreshed = []
    for scope, object_id in parsed:
        with transaction.atomic():
            tally = next(scope_tallies(scope, object_id), None)
            if tally is None:
                ScoreAggregate.objects.filter(scope=scope, object_id=object_id).delete()
                continue
            aggregate = tally_to_aggregate(scope, tally)
            aggregates_upsert([aggregate])
            refreshed.append(aggregate)
    logger.info("aggregates refreshed: %s", " ".join(aggregate_key(s, o) for s, o in parsed))
    page_cache.aggregates_changed(keys=parsed)
    return refreshed


def aggregates_reconcile() -> dict[str, int]:
    """Recompute every aggregate from the raw rows, set-wise.

    One ordered GROUP BY per scope (and the ordered distinct-raters queries
    of the scopes that need them), streamed through server-side cursors side
    by side and folded object by object; upserts go out in batches;
    aggregates whose object has no counted or held scores left are deleted.
    Memory holds one batch, whatever the number of ratings.
    """
    ratings_screen()  # hold suspicious recent ratings first (feedback.anomaly)
    source_hashes_expire()  # then forget the addresses the rules no longer need
    before = _figures()
    written: dict[str, int] = {}
    for scope in SCOPES:
        with transaction.atomic():
            batch: list[ScoreAggregate] = []
            seen: list[int] = []
            for tally in scope_tallies(scope, chunk_size=5000):
                batch.append(tally_to_aggregate(scope, tally))
                seen.append(tally.object_id)
                if len(batch) >= _RECONCILE_BATCH:
                    aggregates_upsert(batch)
                    batch = []
            aggregates_upsert(batch)
            ScoreAggregate.objects.filter(scope=scope).exclude(object_id__in=seen).delete()
        written[scope] = len(seen)
    logger.info("aggregates reconciled: %s", written)
    after = _figures()
    changed = [key for key in before.keys() | after.keys() if before.get(key) != after.get(key)]
    page_cache.aggregates_changed(keys=changed)
    return written


def _figures() -> dict[tuple[str, int], tuple]:
    """What pages show of every stored aggregate (all but when it was written), by key.

    One row per object (items, chapters, districts, questions), however many ratings.
    """
    shown = [name for name in AGGREGATE_UPDATE_FIELDS if name != "updated_at"]
    rows = ScoreAggregate.objects.values_list("scope", "object_id", *shown)
    return {(scope, object_id): tuple(figures) for scope, object_id, *figures in rows}
