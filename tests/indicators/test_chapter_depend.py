"""The chapter page tells the page cache which aggregates it shows only when the page is
being stored: an uncached page (the cache off, or a response that will not be stored)
builds none of the tags, which nothing would read; a stored page still depends on the
chapter's and every item's aggregate, read before the scores. The scores are read in the
page's one round trip unless the page is being stored and their tags' versions were not
read before the build (``read_before``): then they are read again, after them. The
truncation text the story rows share is Django's."""

import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from django.utils.text import Truncator, add_truncation_text

from feedback.aggregates import aggregates_refresh, target_aggregate_keys
from feedback.models import AggregateScope
from indicators import cache as page_cache
from indicators import selectors
from indicators.models import Chapter, Indicator
from indicators.templatetags.report import truncated, truncation_text
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import rate

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags_built(monkeypatch) -> list[tuple]:
    """Every aggregate tag built while the test runs (``aggregate_tag`` itself still answers)."""
    built: list[tuple] = []
    original = page_cache.aggregate_tag

    def counted(scope, object_id=None):
        built.append((scope, object_id))
        return original(scope, object_id)

    monkeypatch.setattr(page_cache, "aggregate_tag", counted)
    return built


def _first_chapter() -> Chapter:
    return Chapter.objects.select_related("edition").order_by("edition__year", "number").first()


def test_an_uncached_chapter_page_builds_no_aggregate_tag(client, settings, report_2023, tags_built):
    settings.PAGE_CACHE = False
    chapter = _first_chapter()
    response = client.get(chapter.get_absolute_url())
    assert response.status_code == 200
    assert 'class="indicator-item"' in response.content.decode()
    # (Modules first imported by the request build their scope-wide tags, once.)
    assert [(scope, pk) for scope, pk in tags_built if pk is not None] == []


def test_a_stored_chapter_page_depends_on_every_item(client, settings, report_2023, tags_built):
    settings.PAGE_CACHE = True
    chapter = _first_chapter()
    response = client.get(chapter.get_absolute_url())
    assert response.status_code == 200
    indicators = set(chapter.indicators.values_list("id", flat=True))
    stories = set(chapter.stories.values_list("id", flat=True))
    assert (AggregateScope.CHAPTER, chapter.pk) in tags_built
    assert {pk for scope, pk in tags_built if scope == AggregateScope.INDICATOR} == indicators
    assert {pk for scope, pk in tags_built if scope == AggregateScope.STORY} == stories


def test_records_only_while_a_page_to_store_is_built(settings):
    request = RequestFactory().get("/")
    assert not page_cache.records(request)
    seen = []

    def build(request):
        seen.append(page_cache.records(request))
        page_cache.dont_store(request)
        seen.append(page_cache.records(request))
        return HttpResponse("ok")

    settings.PAGE_CACHE = True
    policy = page_cache.Policy(tags=lambda request: ("shared",))
    page_cache.serve(request, build, policy, (), {}, language="zh-hans")
    assert seen == [True, False]
    assert not page_cache.records(request)


def _rated(chapter: Chapter, score: int, on_commit) -> Indicator:
    """A public indicator of ``chapter`` rated ``score`` by a new resident, its aggregates
    (and its chapter's) refreshed, their tags bumped."""
    indicator = Indicator.objects.published().filter(chapter=chapter).order_by("order", "id").first()
    assert rate(new_resident_client(), indicator, score).status_code in (200, 302)
    with on_commit(execute=True):
        aggregates_refresh(keys=target_aggregate_keys(indicator, None))
    return indicator


