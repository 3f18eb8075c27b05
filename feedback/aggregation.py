"""How score aggregates are computed: in SQL, grouped, never row by row.

Every aggregate is built from one ``GROUP BY (object, district, score, trust,
verified)`` query over the raw rows of its scope. Because scores are 1–5 and
the other keys take a handful of values, those few counts per object hold
everything: the count, the total, the distribution, the per-district
breakdown, the variance, the held rows and the verified tier. Python only
folds the grouped rows (at most objects × 17 districts × 5 scores × 2 trust
states × 2, whatever the number of ratings).

What counts. Only rows whose trust is ``counted`` enter the figures (for a
survey answer, the trust of its response). ``held`` rows are stored but only
counted apart, in ``held_count``, so a page can say "另有 N 条评分待核实"
without their scores moving anything; ``discarded`` rows are left out of the
query altogether. The verified tier (``verified_count``,
``verified_distribution``) is the counted rows whose resident had verified a
mobile number when the aggregate was computed.

Rows and people. ``count`` is the number of counted rows; the public threshold
is judged on ``raters``, the number of *distinct residents* behind them,
because a minimum of five is meant to hide one person's score, and one person
rating five items of a chapter is still one person. How ``raters`` is found
depends on the scope (``_SOURCES``):

- ``indicator`` / ``story`` / ``question``: a resident has at most one row per
  object (one rating per item, one response per survey), so raters = count,
  per district too, and verified raters = verified count. No extra query.
- ``district`` / ``survey``: a resident's rows for one object all carry one
  district (the district *is* the object; a survey response has one
  district), so one ``COUNT(DISTINCT resident) GROUP BY (object, district)``
  gives the raters per district, and their sum over the districts (and the
  group without one) is the object's raters: the groups do not overlap.
- ``chapter``: a resident's ratings of several items may carry different
  districts (the district is the one they reported when rating), so the
  groups overlap and the object's raters need their own
  ``COUNT(DISTINCT resident) GROUP BY object``.

The distinct counts are ordered by object like the scores, streamed beside
them and merged object by object, so memory stays one object deep. Under
PostgreSQL's READ COMMITTED each statement reads its own snapshot: a rating
committed between the two could be in one and not the other. The fold
therefore clamps raters to the rows (a person is at least one row), and the
next refresh or reconciliation corrects the rest; the error only ever withholds.

The 95 % interval is the normal approximation ``mean ± 1.96 · s / √n`` with
``s`` the sample standard deviation of the scores (``n − 1`` in the denominator)
and ``n`` the raters, clipped to the 1–5 scale; it is left empty below two
scores or two raters. ``n`` is the people, not the rows: one resident's ratings
of a chapter's twenty items are not twenty independent opinions, and dividing
by the rows drew a chapter's interval as if they were (12 residents' 240
ratings, 48 of each score: 2.82–3.18, where counting the residents gives 2.20–3.80).
Dividing by the people is always at least as wide as dividing by the rows, and
right when the people give about as many rows each; were one person to give
far more rows than the others, even this would be too narrow (that needs each
person's own scores, which the tallies do not keep). Where each person gives
one row (an item, a survey question) the two are the same. The verified tier
uses the same ``statistics`` on its own distribution and verified raters.

Scopes:
- ``indicator`` / ``story``: the ratings of that item;
- ``chapter``: the ratings of the chapter's indicators and stories;
- ``district``: the ratings given by residents who said they live there;
- ``question``: the answers to one survey question;
- ``survey``: every answer to every question of the survey.
"""

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Coalesce

from feedback.models import AggregateScope, Rating, ScoreAggregate, SurveyAnswer, TrustState
from indicators.models import Indicator, Story

Z_95 = 1.96
_THOUSANDTH = Decimal("0.001")
SCOPES: tuple[str, ...] = tuple(AggregateScope.values)


def aggregate_key(scope: str, object_id: int) -> str:
    return f"{scope}:{object_id}"


def aggregate_key_parse(key: str) -> tuple[str, int]:
    scope, _, object_id = key.partition(":")
    if scope not in SCOPES or not object_id.isdigit():
        raise ValueError(f"Not an aggregate key: {key!r}")
    return scope, int(object_id)


