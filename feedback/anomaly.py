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

A screen's cost follows the ratings it can still act on, not the size of the
window: under a storm the window fills with held ratings, which need no new
decision. Each rule starts from its *candidates*, the window's ratings still
counted and undecided (an index holds just those), and asks, for each
partition of theirs (item and address, item and score, item), for the
partition's threshold-th rating by ``updated_at`` then id: one index look-up
reading that many rows however large the partition (``_nth_of_each``). Only
candidates after it can be held, and usually there are none: the rule stops
there. Rules (b) and (c) then count the shares their pattern needs, for the
few items concerned only; rule (d) ranks the new residents of the few
addresses with more recent ratings than its limit. One UPDATE holds the rows.
Python reads partitions, counts and the ids of the ratings it newly holds,
never the window's ratings one by one.

Rule (d) takes its addresses from the screened items' candidates, read before
any rule holds; an address whose ratings of those items were all held or
decided earlier is screened on its other items when they are refreshed, and
everywhere by the reconciliation.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractHour
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

# What a rule may still hold: counted, and no person has decided it.
_UNDECIDED = Q(trust=TrustState.COUNTED, trust_decided_at__isnull=True)
# A rating's item is (indicator_id, story_id): exactly one is set.
_KINDS = ("indicator_id", "story_id")


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime
    # The items screened: their ids by kind; ``None``: every item (the reconciliation).
    indicators: tuple[int, ...] | None = None
    stories: tuple[int, ...] | None = None
    # Rule (d)'s addresses (``_churn_suspects``), read before the rules run.
    churn_suspects: tuple[str, ...] = ()

    @property
    def items(self) -> Q | None:
        if self.indicators is None:
            return None
        return Q(indicator_id__in=self.indicators) | Q(story_id__in=self.stories)

    def kinds(self) -> list[str]:
        """The item columns (``_KINDS``) some screened item is in."""
        if self.indicators is None:
            return list(_KINDS)
        return [kind for kind, ids in zip(_KINDS, (self.indicators, self.stories), strict=True) if ids]

    def all_recent(self) -> QuerySet[Rating]:
        """Every rating changed within the window, on any item (unordered, for GROUP BY)."""
        return Rating.objects.filter(updated_at__gt=self.start, updated_at__lte=self.end).order_by()

    def candidates(self, ranked: QuerySet[Rating]) -> QuerySet[Rating]:
        """The ratings among ``ranked`` (a query of the window's) a rule may still hold:
        counted, undecided, of the items being screened."""
        candidates = ranked.filter(_UNDECIDED)
        return candidates if self.items is None else candidates.filter(self.items)


def _item_q(indicator_id: int | None, story_id: int | None) -> Q:
    return Q(indicator_id=indicator_id) if indicator_id is not None else Q(story_id=story_id)


def _any(queries: Iterable[Q]) -> Q:
    return reduce(or_, queries, Q(pk__in=[]))


def _nth_of_each(
    candidates: QuerySet[Rating], ranked: QuerySet[Rating], partition: list[str], n: int, *, passed: bool
) -> list[tuple]:
    """For each value of the ``partition`` fields among the ``candidates``: the ``n``-th
    row of ``ranked`` with that value, by ``updated_at`` then id, as (values…, its id, its
    ``updated_at``); ``passed``: only where the last candidate comes after that row.

    One statement: the candidates' last row of each value (``DISTINCT ON``), then for
    each a ``LATERAL`` look-up ``ORDER BY updated_at, id OFFSET n - 1 LIMIT 1`` that an
    index on the partition's fields then ``updated_at`` answers in ``n`` rows, however
    many the partition holds. Both parts are the querysets' own SQL.
    PostgreSQL's way (``DISTINCT ON``, ``LATERAL``); elsewhere (SQLite, the embedded
    default, whose windows hold a few ratings) the same answer a partition at a time
    (``_nth_of_each_portable``).
    """
    if connection.vendor != "postgresql":
        return _nth_of_each_portable(candidates, ranked, partition, n, passed=passed)
    last_sql, last_params = (
        candidates.order_by(*partition, "-updated_at", "-id")
        .distinct(*partition)
        .values_list("id", "updated_at", *partition)
        .query.sql_with_params()
    )
    ranked_sql, ranked_params = ranked.values_list("id", "updated_at", *partition).query.sql_with_params()
    match = " AND ".join(f'r."{field}" = last."{field}"' for field in partition)
    values = ", ".join(f'last."{field}"' for field in partition)
    sql = (
        f"SELECT {values}, nth.id, nth.updated_at FROM ({last_sql}) AS last"  # noqa: S608 - querysets' SQL
        f" CROSS JOIN LATERAL (SELECT r.id, r.updated_at FROM ({ranked_sql}) AS r WHERE {match}"
        " ORDER BY r.updated_at, r.id OFFSET %s LIMIT 1) AS nth"
    )
    if passed:
        sql += " WHERE (last.updated_at, last.id) > (nth.updated_at, nth.id)"
    with connection.cursor() as cursor:
        cursor.execute(sql, (*last_params, *ranked_params, n - 1))
        return cursor.fetchall()


