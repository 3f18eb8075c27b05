"""The aggregate API of an indicator, story or chapter, read lean (issue 9), answers as before.

A cold read (the first after each refresh of the item's aggregate) sends the item's
publication check and its stored aggregate together, compiled once per process, and
serialises the summary with one serializer kept per process. An integrator sees exactly
what ``TargetAggregateSerializer`` gives for the stored aggregate, in every state of it
(nothing counted yet, withheld below the minimum, shown with its districts, the verified
tier), and the same 404 for every item that is not public.
"""

import json

import pytest
from rest_framework.renderers import JSONRenderer

from feedback.aggregates import aggregates_reconcile
from feedback.models import AggregateScope, Resident
from feedback.residents import resident_key_hash
from feedback.selectors import aggregates_by_object
from feedback.serializers import TargetAggregateSerializer
from feedback.submissions import rating_submit
from tests.factories import ChapterFactory, DistrictFactory, EditionFactory, IndicatorFactory, StoryFactory

pytestmark = pytest.mark.django_db

PATHS = {
    AggregateScope.INDICATOR: "indicators",
    AggregateScope.STORY: "stories",
    AggregateScope.CHAPTER: "chapters",
}


def _rate(target, scores, *, who: str, district=None) -> None:
    for i, score in enumerate(scores):
        rating_submit(
            resident_key_hash=resident_key_hash(f"{who}-{i}"), target=target, score=score, district=district
        )


def _as_the_serializer_gives(scope: str, pk: int, *, verified_only: bool) -> dict:
    summary = aggregates_by_object(scope=scope, object_ids=[pk], verified_only=verified_only)[pk]
    data = TargetAggregateSerializer({"scope": scope, "object_id": pk, "score": summary}).data
    return json.loads(JSONRenderer().render(data))


def _assert_as_before(client, scope: str, pk: int) -> dict:
    for verified in (False, True):
        url = f"/api/v1/aggregates/{PATHS[scope]}/{pk}/" + ("?verified=true" if verified else "")
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.json() == _as_the_serializer_gives(scope, pk, verified_only=verified), url
    return client.get(f"/api/v1/aggregates/{PATHS[scope]}/{pk}/").json()["score"]


def test_every_state_of_an_aggregate_reads_as_the_serializer_gives_it(client, chapter, settings):
    settings.AGGREGATE_MIN_COUNT = 3
    indicator, story = IndicatorFactory(chapter=chapter), StoryFactory(chapter=chapter)
    items = ((AggregateScope.INDICATOR, indicator.pk), (AggregateScope.STORY, story.pk))
    everything = (*items, (AggregateScope.CHAPTER, chapter.pk))

    # Nothing rated yet: no stored row, an empty summary.
    for scope, pk in everything:
        assert _assert_as_before(client, scope, pk)["count"] == 0

    # Below the minimum: counted, the figures withheld.
    _rate(indicator, [5, 4], who="few")
    aggregates_reconcile()
    few = _assert_as_before(client, AggregateScope.INDICATOR, indicator.pk)
    assert (few["count"], few["mean"], few["distribution"]) == (2, None, None)

    # Shown, with two districts (one of them below the minimum) and a verified tier.
    north, south = DistrictFactory(), DistrictFactory()
    _rate(indicator, [1, 2, 3, 4], who="north", district=north)
    _rate(indicator, [5], who="south", district=south)
    _rate(story, [3, 3, 4, 5], who="story")
    Resident.objects.filter(key_hash__in=[resident_key_hash(f"north-{i}") for i in range(3)]).update(
        verified_at=chapter.edition.published_at
    )
    aggregates_reconcile()
    shown = _assert_as_before(client, AggregateScope.INDICATOR, indicator.pk)
    # 5, 4, 1, 2, 3, 4, 5 → 24 / 7 = 3.429.
    assert (shown["count"], shown["mean"], shown["distribution"]) == (7, "3.429", [1, 1, 1, 2, 2])
    assert shown["by_district"][str(north.pk)]["count"] == 4
    assert shown["verified_count"] == 3
    for scope, pk in everything:
        _assert_as_before(client, scope, pk)


def test_what_is_not_public_is_a_404_in_one_round_trip(client, chapter, django_assert_num_queries):
    draft_edition = EditionFactory(draft=True)
    hidden_chapter = ChapterFactory(edition=draft_edition)
    not_public = {
        "a draft indicator": f"indicators/{IndicatorFactory(chapter=chapter, draft=True).pk}",
        "a scheduled story": f"stories/{StoryFactory(chapter=chapter, scheduled=True).pk}",
        "an indicator of a draft edition": f"indicators/{IndicatorFactory(chapter=hidden_chapter).pk}",
        "a chapter of a draft edition": f"chapters/{hidden_chapter.pk}",
        "an unknown story": "stories/999999",
        "an id beyond 64 bits": f"indicators/{10**20}",
    }
    for what, path in not_public.items():
        with django_assert_num_queries(1):
            response = client.get(f"/api/v1/aggregates/{path}/")
        assert response.status_code == 404, what

    # A bad parameter is still answered before anything is read.
    with django_assert_num_queries(0):
        response = client.get(f"/api/v1/aggregates/chapters/{chapter.pk}/?verified=perhaps")
    assert response.status_code == 400
    assert "verified" in response.json()
