"""The rating POST of the API, written out for speed (issue 9), answers what DRF's serializers did.

``feedback.api`` builds the 201 body by hand and reads only the target's columns a
rating uses; a client sees exactly what ``RatingSerializer`` gives for the stored row,
the same 400 for an item that is not public, and a low rating still opens its case
where the item lies.
"""

import pytest

from feedback.models import Rating
from feedback.serializers import RatingSerializer
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