def _nth_of_each_portable(
    candidates: QuerySet[Rating], ranked: QuerySet[Rating], partition: list[str], n: int, *, passed: bool
) -> list[tuple]:
    """``_nth_of_each`` in queries any database runs: the candidates' partitions, then for
    each the ``n``-th row of ``ranked`` and the last candidate."""
    found = []
    for values in candidates.values_list(*partition).distinct().order_by(*partition):
        same = dict(zip(partition, values, strict=True))
        nth = ranked.filter(**same).order_by("updated_at", "id").values_list("id", "updated_at")[n - 1 : n]
        for nth_id, nth_at in nth:
            last = candidates.filter(**same).order_by("-updated_at", "-id").values_list("updated_at", "id")[0]
            if not passed or last > (nth_at, nth_id):
                found.append((*values, nth_id, nth_at))
    return found


def _beyond(
    window: _Window, candidates: QuerySet[Rating], ranked: QuerySet[Rating], by: list[str], keep: int
) -> Q | None:
    """The ``candidates`` ranked after the first ``keep`` of their partition of ``ranked``
    (an item and the fields ``by``, ordered by ``updated_at`` then id), as a condition.

    ``ranked`` holds every rating the rule ranks, whatever its state; ``candidates`` are
    those of them the rule may still hold (``_UNDECIDED``). Each partition of a candidate
    is looked up once, its ``keep``-th row read by an index (``_nth_of_each``), and the
    candidates after that row are beyond it; the condition names only the partitions
    whose last candidate is beyond; ``None`` if there is none (almost always). So a
    screen reads the ratings still counted, not the held ones a storm leaves behind.
    """
    if keep <= 0:  # every candidate is beyond
        return Q()
    after = []
    for kind in window.kinds():
        partition = [kind, *by]
        present = {f"{kind}__isnull": False}
        for *values, nth_id, nth_at in _nth_of_each(
            candidates.filter(**present), ranked.filter(**present), partition, keep, passed=True
        ):
            after.append(
                Q(**dict(zip(partition, values, strict=True)))
                & (Q(updated_at__gt=nth_at) | Q(updated_at=nth_at, pk__gt=nth_id))
            )
    return _any(after) if after else None


