"""Small helpers shared by the participation tests."""

import json
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Sum
from django.test import Client
from django.urls import reverse

from feedback.models import Rating, ScoreAggregate, SurveyAnswer
from indicators.models import Indicator

API_RATINGS = "/api/v1/ratings/"
API_COMMENTS = "/api/v1/comments/"
API_SURVEY = "/api/v1/survey-responses/"
API_ME = "/api/v1/me/"


def kind_of(target) -> str:
    return "indicator" if isinstance(target, Indicator) else "story"


def rate(client: Client, target, score, **extra):
    return client.post(reverse("feedback:rate", args=[kind_of(target), target.pk]), {"score": score, **extra})


def comment(client: Client, target, body: str, **extra):
    return client.post(
        reverse("feedback:comment", args=[kind_of(target), target.pk]), {"body": body, **extra}
    )


def api_post(client: Client, url: str, payload) -> object:
    return client.post(url, data=json.dumps(payload), content_type="application/json")


def api_rate(client: Client, target, score, **extra):
    return api_post(
        client, API_RATINGS, {"target_type": kind_of(target), "target_id": target.pk, "score": score, **extra}
    )


def exact_mean(scores: list[int]) -> Decimal:
    return (Decimal(sum(scores)) / Decimal(len(scores))).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def aggregate_of(scope: str, object_id: int) -> ScoreAggregate | None:
    return ScoreAggregate.objects.filter(scope=scope, object_id=object_id).first()


def truth() -> dict[tuple[str, int], tuple[int, int]]:
    """(scope, id) → (count, total) straight from the raw rows, by a different route
    than the aggregation code (one ORM aggregate per scope)."""
    expected: dict[tuple[str, int], tuple[int, int]] = {}
    sources = [
        ("indicator", Rating.objects.filter(indicator__isnull=False), "indicator_id"),
        ("story", Rating.objects.filter(story__isnull=False), "story_id"),
        ("district", Rating.objects.filter(district__isnull=False), "district_id"),
        ("question", SurveyAnswer.objects.all(), "question_id"),
        ("survey", SurveyAnswer.objects.all(), "question__survey_id"),
    ]
    for scope, queryset, column in sources:
        for row in queryset.values(column).annotate(n=Count("id"), s=Sum("score")):
            expected[(scope, row[column])] = (row["n"], row["s"])
    chapters: dict[int, list[int]] = {}
    for rating in Rating.objects.select_related("indicator", "story"):
        chapter_id = rating.indicator.chapter_id if rating.indicator_id else rating.story.chapter_id
        if chapter_id:
            chapters.setdefault(chapter_id, []).append(rating.score)
    for chapter_id, scores in chapters.items():
        expected[("chapter", chapter_id)] = (len(scores), sum(scores))
    return expected


def stored() -> dict[tuple[str, int], tuple[int, int]]:
    return {(a.scope, a.object_id): (a.count, a.total) for a in ScoreAggregate.objects.all()}