# How the distinct raters of a scope are counted (see the module docstring).
RATERS_ARE_ROWS = "rows"
RATERS_SUM_OF_DISTRICTS = "districts"
RATERS_DISTINCT = "distinct"


@dataclass(frozen=True)
class _Source:
    """The raw rows of a scope and the paths the queries group and count by."""

    queryset: QuerySet
    oid: object
    district: object
    resident: str
    trust: str
    verified_at: str
    raters: str


def _source(scope: str, object_id: int | None) -> _Source:
    ratings = {"resident": "resident_id", "trust": "trust", "verified_at": "resident__verified_at"}
    answers = {
        "resident": "response__resident_id",
        "trust": "response__trust",
        "verified_at": "response__resident__verified_at",
    }
    match scope:
        case AggregateScope.INDICATOR | AggregateScope.STORY:
            column = "indicator_id" if scope == AggregateScope.INDICATOR else "story_id"
            return _Source(
                Rating.objects.all(), F(column), F("district_id"), raters=RATERS_ARE_ROWS, **ratings
            )
        case AggregateScope.CHAPTER:
            qs = Rating.objects.all()
            if object_id is not None:
                # The chapter's items first (two small reads by their chapter index), then
                # their ratings by the ratings' own item indexes. Filtered on the joined
                # items' chapter instead, PostgreSQL scanned every rating: at 1,000,000
                # ratings each of a chapter refresh's three reads took 0.4-0.5 s.
                indicators = list(Indicator.objects.filter(chapter_id=object_id).values_list("pk", flat=True))
                stories = list(Story.objects.filter(chapter_id=object_id).values_list("pk", flat=True))
                qs = qs.filter(Q(indicator_id__in=indicators) | Q(story_id__in=stories))
            oid = Coalesce("indicator__chapter_id", "story__chapter_id")
            return _Source(qs, oid, F("district_id"), raters=RATERS_DISTINCT, **ratings)
        case AggregateScope.DISTRICT:
            return _Source(
                Rating.objects.all(),
                F("district_id"),
                F("district_id"),
                raters=RATERS_SUM_OF_DISTRICTS,
                **ratings,
            )
        case AggregateScope.QUESTION:
            return _Source(
                SurveyAnswer.objects.all(),
                F("question_id"),
                F("response__district_id"),
                raters=RATERS_ARE_ROWS,
                **answers,
            )
        case AggregateScope.SURVEY:
            qs = SurveyAnswer.objects.all()
            if object_id is not None:
                qs = qs.filter(question__survey_id=object_id)
            return _Source(
                qs,
                F("question__survey_id"),
                F("response__district_id"),
                raters=RATERS_SUM_OF_DISTRICTS,
                **answers,
            )
        case _:
            raise ValueError(scope)


def _rows(source: _Source, object_id: int | None, *, trust: list[str]) -> QuerySet:
    qs = (
        source.queryset.filter(**{f"{source.trust}__in": trust})
        .annotate(oid=source.oid, d=source.district)
        .filter(oid__isnull=False)
    )
    if object_id is not None:
        qs = qs.filter(oid=object_id)
    return qs


def _verified(source: _Source) -> Q:
    return Q(**{f"{source.verified_at}__isnull": False})


def grouped_scores(scope: str, object_id: int | None = None) -> QuerySet:
    """``(oid, d, score, trust, v, n)`` rows of one scope (all objects, or only
    ``object_id``), counted and held only, ordered by object so they can be streamed."""
    source = _source(scope, object_id)
    return (
        _rows(source, object_id, trust=[TrustState.COUNTED, TrustState.HELD])
        .annotate(trust_state=F(source.trust), v=ExpressionWrapper(_verified(source), BooleanField()))
        .values("oid", "d", "score", "trust_state", "v")
        .annotate(n=Count("*"))
        .order_by("oid", "d", "score", "trust_state", "v")
    )


def _distinct_raters(source: _Source) -> dict:
    return {
        "raters": Count(source.resident, distinct=True),
        "verified_raters": Count(source.resident, distinct=True, filter=_verified(source)),
    }