def _page(client, url: str) -> tuple[str, int]:
    """The page and its round trips to the database."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_an_uncached_chapter_page_reads_its_scores_with_its_rows(
    client, settings, report_2023, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = False
    settings.AGGREGATE_MIN_COUNT = 1
    chapter = _first_chapter()
    indicator = _rated(chapter, 4, django_capture_on_commit_callbacks)

    page, round_trips = _page(client, chapter.get_absolute_url())

    assert round_trips == 1
    score = page[page.index('id="chapter-score-title"') : page.index('id="item-scores-title"')]
    assert "共 1 人评价" in score
    table = page[page.index('id="item-scores-title"') :]
    assert indicator.name in table


def test_without_reads_registered_the_score_is_read_on_its_own(
    client, settings, report_2023, monkeypatch, django_capture_on_commit_callbacks
):
    """``indicators`` does not need feedback's registration: without it the chapter page
    sends its own six statements and the score tag reads the aggregates in a second trip."""
    settings.PAGE_CACHE = False
    settings.AGGREGATE_MIN_COUNT = 1
    monkeypatch.setitem(selectors._page_reads, "chapter", {})
    chapter = _first_chapter()
    indicator = _rated(chapter, 3, django_capture_on_commit_callbacks)

    page, round_trips = _page(client, chapter.get_absolute_url())

    assert round_trips == 2
    assert "共 1 人评价" in page
    assert indicator.name in page[page.index('id="item-scores-title"') :]


def test_a_stored_chapter_page_reads_its_scores_again_unless_their_versions_came_first(
    client, settings, report_2023, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    settings.AGGREGATE_MIN_COUNT = 1
    # This process has not built the page yet: no tag found while building it.
    monkeypatch.setattr(page_cache, "_found_while_building", {})
    chapter = _first_chapter()
    url = chapter.get_absolute_url()
    assert client.get("/").status_code == 200  # the report schedule's next time looked up

    # First build: the item tags are not known before it, so the scores read with the page's
    # rows are not shown; they are read again after their versions. Then from the cache.
    _, round_trips = _page(client, url)
    assert round_trips == 2
    assert _page(client, url)[1] == 0

    # A rating refreshed: the page is built again, the item tags' versions read with its entry
    # before the build, so the scores read with its rows are shown: one round trip.
    _rated(chapter, 2, django_capture_on_commit_callbacks)
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "共 1 人评价" in page
    assert _page(client, url)[1] == 0

    # A process that has not built the page (no hint) reads the stale entry's tags before it
    # rebuilds: the scores read with the rows are shown, one round trip.
    page_cache._found_while_building.clear()
    _rated(chapter, 4, django_capture_on_commit_callbacks)
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "共 2 人评价" in page

    # The entry still depends on every item: another item's refresh renews the page.
    story = chapter.stories.order_by("id").first()
    assert rate(new_resident_client(), story, 5).status_code in (200, 302)
    with django_capture_on_commit_callbacks(execute=True):
        aggregates_refresh(keys=target_aggregate_keys(story, None))
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "共 3 人评价" in page


def test_read_before_holds_only_for_versions_read_before_the_build(settings):
    settings.PAGE_CACHE = True
    item = page_cache.aggregate_tag(AggregateScope.INDICATOR, 987_654)
    late = page_cache.aggregate_tag(AggregateScope.STORY, 987_654)
    policy = page_cache.Policy(tags=lambda request: ("shared",))
    seen = []

    def build(request):
        seen.append((page_cache.read_before(request, "shared"), page_cache.read_before(request, item)))
        page_cache.depend(request, item)  # what a page does before reading the item's data
        return HttpResponse("ok")

    # Unknown before the first build: the data must be read again, after ``depend``.
    page_cache.serve(RequestFactory().get("/"), build, policy, (), {}, language="zh-hans")
    assert seen == [(True, False)]

    # The entry's tags are asked with it: after a bump of the item, the rebuild has its version.
    page_cache._bump([item])

    def rebuild(request):
        seen.append(page_cache.read_before(request, item))
        seen.append(page_cache.read_before(request, item, late))
        # A write to the item commits while the page is being built, after its data was read.
        page_cache._bump([item])
        return HttpResponse("built before the write")

    response = page_cache.serve(RequestFactory().get("/"), rebuild, policy, (), {}, language="zh-hans")
    assert response.content == b"built before the write"
    assert seen[1:] == [True, False]

    # The entry holds the version read before its data, so the write made it stale at once.
    response = page_cache.serve(RequestFactory().get("/"), build, policy, (), {}, language="zh-hans")
    assert response.content == b"ok"


def test_read_before_holds_for_a_page_not_stored(settings):
    settings.PAGE_CACHE = False
    request = RequestFactory().get("/")
    assert page_cache.read_before(request, "shared", page_cache.aggregate_tag(AggregateScope.STORY, 1))


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_truncation_text_translated_once_is_djangos(language):
    with translation.override(language):
        ellipsis = truncation_text()
        assert add_truncation_text("x") == add_truncation_text("x", ellipsis)
        for text in ("短", "一" * 90, "二" * 91, "Cafe\u0301 " * 30, "a" * 200):
            assert truncated(text, 90, ellipsis) == Truncator(text).chars(90) == truncated(text, 90)
