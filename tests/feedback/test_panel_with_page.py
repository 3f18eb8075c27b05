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
from django.urls import reverse

from feedback.aggregates import aggregates_refresh, target_aggregate_keys
from feedback.models import Comment, ModerationState
from feedback.moderation import comment_moderate
from feedback.replies import reply_write
from feedback.selectors import PANEL_COMMENTS
from indicators import cache as page_cache
from indicators import selectors
from tests.factories import ChapterFactory, DistrictFactory, EditionFactory, IndicatorFactory, StoryFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment, rate

pytestmark = pytest.mark.django_db


def _page(client, url: str) -> tuple[str, int]:
    """The page and its round trips to the database."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def _stored(client, url: str, round_trips: int) -> str:
    """The page built and stored in ``round_trips``, then served from the cache (none)."""
    page, made_in = _page(client, url)
    assert made_in == round_trips
    assert _page(client, url)[1] == 0
    return page


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


@pytest.fixture
def stored_pages(client, settings, monkeypatch) -> None:
    """The page cache on, in a process that has built no page yet (no tag found while
    building one), the report schedule's next time looked up; a single rating shows a mean."""
    settings.PAGE_CACHE = True
    settings.AGGREGATE_MIN_COUNT = 1
    monkeypatch.setattr(page_cache, "_found_while_building", {})
    assert client.get("/").status_code == 200


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_superuser("staff", "staff@example.org", "a-long-passphrase")
    browser = Client()
    browser.force_login(user)
    return browser


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
    client, stored_pages, kind, indicator, story, django_capture_on_commit_callbacks
):
    target = indicator if kind == "indicator" else story
    url = target.get_absolute_url()
    apart = 3 if kind == "indicator" else 2

    # First build: the item's tags are not known before it, so the panel's rows read with the
    # page's are not shown; they are read again after their versions. Then from the cache.
    _stored(client, url, apart)

    # A rating refreshed: the page is built again, the item's tags' versions read with its
    # entry before the build, so the rows read with the page's are shown: one round trip.
    _rated(target, 2, django_capture_on_commit_callbacks)
    assert "共 1 人评价" in _panel(_stored(client, url, 1))

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


def _two_editions() -> tuple:
    """The same indicator (its code) in the 2022 and 2023 editions, both public, each with
    its own figure; the 2023 one with a story."""
    older = IndicatorFactory(
        chapter=ChapterFactory(edition=EditionFactory(year=2022)),
        code="park",
        year=2022,
        values=[(2022, "88.7")],
    )
    current = IndicatorFactory(
        chapter=ChapterFactory(edition=EditionFactory(year=2023)), code="park", values=[(2023, "90.5")]
    )
    StoryFactory(chapter=current.chapter, indicators=[current])
    return older, current


def _editions_table(page: str) -> str:
    return page[page.index('id="editions-title"') : page.index("</table>", page.index('id="editions-title"'))]


def test_an_indicator_page_reads_its_other_editions_with_its_rows(
    client, settings, django_capture_on_commit_callbacks
):
    """The same indicator in the other editions and the satisfaction of each go with the
    page's round trip; the page is the one read in four round trips (each read on its own,
    as a first build of the stored page reads them, after their versions)."""
    settings.AGGREGATE_MIN_COUNT = 1
    older, current = _two_editions()
    _rated(older, 2, django_capture_on_commit_callbacks)
    _rated(current, 5, django_capture_on_commit_callbacks)
    url = current.get_absolute_url()

    settings.PAGE_CACHE = False
    together, round_trips = _page(client, url)
    assert round_trips == 1
    table = _editions_table(together)
    assert "88.7" in table and "90.5" in table
    assert "2.00 / 5" in table and "5.00 / 5" in table

    settings.PAGE_CACHE = True
    assert client.get("/").status_code == 200  # the report schedule's next time looked up
    apart, round_trips = _page(client, url)
    assert round_trips == 4  # the page, its other editions, their satisfaction, the panel
    assert apart == together


def test_a_stored_indicator_page_shows_another_editions_change_read_with_its_rows(
    client, stored_pages, staff_client, django_capture_on_commit_callbacks
):
    older, current = _two_editions()
    url = current.get_absolute_url()
    _stored(client, url, 4)

    # The 2022 indicator rated: the 2023 page is built again in one round trip and shows it.
    _rated(older, 3, django_capture_on_commit_callbacks)
    assert "3.00 / 5" in _editions_table(_stored(client, url, 1))

    # Staff correct the 2022 figure: the same.
    value = older.values.get()
    edit = {"indicator": older.pk, "year": 2022, "month": "", "value": "88.9", "qualifier": ""}
    edit.update({"source": "市园林绿化局 2023 年通报", "source_date": "2023-03-01", "confirm_differs": "on"})
    with django_capture_on_commit_callbacks(execute=True):
        saved = staff_client.post(reverse("admin:indicators_indicatorvalue_change", args=[value.pk]), edit)
    assert saved.status_code == 302
    page, round_trips = _page(client, url)
    assert round_trips == 1
    assert "88.9" in _editions_table(page) and "88.7" not in _editions_table(page)
