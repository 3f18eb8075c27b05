"""The page cache (indicators/cache.py) on real Redis: exact invalidation, nothing personal.

Every write goes through the site's own path — the admin, the publish service, the
import, the aggregate refresh and reconciliation, moderation, a reply — and its bumps
run after its commit (``django_capture_on_commit_callbacks``), as in production. A
page served from the cache runs no query at all; one built afresh runs its view's.
"""

import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.aggregates import aggregates_reconcile, aggregates_refresh, target_aggregate_keys
from feedback.models import Comment, Survey, SurveyQuestion
from feedback.moderation import comment_moderate
from feedback.replies import reply_write
from indicators import services
from indicators.models import Indicator, IndicatorValue, PublishStatus
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, SectionFactory, StoryFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import comment, rate
from tests.indicators.test_import_export import _csv, _import, _row

pytestmark = pytest.mark.django_db

PUBLIC = "public, max-age=0, s-maxage=60, stale-while-revalidate=60"
# The park indicator's 2023 figure as a staff import changes it.
NEW_PARK_FIGURE = {
    "数值": "91.2",
    "限定词": "以上",
    "数值来源": "市园林绿化局 2024 年通报",
    "来源日期": "2024-03-01",
}


@pytest.fixture(autouse=True)
def _page_cache_on(settings) -> None:
    settings.PAGE_CACHE = True


@pytest.fixture
def report() -> dict:
    """Two published editions. In 2023, chapter 4 (section 2) with two indicators and a story
    (the park indicator as tests/indicators/test_import_export.py knows it); in 2022, one indicator."""
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(edition=edition, number=4, slug="ecology", theme="生态底线")
    section = SectionFactory(chapter=chapter, number=2, title="公园绿地")
    park = IndicatorFactory(
        chapter=chapter,
        section=section,
        code="park-coverage",
        name="公园绿地500米服务半径覆盖率",
        name_en="Park coverage",
        unit="%",
        year=2023,
        source_text="由88.7%提高到90.5%。",
        values=[(2022, "88.7"), (2023, "90.5")],
    )
    water = IndicatorFactory(chapter=chapter, section=section, code="water", name="再生水利用量")
    story = StoryFactory(chapter=chapter, slug="alley", title="最美街巷", indicators=[water])
    older = IndicatorFactory(chapter=ChapterFactory(edition=EditionFactory(year=2022)), name="往年指标")
    return {"chapter": chapter, "park": park, "water": water, "story": story, "older": older}


@pytest.fixture
def urls(report) -> dict[str, str]:
    return {
        "chapter": report["chapter"].get_absolute_url(),
        "park": report["park"].get_absolute_url(),
        "water": report["water"].get_absolute_url(),
        "story": report["story"].get_absolute_url(),
        # A page of the other edition showing none of 2023's content (an indicator's page
        # shows the same indicator in every edition, so it depends on all of them).
        "older": report["older"].chapter.get_absolute_url(),
        "park_api": f"/api/v1/aggregates/indicators/{report['park'].pk}/",
        "water_api": f"/api/v1/aggregates/indicators/{report['water'].pk}/",
        "park_comments": f"/api/v1/comments/?target_type=indicator&target_id={report['park'].pk}",
    }


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser("editor", "editor@example.org", "a-long-passphrase")
    client = Client()
    client.force_login(user)
    return client


