"""An item page's participation panel is read with the page's own rows.

The indicator and story pages send the panel's reads (districts, approved comments with
their replies, the item's aggregate: ``feedback.selectors.panel_reads``) in the page's one
round trip (``indicators.selectors.page_reads``). The page they give is the page the panel's
own reads give, byte for byte. A page being stored shows them only when the versions of the
item's tags were read before the build (``read_before``); otherwise the panel reads them
again after their versions, so no stored page is staler than what it shows.
"""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from feedback.aggregates import aggregates_refresh, target_aggregate_keys
from feedback.models import Comment, ModerationState
from feedback.moderation import comment_moderate
from feedback.replies import reply_write
from feedback.selectors import PANEL_COMMENTS
from indicators import cache as page_cache
from indicators import selectors
from tests.factories import DistrictFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment, rate

pytestmark = pytest.mark.django_db


def _page(client, url: str) -> tuple[str, int]:
    """The page and its round trips to the database."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _rated(target, score: int, on_commit) -> None:
    """``target`` rated ``score`` by a new resident, its aggregates refreshed, their tags bumped."""
    assert rate(new_resident_client(), target, score).status_code in (200, 302)
    with on_commit(execute=True):
        aggregates_refresh(keys=target_aggregate_keys(target, None))


def _editor():
    return get_user_model().objects.get_or_create(username="editor", defaults={"is_staff": True})[0]


def _approved(target, body: str, on_commit) -> Comment:
    """A resident's comment on ``target``, approved by staff (its tag bumped)."""
    assert comment(new_resident_client(), target, body).status_code in (200, 302)
    pending = Comment.objects.get(body=body)
    with on_commit(execute=True):
        return comment_moderate(comment=pending, approve=True, moderator=_editor())


def _panel(page: str) -> str:
    return page[page.index('id="participation"') :]


@pytest.mark.parametrize("kind", ["indicator", "story"])
def test_the_page_with_the_panel_read_in_its_round_trip_is_the_page_read_apart(
    client, settings, kind, indicator, story, monkeypatch, django_capture_on_commit_callbacks
):
    """Rated above the minimum, more approved comments than the panel shows, one with a
    district and an official reply: the page is the same, in both languages, whether the
    panel's reads went with the page's or were the panel's own round trips."""
    settings.PAGE_CACHE = False
    settings.AGGREGATE_MIN_COUNT = 2
    target = indicator if kind == "indicator" else story
    for score in (5, 3, 4):
        _rated(target, score, django_capture_on_commit_callbacks)
    district = DistrictFactory(name="东城区", name_en="Dongcheng")
    first = _approved(target, "最早的一条留言", django_capture_on_commit_callbacks)
    Comment.objects.filter(pk=first.pk).update(district=district)
    with django_capture_on_commit_callbacks(execute=True):
        reply_write(target=first, author=_editor(), author_title="东城区责任规划师", body="已转交街道。")
    for n in range(PANEL_COMMENTS):
        _approved(target, f"留言{n}", django_capture_on_commit_callbacks)
    assert Comment.objects.filter(moderation_state=ModerationState.APPROVED).count() == PANEL_COMMENTS + 1
    url = target.get_absolute_url()

    english = Client()
    assert english.post("/i18n/setlang/", {"language": "en", "next": "/"}).status_code == 302
    browsers = {"zh-hans": client, "en": english}
    pages = {}
    for language, browser in browsers.items():
        together, round_trips = _page(browser, url)
        assert round_trips == 1
        pages[language] = together
    assert 'lang="en"' in pages["en"][:200]
    shown = _panel(pages["zh-hans"])
    assert "共 3 人评价" in shown and "4.00" in shown
    assert "留言19" in shown and "最早的一条留言" not in shown  # the newest 20, a link to the rest

    monkeypatch.setitem(selectors._page_reads, kind, {})
    for language, browser in browsers.items():
        apart, round_trips = _page(browser, url)
        # The indicator page's satisfaction beside its figure, then the panel; the story's panel.
        assert round_trips == (3 if kind == "indicator" else 2)
        assert apart == pages[language]


@pytest.mark.parametrize("kind", ["indicator", "story"])
def test_a_stored_page_reads_the_panel_again_unless_its_versions_came_first(
    client, settings, kind, indicator, story, monkeypatch, django_capture_on_commit_callbacks
):
    settings.PAGE_CACHE = True
    settings.AGGREGATE_MIN_COUNT = 1
    # This process has not built the page yet: no tag found while building it.
    monkeypatch.setattr(page_cache, "_found_while_building", {})
    target = indicator if kind == "indicator" else story
    url = target.get_absolute_url()
    apart = 3 if kind == "indicator" else 2
    assert client.get("/").status_code == 200  # the report schedule's next time looked up

    # First build: the item's tags are not known before it, so the panel's rows read with the
    # page's are not shown; they are read again after their versions. Then from the cache.
    assert _page(client, url)[1] == apart
    assert _page(client, url)[1] == 0

    # A rating refreshed: the page is built again, the item's tags' versions read with its
    # entry before the build, so the rows read with the page's are shown: one round trip.
    _rated(target, 2, django_capture_on_commit_callbacks)
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "共 1 人评价" in _panel(page)
    assert _page(client, url)[1] == 0

    # A comment approved: the same.
    _approved(target, "路口的红绿灯时间太短", django_capture_on_commit_callbacks)
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "路口的红绿灯时间太短" in _panel(page)

    # A process that has not built the page (no hint) reads the stale entry's tags before it
    # rebuilds: the rows read with the page's are shown, one round trip.
    page_cache._found_while_building.clear()
    _rated(target, 4, django_capture_on_commit_callbacks)
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "共 2 人评价" in _panel(page)
    if kind == "indicator":
        satisfaction = page[page.index('id="perception-title"') : page.index('id="participation"')]
        assert "共 2 人评价" in satisfaction and "3.00" in satisfaction
