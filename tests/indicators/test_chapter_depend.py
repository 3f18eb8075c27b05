"""The chapter page tells the page cache which aggregates it shows only when the page is
being stored: an uncached page (the cache off, or a response that will not be stored)
builds none of the tags, which nothing would read; a stored page still depends on the
chapter's and every item's aggregate, read before the scores. The truncation text the
story rows share is Django's."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.utils import translation
from django.utils.text import Truncator, add_truncation_text

from feedback.models import AggregateScope
from indicators import cache as page_cache
from indicators.models import Chapter
from indicators.templatetags.report import truncated, truncation_text

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


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_truncation_text_translated_once_is_djangos(language):
    with translation.override(language):
        ellipsis = truncation_text()
        assert add_truncation_text("x") == add_truncation_text("x", ellipsis)
        for text in ("短", "一" * 90, "二" * 91, "Cafe\u0301 " * 30, "a" * 200):
            assert truncated(text, 90, ellipsis) == Truncator(text).chars(90) == truncated(text, 90)
