"""Anomaly rules: suspicious recent ratings are *held* before any figure is computed.

The aggregate refresh (``feedback.aggregates``) calls :func:`ratings_screen`
first, so the rules run wherever aggregates are computed: in-process on the
embedded default, in the Celery worker in production, and over everything in
the periodic reconciliation. A held rating is stored and shown to staff and
planners with its reason, but counted in no public figure until a person
releases or discards it (``feedback.trust``).

Every rule looks at the ratings changed within the last
``ANOMALY_WINDOW_MINUTES`` (``updated_at``: a re-rating is a new voice) of the
items being refreshed, and holds what exceeds a threshold from settings:

(a) **one address, one item** — more than ``ANOMALY_SOURCE_ITEM_MAX`` ratings
    of one item from one address (``source_hash``): the first ones stay
    counted, the rest are held (同一来源短时集中评分);
(d) **cookie churn** — one address behind more than
    ``ANOMALY_NEW_RESIDENTS_PER_SOURCE`` residents created within the window:
    the ratings of the later residents are held, on every item
    (同一来源短时新建大量身份). The request-time limit
    ``RATE_LIMIT_NEW_RESIDENTS`` does the same at once; this rule catches what
    it missed (Redis down, its fixed hourly buckets straddled);
(b) **a few addresses** — an item with more than
    ``ANOMALY_FEW_SOURCES_MIN_RATINGS`` ratings, at least
    ``ANOMALY_FEW_SOURCES_SHARE`` % of them from at most
    ``ANOMALY_FEW_SOURCES_MAX`` addresses: those addresses keep their first
    rating each, the rest of theirs are held (少数来源集中评分);
(c) **runs of one score from fresh identities** — at least ``ANOMALY_RUN_MIN``
    ratings with the same score from residents created within the window,
    making up at least ``ANOMALY_RUN_SHARE`` % of the item's ratings: the run
    from its ``ANOMALY_RUN_MIN``-th rating on is held (新身份集中给出相同评分);
(e) **off-hours spikes** — between ``ANOMALY_NIGHT_START_HOUR`` and
    ``ANOMALY_NIGHT_END_HOUR`` (local time, Asia/Shanghai), more than
    ``ANOMALY_NIGHT_MAX`` ratings of one item: the rest are held
    (深夜评分激增). Equal hours switch the rule off.

"The first ones" are ordered by ``updated_at`` then id, and the ranking
counts every rating in the window whatever its state, so a rule gives the
same answer when run again: the rules are idempotent. They only ever turn
*counted* into *held*: they never release anything, and never touch a rating
a person has decided (``trust_decided_at`` set). A rating matched by several
rules keeps the reason of the first, in the order above.

Each rule is a few set-wise queries: a GROUP BY that finds the pattern
(usually nothing, and the rule stops there), a window function that ranks
the rows of the few items or addresses concerned (wrapped by Django in a
subquery to filter on the rank), and one UPDATE of the rows to hold. Python
reads grouped counts and the ids of the ratings it newly holds (the ranking
stays in SQL, as the subquery of that read), never the window's ratings one
by one: under a storm a screen costs Python what the new ratings cost.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Window
from django.db.models.functions import DenseRank, ExtractHour, RowNumber
from django.utils import timezone
from django.utils.translation import gettext_noop

from feedback.aggregation import aggregate_key, aggregate_key_parse
from feedback.models import AggregateScope, Rating, SurveyResponse, TrustState

logger = logging.getLogger(__name__)

# Stored in Chinese whatever the language of the moment (staff read the
# record); translated where shown.
REASON_SOURCE_BURST = gettext_noop("同一来源短时集中评分")
REASON_COOKIE_CHURN = gettext_noop("同一来源短时新建大量身份")
REASON_FEW_SOURCES = gettext_noop("少数来源集中评分")
REASON_FRESH_RUN = gettext_noop("新身份集中给出相同评分")
REASON_NIGHT_SPIKE = gettext_noop("深夜评分激增")

# A rating's item is (indicator_id, story_id): exactly one is set.
_ITEM = [F("indicator_id"), F("story_id")]
_FIRST_FIRST = [F("updated_at").asc(), F("id").asc()]


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    # Which items' ratings are screened; ``None``: every item (the reconciliation).
    items: Q | None

    def all_recent(self) -> QuerySet[Rating]:
        """Every rating changed within the window, on any item (unordered, for GROUP BY)."""
        return Rating.objects.filter(updated_at__gt=self.start, updated_at__lte=self.end).order_by()

    def recent(self) -> QuerySet[Rating]:
        """The recent ratings of the items being screened."""
        recent = self.all_recent()
        return recent if self.items is None else recent.filter(self.items)


def _item_q(indicator_id: int | None, story_id: int | None) -> Q:
    return Q(indicator_id=indicator_id) if indicator_id is not None else Q(story_id=story_id)


def _any(queries: Iterable[Q]) -> Q:
    return reduce(or_, queries, Q(pk__in=[]))


def _beyond(queryset: QuerySet[Rating], *, partition_by: list, keep: int, function=RowNumber, order_by=None):
    """The rows of ``queryset`` ranked after the first ``keep`` of their partition, as a
    query of their ids (``_hold`` runs it as its subquery).

    The window function ranks the rows, Django wraps it in a subquery to filter on
    the rank. Conditions on the rows' state must not be added here (they would
    change the ranking); ``_hold`` applies them outside it.
    """
    ranked = queryset.annotate(
        position=Window(function(), partition_by=partition_by, order_by=order_by or _FIRST_FIRST)
    )
    return ranked.filter(position__gt=keep).values("pk")


def _hold(beyond: QuerySet[Rating], reason: str) -> set[str]:
    """Hold the counted, undecided ratings among ``beyond`` (``_beyond``); the aggregate
    keys they change.

    Only those rows come back to Python: under a storm from one address the ranked
    rows are the whole window, but all except the latest few are already held, so a
    screen's Python work follows the new ratings, not the size of the window.
    """
    undecided = Q(trust=TrustState.COUNTED, trust_decided_at__isnull=True)
    rows = list(
        Rating.objects.filter(undecided, pk__in=beyond).values_list(
            "pk", "indicator_id", "story_id", "district_id", "indicator__chapter_id", "story__chapter_id"
        )
    )
    if not rows:
        return set()
    # The same conditions again: a person may have decided meanwhile.
    held = Rating.objects.filter(undecided, pk__in=[row[0] for row in rows]).update(
        trust=TrustState.HELD, hold_reason=reason
    )
    logger.warning("anomaly: %d ratings held (%s)", held, reason)
    keys: set[str] = set()
    for _pk, indicator_id, story_id, district_id, indicator_chapter, story_chapter in rows:
        if indicator_id:
            keys.add(aggregate_key(AggregateScope.INDICATOR, indicator_id))
        if story_id:
            keys.add(aggregate_key(AggregateScope.STORY, story_id))
        if indicator_chapter or story_chapter:
            keys.add(aggregate_key(AggregateScope.CHAPTER, indicator_chapter or story_chapter))
        if district_id:
            keys.add(aggregate_key(AggregateScope.DISTRICT, district_id))
    return keys


# --- The rules ------------------------------------------------------------------------
#
# Each rule first asks a GROUP BY whether its pattern is there at all (almost
# always not: then it costs that one query), and only then ranks the rows of
# the few items or addresses concerned. Small intermediate results (items,
# addresses) are read into lists rather than nested as subqueries, so the
# planner never has to guess its way through three levels of IN.


def _source_bursts(window: _Window) -> set[str]:
    """(a) One item, one address: beyond the first ANOMALY_SOURCE_ITEM_MAX."""
    limit = settings.ANOMALY_SOURCE_ITEM_MAX
    sourced = window.recent().exclude(source_hash="")
    bursts = (
        sourced.values("indicator_id", "story_id", "source_hash")
        .annotate(n=Count("pk"))
        .filter(n__gt=limit)
        .values_list("indicator_id", "story_id", "source_hash")
    )
    pairs = [
        _item_q(indicator_id, story_id) & Q(source_hash=source) for indicator_id, story_id, source in bursts
    ]
    if not pairs:
        return set()
    beyond = _beyond(sourced.filter(_any(pairs)), partition_by=[*_ITEM, F("source_hash")], keep=limit)
    return _hold(beyond, REASON_SOURCE_BURST)


def _cookie_churn(window: _Window) -> set[str]:
    """(d) One address, many new residents: the ratings of the later residents."""
    limit = settings.ANOMALY_NEW_RESIDENTS_PER_SOURCE
    fresh = window.all_recent().exclude(source_hash="").filter(resident__created_at__gt=window.start)
    counted_over = fresh
    if window.items is not None:
        # The addresses seen on the items being screened, counted over every item.
        seen = list(fresh.filter(window.items).values_list("source_hash", flat=True).distinct())
        if not seen:
            return set()
        counted_over = fresh.filter(source_hash__in=seen)
    churning = list(
        counted_over.values("source_hash")
        .annotate(residents=Count("resident_id", distinct=True))
        .filter(residents__gt=limit)
        .values_list("source_hash", flat=True)
    )
    if not churning:
        return set()
    beyond = _beyond(
        fresh.filter(source_hash__in=churning),
        partition_by=[F("source_hash")],
        keep=limit,
        function=DenseRank,
        order_by=[F("resident__created_at").asc(), F("resident_id").asc()],
    )
    return _hold(beyond, REASON_COOKIE_CHURN)


def _busy_items(window: _Window, more_than: int) -> dict[tuple, int]:
    """(indicator_id, story_id) → number of recent ratings, for items with more than ``more_than``."""
    rows = (
        window.recent()
        .values("indicator_id", "story_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=more_than)
        .values_list("indicator_id", "story_id", "n")
    )
    return {(indicator_id, story_id): n for indicator_id, story_id, n in rows}


def _few_sources(window: _Window) -> set[str]:
    """(b) A busy item whose ratings come mostly from a few addresses."""
    busy = _busy_items(window, settings.ANOMALY_FEW_SOURCES_MIN_RATINGS)
    if not busy:
        return set()
    per_source = (
        window.recent()
        .filter(_any(_item_q(*item) for item in busy))
        .exclude(source_hash="")
        .values("indicator_id", "story_id", "source_hash")
        .annotate(n=Count("pk"))
        .values_list("indicator_id", "story_id", "source_hash", "n")
    )
    counts: dict[tuple, list[tuple[int, str]]] = defaultdict(list)
    for indicator_id, story_id, source_hash, n in per_source:
        counts[(indicator_id, story_id)].append((n, source_hash))
    dominant = []
    for item, sources in counts.items():
        top = sorted(sources, reverse=True)[: settings.ANOMALY_FEW_SOURCES_MAX]
        if sum(n for n, _source in top) * 100 >= settings.ANOMALY_FEW_SOURCES_SHARE * busy[item]:
            dominant.extend(_item_q(*item) & Q(source_hash=source) for _n, source in top)
    if not dominant:
        return set()
    beyond = _beyond(window.recent().filter(_any(dominant)), partition_by=[*_ITEM, F("source_hash")], keep=1)
    return _hold(beyond, REASON_FEW_SOURCES)


def _fresh_runs(window: _Window) -> set[str]:
    """(c) Many fresh identities giving one item the same score."""
    least = settings.ANOMALY_RUN_MIN
    fresh = window.recent().filter(resident__created_at__gt=window.start)
    runs = list(
        fresh.values("indicator_id", "story_id", "score")
        .annotate(n=Count("pk"))
        .filter(n__gte=least)
        .values_list("indicator_id", "story_id", "score", "n")
    )
    if not runs:
        return set()
    totals = _busy_items(window, least - 1)
    suspicious = [
        _item_q(indicator_id, story_id) & Q(score=score)
        for indicator_id, story_id, score, n in runs
        if n * 100 >= settings.ANOMALY_RUN_SHARE * totals[(indicator_id, story_id)]
    ]
    if not suspicious:
        return set()
    beyond = _beyond(fresh.filter(_any(suspicious)), partition_by=[*_ITEM, F("score")], keep=least - 1)
    return _hold(beyond, REASON_FRESH_RUN)


def _night_spikes(window: _Window) -> set[str]:
    """(e) More ratings of one item than plausible in the night hours."""
    first, last = settings.ANOMALY_NIGHT_START_HOUR, settings.ANOMALY_NIGHT_END_HOUR
    if first == last:
        return set()
    if first < last:
        night = Q(local_hour__gte=first, local_hour__lt=last)
    else:  # the hours wrap midnight, e.g. 23–6
        night = Q(local_hour__gte=first) | Q(local_hour__lt=last)
    at_night = (
        window.recent()
        .annotate(local_hour=ExtractHour("updated_at", tzinfo=timezone.get_default_timezone()))
        .filter(night)
    )
    limit = settings.ANOMALY_NIGHT_MAX
    spiking = list(
        at_night.values("indicator_id", "story_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=limit)
        .values_list("indicator_id", "story_id")
    )
    if not spiking:
        return set()
    beyond = _beyond(
        at_night.filter(_any(_item_q(*item) for item in spiking)), partition_by=_ITEM, keep=limit
    )
    return _hold(beyond, REASON_NIGHT_SPIKE)


RULES = (_source_bursts, _cookie_churn, _few_sources, _fresh_runs, _night_spikes)


def ratings_screen(*, keys: Iterable[str] | None = None, now: datetime | None = None) -> set[str]:
    """Run every rule; returns the aggregate keys whose figures the new holds change.

    ``keys`` are the aggregates about to be refreshed: the recent ratings of
    their indicators and stories are screened (``None``: every recent rating,
    as the reconciliation does). ``now`` ends the window (default: now).
    """
    end = now or timezone.now()
    start = end - timedelta(minutes=settings.ANOMALY_WINDOW_MINUTES)
    items = None
    if keys is not None:
        parsed = [aggregate_key_parse(key) for key in keys]
        indicators = [oid for scope, oid in parsed if scope == AggregateScope.INDICATOR]
        stories = [oid for scope, oid in parsed if scope == AggregateScope.STORY]
        if not (indicators or stories):
            return set()
        items = Q(indicator_id__in=indicators) | Q(story_id__in=stories)
    window = _Window(start=start, end=end, items=items)
    changed: set[str] = set()
    for rule in RULES:
        changed |= rule(window)
    return changed


def source_hashes_expire(*, now: datetime | None = None) -> int:
    """Clear the address hashes older than ``SOURCE_HASH_RETENTION_HOURS``; returns how many.

    The rules only ever look at the last ``ANOMALY_WINDOW_MINUTES``: after
    that a submission's ``source_hash`` serves nothing, and PIPL asks that
    data be kept no longer than its purpose needs. Run by the periodic
    reconciliation. Held rows keep theirs until a person decides, since the
    decision may need to see which ones came from one address.
    """
    cutoff = (now or timezone.now()) - timedelta(hours=settings.SOURCE_HASH_RETENTION_HOURS)
    cleared = 0
    for model in (Rating, SurveyResponse):
        cleared += (
            model.objects.filter(updated_at__lt=cutoff)
            .exclude(source_hash="")
            .exclude(trust=TrustState.HELD)
            .update(source_hash="")
        )
    return cleared