def _hold(beyond: QuerySet[Rating], reason: str) -> set[str]:
    """Hold the counted, undecided ratings among ``beyond``; the aggregate keys they change.

    Only those rows come back to Python, and ``beyond`` is built from the candidates
    (the rows still counted): under a storm from one address all but the latest few
    are already held, so a screen follows the new ratings, not the size of the window.
    """
    rows = list(
        Rating.objects.filter(_UNDECIDED, pk__in=beyond.values("pk"))
        .order_by()
        .values_list(
            "pk", "indicator_id", "story_id", "district_id", "indicator__chapter_id", "story__chapter_id"
        )
    )
    if not rows:
        return set()
    # The same conditions again: a person may have decided meanwhile.
    held = Rating.objects.filter(_UNDECIDED, pk__in=[row[0] for row in rows]).update(
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
# Each rule starts from its candidates, the ratings it could still hold, and
# asks whether any of them ranks beyond its partition's threshold (``_beyond``):
# almost never, and then the rule stops there. Only then does it count what its
# pattern needs (rules b and c: shares of an item's ratings), for the few items
# concerned. Small intermediate results (items, addresses) are read into lists
# rather than nested as subqueries, so the planner never has to guess its way
# through three levels of IN.


def _source_bursts(window: _Window) -> set[str]:
    """(a) One item, one address: beyond the first ANOMALY_SOURCE_ITEM_MAX."""
    sourced = window.all_recent().exclude(source_hash="")
    candidates = window.candidates(sourced)
    beyond = _beyond(window, candidates, sourced, ["source_hash"], settings.ANOMALY_SOURCE_ITEM_MAX)
    return set() if beyond is None else _hold(candidates.filter(beyond), REASON_SOURCE_BURST)


def _fresh_sourced(window: _Window) -> QuerySet[Rating]:
    """The window's ratings with an address, by residents created within the window (rule d)."""
    return window.all_recent().exclude(source_hash="").filter(resident__created_at__gt=window.start)


def _churn_suspects(window: _Window) -> tuple[str, ...]:
    """Rule (d)'s addresses, read before any rule holds: those of the screened items' new
    residents' ratings still undecided (the ones a screen can act on) that have more than
    ``ANOMALY_NEW_RESIDENTS_PER_SOURCE`` recent ratings on any item (fewer ratings, fewer
    residents: each address is looked at ``limit + 1`` rows deep)."""
    limit = settings.ANOMALY_NEW_RESIDENTS_PER_SOURCE
    seen = window.candidates(_fresh_sourced(window))
    rows = _nth_of_each(seen, window.all_recent(), ["source_hash"], limit + 1, passed=False)
    return tuple(source for source, _id, _at in rows)


def _cookie_churn(window: _Window) -> set[str]:
    """(d) One address, many new residents: the ratings of the later residents."""
    limit = settings.ANOMALY_NEW_RESIDENTS_PER_SOURCE
    if not window.churn_suspects:
        return set()
    fresh = _fresh_sourced(window)
    later = []
    for source in window.churn_suspects:
        if limit <= 0:  # every new resident is beyond
            later.append(Q(source_hash=source))
            continue
        # The address's ``limit``-th new resident, by creation then id: the later ones are beyond.
        residents = fresh.filter(source_hash=source).values_list("resident__created_at", "resident_id")
        nth = residents.distinct().order_by("resident__created_at", "resident_id")[limit - 1 : limit]
        for created_at, resident_id in nth:
            later.append(
                Q(source_hash=source)
                & (
                    Q(resident__created_at__gt=created_at)
                    | Q(resident__created_at=created_at, resident_id__gt=resident_id)
                )
            )
    if not later:
        return set()
    return _hold(fresh.filter(_UNDECIDED).filter(_any(later)), REASON_COOKIE_CHURN)


def _busy_items(window: _Window, more_than: int, among: Iterable[tuple]) -> dict[tuple, int]:
    """(indicator_id, story_id) → number of recent ratings, for those of the items ``among``
    with more than ``more_than``."""
    rows = (
        window.all_recent()
        .filter(_any(_item_q(*item) for item in among))
        .values("indicator_id", "story_id")
        .annotate(n=Count("pk"))
        .filter(n__gt=more_than)
        .values_list("indicator_id", "story_id", "n")
    )
    return {(indicator_id, story_id): n for indicator_id, story_id, n in rows}


def _dominant(window: _Window, items: Iterable[tuple]) -> list[Q]:
    """(b)'s pattern: of the ``items``, the busy ones whose ratings come mostly from a
    few addresses; a condition on those addresses' ratings of them."""
    busy = _busy_items(window, settings.ANOMALY_FEW_SOURCES_MIN_RATINGS, items)
    if not busy:
        return []
    per_source = (
        window.all_recent()
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
    return dominant


def _few_sources(window: _Window) -> set[str]:
    """(b) A busy item whose ratings come mostly from a few addresses: their first rating
    each stays counted."""
    candidates = window.candidates(window.all_recent().exclude(source_hash=""))
    after_first = _beyond(window, candidates, window.all_recent(), ["source_hash"], 1)
    if after_first is None:  # every candidate is its address's first on its item
        return set()
    beyond = candidates.filter(after_first)
    items = set(beyond.values_list("indicator_id", "story_id").distinct())
    dominant = _dominant(window, items)
    if not dominant:
        return set()
    return _hold(beyond.filter(_any(dominant)), REASON_FEW_SOURCES)


def _fresh_runs(window: _Window) -> set[str]:
    """(c) Many fresh identities giving one item the same score."""
    least = settings.ANOMALY_RUN_MIN
    fresh = window.all_recent().filter(resident__created_at__gt=window.start)
    candidates = window.candidates(fresh)
    after_least = _beyond(window, candidates, fresh, ["score"], least - 1)
    if after_least is None:
        return set()
    beyond = candidates.filter(after_least)
    runs = set(beyond.values_list("indicator_id", "story_id", "score").distinct())
    sizes = (
        fresh.filter(_any(_item_q(i, s) & Q(score=score) for i, s, score in runs))
        .values("indicator_id", "story_id", "score")
        .annotate(n=Count("pk"))
        .values_list("indicator_id", "story_id", "score", "n")
    )
    totals = _busy_items(window, least - 1, {(i, s) for i, s, _score in runs})
    suspicious = [
        _item_q(indicator_id, story_id) & Q(score=score)
        for indicator_id, story_id, score, n in sizes
        if n >= least and n * 100 >= settings.ANOMALY_RUN_SHARE * totals[(indicator_id, story_id)]
    ]
    if not suspicious:
        return set()
    return _hold(beyond.filter(_any(suspicious)), REASON_FRESH_RUN)


def _meets_hours(window: _Window, hours: set[int]) -> bool:
    """Whether the window has a moment in one of the local ``hours`` (looked at every
    quarter of an hour, so any time zone's hours are seen; a day or more has them all)."""
    zone = timezone.get_default_timezone()
    moment, quarter = window.start, timedelta(minutes=15)
    for _ in range(24 * 4):
        if moment.astimezone(zone).hour in hours:
            return True
        if moment >= window.end:
            return False
        moment = min(moment + quarter, window.end)
    return True


def _night_spikes(window: _Window) -> set[str]:
    """(e) More ratings of one item than plausible in the night hours."""
    first, last = settings.ANOMALY_NIGHT_START_HOUR, settings.ANOMALY_NIGHT_END_HOUR
    if first == last:
        return set()
    if first < last:
        night = Q(local_hour__gte=first, local_hour__lt=last)
        hours = set(range(first, last))
    else:  # the hours wrap midnight, e.g. 23–6
        night = Q(local_hour__gte=first) | Q(local_hour__lt=last)
        hours = set(range(first, 24)) | set(range(last))
    if not _meets_hours(window, hours):
        return set()
    at_night = (
        window.all_recent()
        .annotate(local_hour=ExtractHour("updated_at", tzinfo=timezone.get_default_timezone()))
        .filter(night)
    )
    candidates = window.candidates(at_night)
    beyond = _beyond(window, candidates, at_night, [], settings.ANOMALY_NIGHT_MAX)
    return set() if beyond is None else _hold(candidates.filter(beyond), REASON_NIGHT_SPIKE)


RULES = (_source_bursts, _cookie_churn, _few_sources, _fresh_runs, _night_spikes)


def ratings_screen(*, keys: Iterable[str] | None = None, now: datetime | None = None) -> set[str]:
    """Run every rule; returns the aggregate keys whose figures the new holds change.

    ``keys`` are the aggregates about to be refreshed: the recent ratings of
    their indicators and stories are screened (``None``: every recent rating,
    as the reconciliation does). ``now`` ends the window (default: now).
    """
    end = now or timezone.now()
    start = end - timedelta(minutes=settings.ANOMALY_WINDOW_MINUTES)
    window = _Window(start=start, end=end)
    if keys is not None:
        parsed = [aggregate_key_parse(key) for key in keys]
        indicators = tuple(oid for scope, oid in parsed if scope == AggregateScope.INDICATOR)
        stories = tuple(oid for scope, oid in parsed if scope == AggregateScope.STORY)
        if not (indicators or stories):
            return set()
        window = _Window(start=start, end=end, indicators=indicators, stories=stories)
    window = replace(window, churn_suspects=_churn_suspects(window))
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