def _get(client: Client, url: str, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response, len(queries)


def _from_cache(client: Client, url: str, **headers) -> str:
    response, queries = _get(client, url, **headers)
    assert (response.status_code, queries) == (200, 0), f"{url}: not from the cache"
    return response.content.decode()


def _fresh(client: Client, url: str, **headers) -> str:
    response, queries = _get(client, url, **headers)
    assert response.status_code == 200, url
    assert queries > 0, f"{url}: came from the cache"
    return response.content.decode()


def _warm(client: Client, *urls: str) -> None:
    for url in urls:
        assert client.get(url).status_code == 200, url
        _from_cache(client, url)


def _entries() -> list:
    """Every page cache entry stored in Redis."""
    cache = caches["pages"]
    keys = cache.client.get_client().keys(cache.make_key("e:*"))
    prefix = cache.make_key("")
    return [cache.get(key.decode()[len(prefix) :]) for key in keys]


# --- Served from the cache -------------------------------------------------------------------------


def test_pages_and_read_api_are_served_from_the_cache_without_a_query(client, report, urls):
    pages = [
        "/",
        "/2023/",
        "/2023/indicators/",
        "/2023/stories/",
        "/2023/stories/?kind=park_green",
        "/privacy/",
        "/api/v1/indicators/",
        "/api/v1/indicators/2023/park-coverage/",
        "/api/v1/stories/?edition=2023",
        *urls.values(),
    ]
    first = {url: client.get(url) for url in pages}
    for url in pages:
        response, queries = _get(client, url)
        assert (response.status_code, queries) == (200, 0), url
        assert response.content == first[url].content, url
        assert response["ETag"] == first[url]["ETag"], url
        assert response["Cache-Control"] == PUBLIC, url
        assert "Cookie" in response["Vary"], url
        assert not response.cookies, url


def test_a_shared_link_with_extra_parameters_gets_the_same_page(client, urls):
    """WeChat adds ?from=timeline&isappinstalled=0 to every shared link."""
    _warm(client, urls["park"])
    assert _from_cache(client, urls["park"] + "?from=timeline&isappinstalled=0") == _from_cache(
        client, urls["park"]
    )


def test_what_is_not_stored_is_built_each_time(client, report):
    for url, headers in [
        ("/api/v1/indicators/?q=公园", {}),  # a text search: one entry per query would have no bound
        ("/api/v1/indicators/", {"HTTP_ACCEPT": "text/html"}),  # the browsable API
        ("/api/v1/indicators/?chapter=no-such-chapter", {}),  # no rows: junk filters fill nothing
        ("/api/v1/indicators/?unknown=1", {}),  # a parameter the view was not declared to read
        ("/2023/stories/?kind=no-such-kind", {}),  # an invalid filter
        ("/search/?q=公园", {}),
    ]:
        _fresh(client, url, **headers)
        _fresh(client, url, **headers)


# --- Exact invalidation --------------------------------------------------------------------------------


def test_a_staff_edit_renews_its_editions_pages_and_no_other(
    client, staff, report, urls, django_capture_on_commit_callbacks
):
    _warm(client, "/", urls["chapter"], urls["park"], urls["older"], "/privacy/")
    value = IndicatorValue.objects.get(indicator=report["park"], year=2023)
    edit = {
        "indicator": value.indicator_id,
        "year": 2023,
        "month": "",
        "value": "90.6",
        "qualifier": "",
        "source": "市园林绿化局 2024 年通报",
        "source_date": "2024-03-01",
        "confirm_differs": "on",
    }

    with django_capture_on_commit_callbacks(execute=True):
        saved = staff.post(reverse("admin:indicators_indicatorvalue_change", args=[value.pk]), edit)

    assert saved.status_code == 302
    assert "90.6%" in _fresh(client, urls["park"])
    assert "90.6%" in _fresh(client, urls["chapter"])
    _fresh(client, "/")  # the latest edition's home page
    _from_cache(client, urls["older"])  # another edition's page
    _from_cache(client, "/privacy/")


def test_a_row_moved_to_another_edition_renews_both(
    client, staff, report, urls, django_capture_on_commit_callbacks
):
    edition_2022 = report["older"].edition
    _warm(client, "/2022/", urls["older"], urls["chapter"])

    with django_capture_on_commit_callbacks(execute=True):
        saved = staff.post(
            reverse("admin:indicators_edition_change", args=[edition_2022.pk]),
            {
                "year": 2021,
                "title": "改名的读本",
                "title_en": "",
                "preface": "",
                "preface_en": "",
                "status": PublishStatus.PUBLISHED,
                "published_at_0": "2020-01-01",
                "published_at_1": "00:00:00",
            },
        )

    assert saved.status_code == 302
    # The old year's pages are gone at once, the new year's are there.
    assert client.get("/2022/").status_code == 404
    assert client.get(urls["older"]).status_code == 404
    assert "改名的读本" in _fresh(client, "/2021/")
    # 2023's content is untouched, but its pages list the editions (the header's switcher).
    assert 'href="/2021/"' in _fresh(client, urls["chapter"])


def test_publish_and_unpublish_renew_the_pages_they_change(
    client, report, urls, django_capture_on_commit_callbacks
):
    draft = IndicatorFactory(chapter=report["chapter"], name="新发布的指标", draft=True)
    _warm(client, urls["chapter"], urls["older"], "/privacy/")
    assert "新发布的指标" not in _from_cache(client, urls["chapter"])

    with django_capture_on_commit_callbacks(execute=True):
        services.publishable_publish(queryset=Indicator.objects.filter(pk=draft.pk))

    assert "新发布的指标" in _fresh(client, urls["chapter"])
    _from_cache(client, urls["older"])
    _from_cache(client, "/privacy/")

    _warm(client, urls["park"])
    with django_capture_on_commit_callbacks(execute=True):
        services.publishable_unpublish(queryset=Indicator.objects.filter(pk=report["park"].pk))

    assert client.get(urls["park"]).status_code == 404
    assert "公园绿地500米服务半径覆盖率" not in _fresh(client, urls["chapter"])


def test_a_scheduled_publication_appears_when_its_time_comes(client, report, urls):
    due = timezone.now() + timedelta(seconds=1.5)
    IndicatorFactory(chapter=report["chapter"], name="定时发布的指标", published_at=due)
    _warm(client, urls["chapter"], "/privacy/")
    assert "定时发布的指标" not in _from_cache(client, urls["chapter"])

    time.sleep(max(0, (due - timezone.now()).total_seconds()) + 0.1)

    assert "定时发布的指标" in _fresh(client, urls["chapter"])
    _from_cache(client, urls["chapter"])
    _from_cache(client, "/privacy/")


def test_an_import_renews_the_pages_of_its_edition(
    client, staff, report, urls, django_capture_on_commit_callbacks
):
    _warm(client, urls["park"], urls["older"])
    row = _row(NEW_PARK_FIGURE)

    with django_capture_on_commit_callbacks(execute=True):
        _import(staff, _csv([row]), "0")

    assert "91.2%" in _fresh(client, urls["park"])
    _from_cache(client, urls["older"])


def test_a_preview_of_an_import_renews_nothing(
    client, staff, report, urls, django_capture_on_commit_callbacks
):
    _warm(client, urls["park"])
    row = _row(NEW_PARK_FIGURE)

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:indicators_indicator_import"),
            {"format": "0", "resource": "0", "import_file": _csv([row])},
        )

    assert "90.5%" in _from_cache(client, urls["park"])


