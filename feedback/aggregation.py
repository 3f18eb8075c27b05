"""How score aggregates are computed: in SQL, grouped, never row by row.

Every aggregate is built from one ``GROUP BY (object, district, score)`` query
over the raw rows of its scope. Because scores are 1–5, those few counts per
object hold everything: the count, the total, the distribution, the
per-district breakdown and the variance. Python only folds the grouped rows
(at most objects × 17 districts × 5 scores, whatever the number of ratings).

The 95 % interval is the normal approximation
``mean ± 1.96 · s / √n`` with ``s`` the sample standard deviation
(``n − 1`` in the denominator), clipped to the 1–5 scale; it is left empty
below two scores, where ``s`` is undefined.

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

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import Coalesce

from feedback.models import AggregateScope, Rating, ScoreAggregate, SurveyAnswer

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


def _grouped(queryset: QuerySet, oid, district) -> QuerySet:
    """``(oid, district, score, n)`` rows, ordered by object so they can be streamed."""
    return (
        queryset.annotate(oid=oid, d=district)
        .filter(oid__isnull=False)
        .values("oid", "d", "score")
        .annotate(n=Count("*"))
        .order_by("oid", "d", "score")
    )


def grouped_scores(scope: str, object_id: int | None = None) -> QuerySet:
    """The GROUP BY query of one scope (all objects, or only ``object_id``)."""
    match scope:
        case AggregateScope.INDICATOR:
            qs, oid, district = Rating.objects.all(), F("indicator_id"), F("district_id")
        case AggregateScope.STORY:
            qs, oid, district = Rating.objects.all(), F("story_id"), F("district_id")
        case AggregateScope.CHAPTER:
            qs = Rating.objects.all()
            oid, district = Coalesce("indicator__chapter_id", "story__chapter_id"), F("district_id")
            if object_id is not None:
                # Filter on the columns first so the item indexes are used.
                qs = qs.filter(Q(indicator__chapter_id=object_id) | Q(story__chapter_id=object_id))
        case AggregateScope.DISTRICT:
            qs, oid, district = Rating.objects.all(), F("district_id"), F("district_id")
        case AggregateScope.QUESTION:
            qs, oid, district = SurveyAnswer.objects.all(), F("question_id"), F("response__district_id")
        case AggregateScope.SURVEY:
            qs = SurveyAnswer.objects.all()
            oid, district = F("question__survey_id"), F("response__district_id")
            if object_id is not None:
                qs = qs.filter(question__survey_id=object_id)
        case _:
            raise ValueError(scope)
    grouped = _grouped(qs, oid, district)
    if object_id is not None:
        grouped = grouped.filter(oid=object_id)
    return grouped


@dataclass
class Tally:
    """Counts per score (index 0 = score 1) of one object, with districts."""

    object_id: int
    distribution: list[int] = field(default_factory=lambda: [0] * 5)
    by_district: dict[int, list[int]] = field(default_factory=dict)

    def add(self, district_id: int | None, score: int, n: int) -> None:
        self.distribution[score - 1] += n
        if district_id is not None:
            self.by_district.setdefault(district_id, [0] * 5)[score - 1] += n


def _quantize(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_THOUSANDTH, rounding=ROUND_HALF_UP)


def statistics(distribution: list[int]) -> dict:
    """Count, total, mean and 95 % interval of a 1–5 distribution."""
    count = sum(distribution)
    total = sum(n * score for score, n in enumerate(distribution, start=1))
    if count == 0:
        return {"count": 0, "total": 0, "mean": None, "ci_low": None, "ci_high": None}
    mean = Decimal(total) / Decimal(count)
    ci_low = ci_high = None
    if count >= 2:
        squares = sum(n * score * score for score, n in enumerate(distribution, start=1))
        variance = max((squares - total * total / count) / (count - 1), 0.0)
        half = Z_95 * math.sqrt(variance / count)
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
    by_district = {}
    for district_id, distribution in sorted(tally.by_district.items()):
        stats = statistics(distribution)
        by_district[str(district_id)] = {
            "count": stats["count"],
            "mean": float(stats["mean"]),
            "distribution": distribution,
        }
    return ScoreAggregate(
        scope=scope,
        object_id=tally.object_id,
        distribution=tally.distribution,
        by_district=by_district,
        **statistics(tally.distribution),
    )


def tallies(rows: Iterable[dict]) -> Iterator[Tally]:
    """Fold grouped rows (ordered by object) into one tally per object, streaming."""
    current: Tally | None = None
    for row in rows:
        if current is None or current.object_id != row["oid"]:
            if current is not None:
                yield current
            current = Tally(object_id=row["oid"])
        current.add(row["d"], row["score"], row["n"])
    if current is not None:
        yield current


AGGREGATE_UPDATE_FIELDS = [
    "count",
    "total",
    "mean",
    "distribution",
    "by_district",
    "ci_low",
    "ci_high",
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
