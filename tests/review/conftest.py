from dataclasses import dataclass

import pytest

from review.models import ReviewCase
from tests.factories import ChapterFactory, DistrictFactory, IndicatorFactory, StoryFactory, StreetFactory
from tests.review.helpers import make_planner, make_staff, submit_comment


@dataclass
class World:
    district_a: object
    district_b: object
    street_a: object
    chapter: object
    indicator: object
    story_a: object
    story_b: object
    planner_a: object
    colleague_a: object
    planner_b: object
    staff: object
    case_a: ReviewCase
    case_b: ReviewCase


@pytest.fixture
def world(db) -> World:
    district_a = DistrictFactory(name="东城区", slug="dongcheng")
    district_b = DistrictFactory(name="西城区", slug="xicheng")
    street_a = StreetFactory(district=district_a, name="东华门街道")
    chapter = ChapterFactory(theme="城市治理")
    indicator = IndicatorFactory(chapter=chapter, name="背街小巷环境整治")
    story_a = StoryFactory(chapter=chapter, street=street_a, title="东城最美街巷")
    story_b = StoryFactory(chapter=chapter, district=district_b, title="西城口袋公园")
    planner_a = make_planner("planner_a", districts=[district_a], title="东城区责任规划师")
    colleague_a = make_planner("colleague_a", districts=[district_a], title="东城区责任规划师")
    planner_b = make_planner("planner_b", districts=[district_b], title="西城区责任规划师")
    staff = make_staff()
    _comment_a, case_a = submit_comment(story_a, "胡同里的共享单车太多了，走路不方便。")
    _comment_b, case_b = submit_comment(story_b, "口袋公园晚上没有照明。")
    return World(
        district_a,
        district_b,
        street_a,
        chapter,
        indicator,
        story_a,
        story_b,
        planner_a,
        colleague_a,
        planner_b,
        staff,
        case_a,
        case_b,
    )
