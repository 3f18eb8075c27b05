"""Every public page runs a fixed number of SQL queries, however big the report.

Each test opens its page on the same shape of report at size N and at size 10N
(more sections, indicators with several values, stories with photos, districts,
links between stories and indicators, and hidden drafts around them) and
asserts the same number of queries on both. The tests only read, so each size is
built once for the module (all the N tests, then all the 10N ones) and rolled
back after them. When a number here changes, say why in the comment beside it.
"""

from collections.abc import Iterator

import pytest
from django.db import transaction

from indicators.models import StoryKind
from tests.factories import (
    ChapterFactory,
    DistrictFactory,
    EditionFactory,
    IndicatorFactory,
    PhotoFactory,
    SectionFactory,
    StoryFactory,
    StreetFactory,
)

pytestmark = pytest.mark.django_db


def build_report(size: int) -> dict:
    """A 7-chapter report whose every list grows with ``size``.

    Every indicator and story mentions 公园 so that search results grow too.
    Returns the objects whose pages the tests open.
    """
    edition = EditionFactory(year=2023)
    EditionFactory(year=2024, draft=True)
    streets = [StreetFactory(district=DistrictFactory()) for _ in range(size)]
    kinds = [StoryKind.BEST_ALLEY, StoryKind.PARK_GREEN, StoryKind.HOTLINE_THEME]
    first: dict = {}
    for number in range(1, 8):
        chapter = ChapterFactory(edition=edition, number=number, slug=f"chapter-{number}")
        sections = [SectionFactory(chapter=chapter, number=n + 1) for n in range(size)]
        indicators = [
            IndicatorFactory(
                chapter=chapter,
                section=sections[n % size] if n % 3 else None,
                name=f"公园指标{number}-{n}",
                headline=n % 2 == 0,
                values=[(2021, n), (2022, n + 1), (2023, n + 2, "约")],
            )
            for n in range(2 * size)
        ]
        IndicatorFactory(chapter=chapter, name=f"草稿公园指标{number}", headline=True, draft=True)
        stories = [
            StoryFactory(
                chapter=chapter,
                kind=kinds[n % len(kinds)],
                street=streets[n],
                rank=n + 1,
                title=f"公园故事{number}-{n}",
                body="公园故事正文。\n\n第二段。",
                indicators=[indicators[0], indicators[n]],
            )
            for n in range(size)
        ]
        StoryFactory(chapter=chapter, title=f"草稿公园故事{number}", draft=True, indicators=[indicators[0]])
        for story in stories:
            PhotoFactory(story=story)
        if number == 1:
            # The pages opened below hold ``size``-many photos and related items.
            for _ in range(size):
                PhotoFactory(story=stories[0])
            stories[0].indicators.add(*indicators)
            first = {"chapter": chapter, "indicator": indicators[0], "story": stories[0]}
    return first


@pytest.fixture(scope="module", params=[2, 20], ids=["N", "10N"])
def size(request) -> int:
    return request.param


@pytest.fixture(scope="module")
def report(size, module_transaction, django_db_blocker) -> Iterator[dict]:
    """The report at ``size``, built once for the module's tests of that size (see
    ``module_transaction`` in tests/conftest.py) and rolled back before the next size."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield build_report(size)
        transaction.set_rollback(True)


def test_home_queries(client, django_assert_num_queries, report, size):
    # 1 the latest public edition
    # 2 one round trip (indicators.selectors.edition_page): the chapters with their public
    #   indicator and story counts, the headline indicators with their chapters, their values
    #   and the published editions for the header's switcher (was 4 queries)
    with django_assert_num_queries(2):
        response = client.get("/")
    assert response.status_code == 200
    assert len(response.context["headlines"]) == 7 * size


def test_chapter_queries(client, django_assert_num_queries, report, size):
    chapter = report["chapter"]

    # 1 one round trip of eight statements (indicators.selectors.chapter_page): the chapter
    #   with its edition (public edition only), its sections, its public indicators, the
    #   values of the chapter's indicators, its public stories with district and street, the
    #   published editions for the header's edition switcher, and (feedback's, registered with
    #   the page: ChapterPage.added) the stored satisfaction aggregates (never the raw ratings)
    #   of the chapter and of its indicators and stories, for its score and their chart
    with django_assert_num_queries(1):
        response = client.get(chapter.get_absolute_url())
    assert response.status_code == 200
    assert response.context["indicator_count"] == 2 * size


def test_indicator_list_queries(client, django_assert_num_queries, report, size):
    # 1 the edition; 2 its public indicators with chapter (and its edition); 3 their values
    # 4 the published editions, for the header's edition switcher (indicators.templatetags.report)
    with django_assert_num_queries(4):
        response = client.get("/2023/indicators/")
    assert response.status_code == 200
    assert sum(len(group["indicators"]) for group in response.context["groups"]) == 7 * 2 * size


def test_indicator_queries(client, django_assert_num_queries, report, size):
    indicator = report["indicator"]

    # 1 one round trip of seven statements (indicators.selectors.indicator_page): the indicator
    #   with its edition, chapter (and its edition) and section, its values, its public stories
    #   with edition, district and street, and the published editions (the header's switcher,
    #   and the other editions the page depends on); and (feedback's, registered with the page:
    #   IndicatorPage.added) the participation panel's districts for the rating and comment
    #   forms, its approved comments with their official replies, and its stored score
    #   aggregate (never the raw ratings), shown beside its figure and in the panel. The same
    #   indicator in the other public editions is a second round trip, none here (no other
    #   public edition). Was 3 round trips (the aggregate and the panel each its own), 5 before.
    with django_assert_num_queries(1):
        response = client.get(indicator.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["stories"]) == size
    assert len(response.context["series"]) == 3


def test_story_list_queries(client, django_assert_num_queries, report, size):
    # 1 the edition
    # 2 the districts that have public stories (the filter's options)
    # 3 the number of matching stories (pagination)
    # 4 one page of stories with edition, district, street and chapter
    # 5 the published editions, for the header's edition switcher (indicators.templatetags.report)
    with django_assert_num_queries(5):
        response = client.get("/2023/stories/")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 7 * size

    with django_assert_num_queries(5):
        response = client.get("/2023/stories/", {"kind": StoryKind.BEST_ALLEY, "page": 2})
    assert response.status_code == 200


def test_story_queries(client, django_assert_num_queries, report, size):
    story = report["story"]

    # 1 one round trip of eight statements (indicators.selectors.story_page): the story with its
    #   edition, chapter (and its edition), district and street, its photos, its public
    #   indicators with their editions, the values of those, the published editions for the
    #   header's edition switcher, and (feedback's, StoryPage.added) the participation panel's
    #   districts, its comments with replies and its aggregate (was 2 round trips, 8 before)
    with django_assert_num_queries(1):
        response = client.get(story.get_absolute_url())
    assert response.status_code == 200
    assert len(response.context["photos"]) == size + 1
    assert len(response.context["indicators"]) == 2 * size


def test_search_queries(client, django_assert_num_queries, report, size):
    # 1 matching public indicators with edition, chapter and section
    # 2 the values of those indicators
    # 3 matching public stories with edition, district, street and chapter
    with django_assert_num_queries(3):
        response = client.get("/search/", {"q": "公园"})
    assert response.status_code == 200
    assert len(response.context["indicators"]) == min(7 * 2 * size, 50)
    assert len(response.context["stories"]) == min(7 * size, 50)