def grouped_raters(scope: str, object_id: int | None = None) -> QuerySet | None:
    """``(oid, raters, verified_raters)``: distinct residents of the counted rows per
    object, ordered by object; ``None`` where the district groups give them (or rows do)."""
    source = _source(scope, object_id)
    if source.raters != RATERS_DISTINCT:
        return None
    return (
        _rows(source, object_id, trust=[TrustState.COUNTED])
        .values("oid")
        .annotate(**_distinct_raters(source))
        .order_by("oid")
    )


def grouped_district_raters(scope: str, object_id: int | None = None) -> QuerySet | None:
    """``(oid, d, raters, verified_raters)``: distinct residents of the counted rows per
    object and district (``d`` null for those who named none), ordered by object;
    ``None`` where every resident has one row per object."""
    source = _source(scope, object_id)
    if source.raters == RATERS_ARE_ROWS:
        return None
    return (
        _rows(source, object_id, trust=[TrustState.COUNTED])
        .values("oid", "d")
        .annotate(**_distinct_raters(source))
        .order_by("oid", "d")
    )


@dataclass
class Tally:
    """Counts per score (index 0 = score 1) of one object, with districts.

    ``distribution`` and ``by_district`` hold the counted rows only; ``held``
    the number of held rows; ``verified_distribution`` the counted rows of
    verified residents. ``raters`` / ``verified_raters`` / ``district_raters``
    are the distinct residents when a raters query gave them, ``None`` when
    each resident is one row (then they equal the counts).
    """

    object_id: int
    distribution: list[int] = field(default_factory=lambda: [0] * 5)
    by_district: dict[int, list[int]] = field(default_factory=dict)
    held: int = 0
    verified_distribution: list[int] = field(default_factory=lambda: [0] * 5)
    raters: int | None = None
    verified_raters: int | None = None
    district_raters: dict[int, int] | None = None

    def add(
        self,
        district_id: int | None,
        score: int,
        n: int,
        *,
        trust: str = TrustState.COUNTED,
        verified: bool = False,
    ) -> None:
        if trust == TrustState.HELD:
            self.held += n
            return
        if trust != TrustState.COUNTED:
            return
        self.distribution[score - 1] += n
        if verified:
            self.verified_distribution[score - 1] += n
        if district_id is not None:
            self.by_district.setdefault(district_id, [0] * 5)[score - 1] += n


def _quantize(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_THOUSANDTH, rounding=ROUND_HALF_UP)


def statistics(distribution: list[int], raters: int | None = None) -> dict:
    """Count, total, mean and 95 % interval of a 1–5 distribution given by ``raters``
    people (one row each when None; see the module's docstring for why people, not rows)."""
    count = sum(distribution)
    total = sum(n * score for score, n in enumerate(distribution, start=1))
    if count == 0:
        return {"count": 0, "total": 0, "mean": None, "ci_low": None, "ci_high": None}
    people = count if raters is None else min(raters, count)
    mean = Decimal(total) / Decimal(count)
    ci_low = ci_high = None
    if count >= 2 and people >= 2:
        squares = sum(n * score * score for score, n in enumerate(distribution, start=1))
        variance = max((squares - total * total / count) / (count - 1), 0.0)
        half = Z_95 * math.sqrt(variance / people)
        ci_low = _quantize(max(1.0, float(mean) - half))
        ci_high = _quantize(min(5.0, float(mean) + half))
    return {
        "count": count,
        "total": total,
        "mean": mean.quantize(_THOUSANDTH, rounding=ROUND_HALF_UP),
        "ci_low": ci_low,
        "ci_high": ci_high,
    }