def test_an_aggregate_refresh_renews_exactly_the_pages_showing_that_item(
    client, report, urls, django_capture_on_commit_callbacks
):
    _warm(client, *urls.values())
    rate(new_resident_client(), report["park"], 4)

    with django_capture_on_commit_callbacks(execute=True):
        aggregates_refresh(keys=target_aggregate_keys(report["park"], None))

    assert "共 1 人评价" in _fresh(client, urls["park"])
    _fresh(client, urls["chapter"])  # the chapter's satisfaction counts it too
    assert client.get(urls["park_api"]).json()["score"]["count"] == 1
    for unchanged in ("water", "story", "older", "water_api", "park_comments"):
        _from_cache(client, urls[unchanged])


def test_a_reconciliation_renews_only_what_it_changed(
    client, report, urls, django_capture_on_commit_callbacks
):
    rate(new_resident_client(), report["park"], 5)
    _warm(client, urls["park"], urls["water"])

    with django_capture_on_commit_callbacks(execute=True):
        aggregates_reconcile()

    assert "共 1 人评价" in _fresh(client, urls["park"])
    _from_cache(client, urls["water"])

    with django_capture_on_commit_callbacks(execute=True):
        aggregates_reconcile()  # nothing changed since

    _from_cache(client, urls["park"])


