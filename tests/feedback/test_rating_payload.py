"""The rating POST of the API, written out for speed (issue 9), answers what DRF's serializers did.

``feedback.api`` builds the 201 body by hand, validates the usual body without the
serializer and negotiates the usual Accept header without DRF's parser of it; for a new
resident the target's check and both INSERTs are one statement. A client sees exactly
what ``RatingSerializer`` gives for the stored row, the serializer's 400 for every odd
body and for an item that is not public, the rows the ORM would have written, and a low
rating still opens its case where the item lies.
"""

import json

import pytest

from feedback.models import Rating
from feedback.serializers import RatingInputSerializer, RatingSerializer
from indicators.models import PublishStatus
from review.models import ReviewCase
from tests.factories import DistrictFactory, IndicatorFactory, StoryFactory, StreetFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import api_rate

pytestmark = pytest.mark.django_db


def _as_drf_gives(response) -> dict:
    stored = Rating.objects.get(pk=response.json()["id"])
    return dict(RatingSerializer(stored).data)


def test_the_answer_is_what_the_serializer_gives_for_the_stored_row(chapter):
    district = DistrictFactory()
    indicator = IndicatorFactory(chapter=chapter)
    story = StoryFactory(chapter=chapter, street=StreetFactory())
    resident = new_resident_client()

    first = api_rate(resident, indicator, 4, district=district.pk)
    assert first.status_code == 201
    assert first.json() == _as_drf_gives(first)
    assert first.json()["district"] == district.pk and first.json()["target_type"] == "indicator"

    # The same resident changes it: the same row, its new score.
    again = api_rate(resident, indicator, 2)
    assert again.status_code == 201
    assert again.json() == _as_drf_gives(again)
    assert again.json()["id"] == first.json()["id"] and again.json()["score"] == 2

    on_story = api_rate(new_resident_client(), story, 5)
    assert on_story.status_code == 201
    assert on_story.json() == _as_drf_gives(on_story)
    assert on_story.json()["district"] is None and on_story.json()["target_id"] == story.pk


def test_an_item_that_is_not_public_is_refused_as_before(chapter):
    draft = IndicatorFactory(chapter=chapter, status=PublishStatus.DRAFT)
    response = api_rate(new_resident_client(), draft, 4)
    assert response.status_code == 400
    assert response.json()["target_id"] == ["没有这个已发布的指标或亮点故事。"]
    assert not Rating.objects.exists()


def test_a_low_rating_of_a_story_opens_its_case_where_the_story_lies(chapter):
    street = StreetFactory()
    story = StoryFactory(chapter=chapter, street=street)

    assert api_rate(new_resident_client(), story, 4).status_code == 201
    assert not ReviewCase.objects.exists()  # 3-5 opens none

    assert api_rate(new_resident_client(), story, 1).status_code == 201
    case = ReviewCase.objects.get()
    assert (case.story_id, case.street_id, case.chapter_id) == (story.pk, street.pk, chapter.pk)
    assert case.district_id == street.district_id


def _rows_as_the_orm_writes(rating: Rating) -> dict:
    fields = ["score", "district_id", "trust", "hold_reason", "trust_note", "trust_decided_at"]
    return {name: getattr(rating, name) for name in fields} | {"has_source": bool(rating.source_hash)}


def test_a_new_residents_one_statement_stores_what_the_orm_path_stores(chapter):
    # The API's new resident (one statement) and a returning resident (the ORM's upsert)
    # leave rows alike: defaults, the address hash, the district, both timestamps.
    district = DistrictFactory()
    indicator = IndicatorFactory(chapter=chapter)
    story = StoryFactory(chapter=chapter)
    client = new_resident_client()
    first = api_rate(client, indicator, 2, district=district.pk)
    second = api_rate(client, story, 2, district=district.pk)
    assert first.status_code == second.status_code == 201
    by_statement = Rating.objects.get(pk=first.json()["id"])
    by_orm = Rating.objects.get(pk=second.json()["id"])
    assert _rows_as_the_orm_writes(by_statement) == _rows_as_the_orm_writes(by_orm)
    assert by_statement.resident_id == by_orm.resident_id
    assert by_statement.resident.district_id == district.pk
    assert by_statement.created_at <= by_statement.updated_at <= by_orm.created_at


PK = object()  # the indicator's key, filled in by the test


@pytest.mark.parametrize(
    "body",
    [
        {"target_type": "indicator", "target_id": 10**30, "score": 4},
        {"target_type": "story", "target_id": 2**63, "score": 4},
        {"target_type": "indicator", "target_id": 0, "score": 4},
        {"target_type": "indicator", "target_id": PK, "score": 6},
        {"target_type": "indicator", "target_id": PK, "score": True},
        {"target_type": "indicator", "target_id": True, "score": 4},
        {"target_type": "indicator", "target_id": 1.5, "score": 4},
        {"target_type": "Indicator", "target_id": PK, "score": 4},
        {"target_type": ["indicator"], "target_id": PK, "score": 4},
        {"target_type": "indicator", "target_id": PK, "score": "4"},
        {"target_type": "indicator", "target_id": PK, "score": 4.0},
        {"target_type": "indicator", "target_id": PK},
    ],
    ids=[
        "huge-id",
        "bigint-overflow",
        "zero-id",
        "score-6",
        "bool-score",
        "bool-id",
        "fraction-id",
        "type-case",
        "type-list",
        "string-score",
        "float-score",
        "no-score",
    ],
)
def test_every_body_gets_the_serializers_answer_new_resident_or_not(chapter, body):
    indicator = IndicatorFactory(chapter=chapter)
    body = {key: indicator.pk if value is PK else value for key, value in body.items()}
    # What DRF's serializer (with its own lookup of the target) makes of the body.
    serializer = RatingInputSerializer(data=body)
    expected = None if serializer.is_valid() else json.loads(json.dumps(serializer.errors))
    returning = new_resident_client()
    assert api_rate(returning, indicator, 3).status_code == 201
    for client in (new_resident_client(), returning):
        response = client.post("/api/v1/ratings/", data=json.dumps(body), content_type="application/json")
        if expected is None:
            assert response.status_code == 201
        else:
            assert response.status_code == 400
            assert response.json() == expected


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        ("application/json; indent=2", "application/json"),  # DRF indents the body
        ("text/html", "text/html; charset=utf-8"),
        ("image/png", "application/json"),  # DRF's 406, in JSON
    ],
)
def test_the_answer_is_negotiated_as_drf_does(chapter, accept, content_type):
    indicator = IndicatorFactory(chapter=chapter)
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    body = json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": 4})
    response = new_resident_client().post(
        "/api/v1/ratings/", data=body, content_type="application/json", **headers
    )
    assert response["Content-Type"] == content_type
    assert response.status_code == (406 if accept == "image/png" else 201)
    assert (b'\n  "id"' in response.content) == (accept == "application/json; indent=2")


@pytest.mark.parametrize(
    ("query", "content_type"),
    [
        ("?format=api", "text/html; charset=utf-8"),  # the browsable API, asked in the URL
        ("?format=json", "application/json"),
        ("?other=1", "application/json"),
    ],
)
def test_a_format_asked_in_the_query_string_is_negotiated_as_drf_does(chapter, query, content_type):
    indicator = IndicatorFactory(chapter=chapter)
    body = json.dumps({"target_type": "indicator", "target_id": indicator.pk, "score": 4})
    response = new_resident_client().post(
        f"/api/v1/ratings/{query}", data=body, content_type="application/json"
    )
    assert response.status_code == 201
    assert response["Content-Type"] == content_type
