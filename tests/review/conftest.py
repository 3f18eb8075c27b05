"""The workspace's world: two areas, their planners, staff, and a case in each.

``world`` makes it for each test. A module whose tests need it only as it starts (each test
runs in its own savepoint) can share its rows instead, made once for the module (about a
hundred queries fewer per test): it defines ``world`` as ``world_shared``. Its tests then run
after the module's others (``module_transaction`` in tests/conftest.py).
"""

from dataclasses import dataclass, fields

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


def world_build() -> World:
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


@pytest.fixture
def world(db) -> World:
    return world_build()


@pytest.fixture(scope="module")
def world_rows(module_transaction) -> World:
    return world_build()


@pytest.fixture
def world_shared(world_rows, db) -> World:
    """The module's world as fresh instances, so that nothing a test changed or cached on them
    outlives its savepoint."""
    return World(
        *(
            type(row)._base_manager.get(pk=row.pk)
            for row in (getattr(world_rows, f.name) for f in fields(World))
        )
    )