def test_an_approved_comment_and_its_reply_appear_at_once(
    client, staff, report, urls, django_capture_on_commit_callbacks
):
    comment(new_resident_client(), report["park"], "公园离家近多了")
    pending = Comment.objects.get()
    _warm(client, urls["park"], urls["park_comments"], urls["water"])
    editor = get_user_model().objects.get(username="editor")

    with django_capture_on_commit_callbacks(execute=True):
        comment_moderate(comment=pending, approve=True, moderator=editor)

    assert "公园离家近多了" in _fresh(client, urls["park"])
    assert client.get(urls["park_comments"]).json()["count"] == 1
    _from_cache(client, urls["water"])

    with django_capture_on_commit_callbacks(execute=True):
        reply_write(target=pending, author=editor, author_title="东城区责任规划师", body="感谢关注，已记录。")

    assert "感谢关注，已记录。" in _fresh(client, urls["park"])
    _from_cache(client, urls["water"])


def test_the_survey_page_changes_when_the_survey_closes(client, report):
    now = timezone.now()
    closes = now + timedelta(seconds=1.5)
    survey = Survey.objects.create(
        edition=report["chapter"].edition,
        slug="satisfaction",
        title="满意度调查",
        opens_at=now - timedelta(days=1),
        closes_at=closes,
        status=PublishStatus.PUBLISHED,
        published_at=now - timedelta(days=1),
    )
    SurveyQuestion.objects.create(survey=survey, order=1, dimension="公共交通", text="您对公共交通是否满意？")
    _warm(client, "/survey/")
    assert "提交答卷" in _from_cache(client, "/survey/")

    time.sleep(max(0, (closes - timezone.now()).total_seconds()) + 0.1)

    page = _fresh(client, "/survey/")
    assert "问卷已截止" in page and "提交答卷" not in page


# --- Nothing personal ----------------------------------------------------------------------------------


def test_no_cached_response_carries_a_cookie_a_token_or_a_residents_own_data(client, report, urls):
    resident = new_resident_client()
    assert rate(resident, report["park"], 4).status_code == 302

    # Back on the page with the flash message: built for this visitor alone, never stored.
    flashed = resident.get(urls["park"])
    assert "已收到您的评分：4 分" in flashed.content.decode()
    assert flashed["Cache-Control"] == "private, no-store"
    # Then the resident, who has a cookie, gets the page everyone gets.
    mine = resident.get(urls["park"])
    assert mine["Cache-Control"] == PUBLIC and not mine.cookies
    anonymous = _from_cache(client, urls["park"])

    for html in (anonymous, mine.content.decode()):
        assert "csrfmiddlewaretoken" not in html
        assert "您的评分：4 分" not in html  # neither the flash message nor the panel's line
    entries = _entries()
    assert entries
    for entry in entries:
        body = entry.body.decode()
        assert "csrfmiddlewaretoken" not in body and "您的评分：4 分" not in body
        assert all(name.lower() != "set-cookie" for name, _value in entry.headers)
    # The resident's own score comes from the private fragment.
    fragment = resident.get(f"/me/fragment/?item=indicator:{report['park'].pk}")
    assert fragment.json()["rating"]["score"] == 4
    assert fragment["Cache-Control"] == "private, no-store"
    assert client.get(f"/me/fragment/?item=indicator:{report['park'].pk}").json() == {}


