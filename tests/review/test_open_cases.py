"""Which feedback opens a review case, in which district, exactly once."""

import threading

import pytest
from django.db import IntegrityError, connection, transaction

from feedback.models import Comment, Rating, SurveyAnswer
from feedback.my_data import resident_data_delete
from review.models import CaseAction, CaseKind, CaseRoute, CaseStatus, ReviewCase
from review.services import case_open_for_feedback
from tests.factories import DistrictFactory, EditionFactory, IndicatorFactory, StoryFactory
from tests.review.helpers import (
    make_survey,
    new_resident_key,
    submit_comment,
    submit_rating,
    submit_survey,
)

pytestmark = pytest.mark.django_db


def test_every_comment_opens_one_new_case_with_an_opening_history_row():
    story = StoryFactory(district=DistrictFactory())
    comment, case = submit_comment(story, "公园厕所太少。")
    assert case.kind == CaseKind.COMMENT
    assert case.status == CaseStatus.NEW
    assert case.story == story and case.chapter_id == story.chapter_id
    assert case.text == "公园厕所太少。"
    [event] = case.events.all()
    assert event.action == CaseAction.OPENED and event.actor is None


def test_opening_twice_returns_the_same_case():
    story = StoryFactory(district=DistrictFactory())
    comment, case = submit_comment(story)
    again = case_open_for_feedback(comment=comment)
    assert again.pk == case.pk
    assert ReviewCase.objects.count() == 1
    assert case.events.count() == 1


@pytest.mark.parametrize(
    ("comment_district", "story_district", "resident_district", "expected", "route"),
    [
        ("c", "s", "r", "c", CaseRoute.RESIDENT_DISTRICT),
        (None, "s", "r", "r", CaseRoute.RESIDENT_DISTRICT),
        (None, "s", None, "s", CaseRoute.ITEM_DISTRICT),
        (None, None, "r", "r", CaseRoute.RESIDENT_DISTRICT),
        (None, None, None, None, CaseRoute.CITY),
    ],
)
def test_comment_case_is_routed_to_the_residents_district_else_the_items_else_the_city(
    comment_district, story_district, resident_district, expected, route
):
    districts = {name: DistrictFactory() for name in "csr"}
    story = StoryFactory(district=districts[story_district] if story_district else None)
    key = new_resident_key()
    if resident_district:
        # The resident's self-reported district comes from an earlier submission.
        submit_rating(IndicatorFactory(), 5, district=districts[resident_district], key=key)
    comment, case = submit_comment(
        story, district=districts[comment_district] if comment_district else None, key=key
    )
    assert case.district == (districts[expected] if expected else None)
    assert case.route == route


def test_survey_answers_open_cases_only_with_free_text():
    district = DistrictFactory()
    survey = make_survey(EditionFactory())
    submit_survey(survey, {"公共交通": (2, "公交车太挤"), "积水防涝": (1, "   ")}, district=district)
    [case] = ReviewCase.objects.all()
    assert case.kind == CaseKind.SURVEY_ANSWER
    assert case.text == "公交车太挤"
    assert case.score == 2
    assert case.district == district
    assert case.question.dimension == "公共交通"


def test_low_ratings_open_cases_and_a_raised_score_keeps_the_case_showing_the_new_score():
    district = DistrictFactory()
    indicator = IndicatorFactory()
    submit_rating(indicator, 3, district=district)
    assert ReviewCase.objects.count() == 0
    key = new_resident_key()
    submit_rating(indicator, 2, district=district, key=key)
    [case] = ReviewCase.objects.all()
    assert (case.kind, case.score, case.district) == (CaseKind.RATING, 2, district)
    submit_rating(indicator, 5, district=district, key=key)
    case.refresh_from_db()
    assert ReviewCase.objects.count() == 1
    assert ReviewCase.objects.select_related("rating").get().score == 5


def test_rating_without_district_takes_the_story_district():
    district = DistrictFactory()
    submit_rating(StoryFactory(district=district), 1)
    assert ReviewCase.objects.get().district == district


def test_deleting_the_residents_data_keeps_their_cases_marked():
    key = new_resident_key()
    submit_comment(StoryFactory(district=DistrictFactory()), key=key)
    submit_rating(IndicatorFactory(), 1, key=key)
    assert ReviewCase.objects.count() == 2
    assert resident_data_delete(resident_key_hash=key)
    cases = {case.kind: case for case in ReviewCase.objects.all()}
    assert set(cases) == {CaseKind.COMMENT, CaseKind.RATING}
    assert all(case.feedback_deleted_at is not None for case in cases.values())
    assert cases[CaseKind.RATING].rating is None and cases[CaseKind.RATING].score == 1
    assert cases[CaseKind.COMMENT].text == ""
    assert all(case.events.filter(action=CaseAction.DELETED).count() == 1 for case in cases.values())


def test_exactly_one_feedback_row_is_required():
    with pytest.raises(ValueError, match="exactly one"):
        case_open_for_feedback()


@pytest.mark.django_db(transaction=True)
def test_concurrent_opening_of_one_comment_makes_one_case():
    story = StoryFactory(district=DistrictFactory())
    comment, _case = submit_comment(story)
    ReviewCase.objects.all().delete()
    barrier = threading.Barrier(8)
    errors = []

    def open_case():
        try:
            barrier.wait()
            fresh = Comment.objects.get(pk=comment.pk)
            case_open_for_feedback(comment=fresh)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=open_case) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ReviewCase.objects.filter(comment=comment).count() == 1
    assert ReviewCase.objects.get(comment=comment).events.filter(action=CaseAction.OPENED).count() == 1


def test_case_rows_hold_the_feedback_kinds_consistently():
    # The database refuses a case whose kind does not match its feedback row.

    story = StoryFactory(district=DistrictFactory())
    comment, case = submit_comment(story)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewCase.objects.filter(pk=case.pk).update(kind=CaseKind.RATING)
    assert Rating.objects.count() == 0 and SurveyAnswer.objects.count() == 0