def tally_to_aggregate(scope: str, tally: Tally) -> ScoreAggregate:
    count = sum(tally.distribution)
    # Clamped: a person is at least one row (see "READ COMMITTED" in the docstring).
    raters = count if tally.raters is None else min(tally.raters, count)
    stats = statistics(tally.distribution, raters)
    verified_count = sum(tally.verified_distribution)
    verified_raters = (
        verified_count if tally.verified_raters is None else min(tally.verified_raters, verified_count)
    )
    by_district = {}
    for district_id, distribution in sorted(tally.by_district.items()):
        district_stats = statistics(distribution)
        district_count = district_stats["count"]
        district_raters = (
            district_count
            if tally.district_raters is None
            else min(tally.district_raters.get(district_id, 0), district_count, raters)
        )
        by_district[str(district_id)] = {
            "count": district_count,
            "raters": district_raters,
            "mean": float(district_stats["mean"]),
            "distribution": distribution,
        }
    return ScoreAggregate(
        scope=scope,
        object_id=tally.object_id,
        distribution=tally.distribution,
        by_district=by_district,
        raters=raters,
        held_count=tally.held,
        verified_count=verified_count,
        verified_raters=verified_raters,
        verified_distribution=tally.verified_distribution,
        **stats,
    )


class _ByObject:
    """Rows of a stream ordered by object, handed out one object at a time."""

    def __init__(self, rows: Iterable[dict]) -> None:
        self._rows = iter(rows)
        self._next: dict | None = next(self._rows, None)

    def take(self, object_id: int) -> list[dict]:
        # Objects the scores did not see (a commit between the two statements) are skipped.
        while self._next is not None and self._next["oid"] < object_id:
            self._next = next(self._rows, None)
        taken = []
        while self._next is not None and self._next["oid"] == object_id:
            taken.append(self._next)
            self._next = next(self._rows, None)
        return taken


def tallies(
    rows: Iterable[dict],
    *,
    raters: Iterable[dict] | None = None,
    district_raters: Iterable[dict] | None = None,
) -> Iterator[Tally]:
    """Fold grouped rows (ordered by object) into one tally per object, streaming.

    ``rows`` are ``grouped_scores`` rows; ``district_raters`` and ``raters``
    (both optional, both ordered by object) the distinct residents per
    district and per object. Without ``raters`` the object's raters are the
    sum over its district groups.
    """
    per_object = _ByObject(raters) if raters is not None else None
    per_district = _ByObject(district_raters) if district_raters is not None else None

    def finished(tally: Tally) -> Tally:
        if per_district is not None:
            groups = per_district.take(tally.object_id)
            tally.district_raters = {g["d"]: g["raters"] for g in groups if g["d"] is not None}
            tally.raters = sum(g["raters"] for g in groups)
            tally.verified_raters = sum(g["verified_raters"] for g in groups)
        if per_object is not None:
            found = per_object.take(tally.object_id)
            tally.raters = found[0]["raters"] if found else 0
            tally.verified_raters = found[0]["verified_raters"] if found else 0
        return tally

    current: Tally | None = None
    for row in rows:
        if current is None or current.object_id != row["oid"]:
            if current is not None:
                yield finished(current)
            current = Tally(object_id=row["oid"])
        current.add(row["d"], row["score"], row["n"], trust=row["trust_state"], verified=row["v"])
    if current is not None:
        yield finished(current)


def scope_tallies(
    scope: str, object_id: int | None = None, *, chunk_size: int | None = None
) -> Iterator[Tally]:
    """The tallies of one scope (all objects, or only ``object_id``), from at most
    three grouped queries streamed side by side (server-side cursors with ``chunk_size``)."""

    def stream(queryset: QuerySet | None) -> Iterable[dict] | None:
        if queryset is None or chunk_size is None:
            return queryset
        return queryset.iterator(chunk_size=chunk_size)

    return tallies(
        stream(grouped_scores(scope, object_id)),
        raters=stream(grouped_raters(scope, object_id)),
        district_raters=stream(grouped_district_raters(scope, object_id)),
    )


AGGREGATE_UPDATE_FIELDS = [
    "count",
    "total",
    "mean",
    "distribution",
    "by_district",
    "ci_low",
    "ci_high",
    "raters",
    "held_count",
    "verified_count",
    "verified_raters",
    "verified_distribution",
    "updated_at",
]


def aggregates_upsert(aggregates: list[ScoreAggregate]) -> None:
    """``INSERT … ON CONFLICT (scope, object_id) DO UPDATE`` in one statement."""
    if aggregates:
        ScoreAggregate.objects.bulk_create(
            aggregates,
            update_conflicts=True,
            unique_fields=["scope", "object_id"],
            update_fields=AGGREGATE_UPDATE_FIELDS,
        )