def test_personal_and_unsafe_responses_are_private_and_never_stored(client, report, urls):
    resident = new_resident_client()
    posted = rate(resident, report["park"], 3)
    assert posted["Cache-Control"] == "private, no-store"
    for url in ("/my-data/", "/me/fragment/", "/api/v1/me/", "/admin/", "/review/"):
        response = resident.get(url)
        assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"], url


# --- HTTP ------------------------------------------------------------------------------------------------


def test_conditional_gets_are_answered_304_without_building_the_page(
    client, report, urls, django_capture_on_commit_callbacks
):
    _warm(client, urls["park"])
    time.sleep(1.05)  # Last-Modified is sent once a whole second has passed since the last change
    page = client.get(urls["park"])
    etag, modified = page["ETag"], page["Last-Modified"]

    for headers in ({"HTTP_IF_NONE_MATCH": etag}, {"HTTP_IF_MODIFIED_SINCE": modified}):
        response, queries = _get(client, urls["park"], **headers)
        assert (response.status_code, queries) == (304, 0), headers
        assert response["ETag"] == etag and response["Cache-Control"] == PUBLIC

    rate(new_resident_client(), report["park"], 2)
    with django_capture_on_commit_callbacks(execute=True):
        aggregates_refresh(keys=target_aggregate_keys(report["park"], None))

    for headers in ({"HTTP_IF_NONE_MATCH": etag}, {"HTTP_IF_MODIFIED_SINCE": modified}):
        response = client.get(urls["park"], **headers)
        assert response.status_code == 200, headers
        assert response["ETag"] != etag and "共 1 人评价" in response.content.decode()


def test_each_language_has_its_own_entry(client, report, urls, settings):
    _warm(client, urls["park"])
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    assert '<html lang="en"' in _fresh(english, urls["park"])
    assert '<html lang="en"' in _from_cache(english, urls["park"])
    assert '<html lang="zh-Hans"' in _from_cache(client, urls["park"])


def test_each_display_mode_has_its_own_entry(client, report, urls):
    """The large-text mode (cookie ``portal_display=large``) never gets the standard page, nor
    the standard visitor the large one; any other value is the standard mode."""
    for url in (urls["park"], urls["chapter"], "/"):
        _warm(client, url)
        standard = client.get(url)["ETag"]
        large = Client()
        large.cookies["portal_display"] = "large"
        _fresh(large, url)
        _from_cache(large, url)
        assert large.get(url)["ETag"] != standard, url
        other = Client()
        other.cookies["portal_display"] = "huge"
        _from_cache(other, url)
        assert other.get(url)["ETag"] == standard == client.get(url)["ETag"], url


def test_with_the_page_cache_off_every_page_is_built_and_nothing_stored(client, report, urls, settings):
    settings.PAGE_CACHE = False
    for url in (urls["park"], urls["chapter"], "/api/v1/indicators/", urls["park_api"]):
        first, first_queries = _get(client, url)
        again, again_queries = _get(client, url)
        assert again_queries == first_queries > 0, url
        assert "ETag" not in again and again["Cache-Control"] == PUBLIC, url
    assert _entries() == []


def test_the_language_switch_needs_no_token_and_refuses_other_sites(report):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/2023/")
    assert "csrfmiddlewaretoken" not in page.content.decode() and not page.cookies

    for foreign in ({"HTTP_ORIGIN": "https://evil.example"}, {"HTTP_REFERER": "https://evil.example/x"}):
        refused = browser.post("/i18n/setlang/", {"language": "en"}, **foreign)
        assert refused.status_code == 403 and "django_language" not in refused.cookies

    switched = browser.post(
        "/i18n/setlang/",
        {"language": "en"},
        HTTP_ORIGIN="http://testserver",
        HTTP_REFERER="http://testserver/2023/",
    )
    assert switched.status_code == 302 and switched["Location"] == "http://testserver/2023/"
    assert '<html lang="en"' in browser.get("/2023/").content.decode()
