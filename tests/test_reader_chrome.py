"""What every page of the reader shares (issue 10 points 7 to 9), as a resident checks it.

- a share block on each public page: the page's own address, and a QR code that a
  phone's scanner reads back as that address (decoded here with zxing-cpp);
- Open Graph tags, so a link pasted into a chat shows the page's title and summary;
- the 适老化 display: switched from the header by a plain link, remembered in the
  ``portal_display`` cookie, rendered on ``<html>`` by the server, never served from
  the other mode's cached page, and refusing a ``next`` that leaves the site;
- a favicon, API docs pages that say their language and load nothing from outside
  (checked in Debian's Chromium: not one console message), and one-character
  Chinese search.
"""

import html
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from django.contrib.staticfiles import finders
from django.test.testcases import LiveServerThread
from django.urls import URLResolver, get_resolver
from django.utils import translation
from PIL import Image
from rest_framework.views import APIView

from portal.templatetags.chrome import CaptureNode
from tests.factories import ChapterFactory, EditionFactory, IndicatorFactory, StoryFactory

pytestmark = pytest.mark.django_db

SITE_URL = "https://tijian.example.cn"
# Debian's Chromium, which scripts/test installs (as for tests/browser/).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(autouse=True)
def _site_url(settings) -> None:
    settings.SITE_URL = SITE_URL


@pytest.fixture
def report():
    edition = EditionFactory(year=2023)
    chapter = ChapterFactory(edition=edition, slug="ecology", theme="生态底线", title="坚守生态底线")
    rain = IndicatorFactory(
        chapter=chapter,
        code="c4-rainwater",
        name="雨水年利用量",
        source_text="全市雨水年利用量持续提高。",
    )
    story = StoryFactory(
        chapter=chapter,
        edition=edition,
        slug="sponge-park",
        title="海绵公园",
        summary="下雨天，公园把雨水留住。",
        body="公园里的下凹绿地在暴雨时蓄水。",
    )
    return {
        "home": "/",
        "edition": "/2023/",
        "chapter": "/2023/chapters/ecology/",
        "indicator": rain.get_absolute_url(),
        "story": story.get_absolute_url(),
    }


def _page(client, url: str, **extra) -> str:
    response = client.get(url, **extra)
    assert response.status_code == 200, url
    return response.content.decode()


def _meta(page: str, prop: str) -> str | None:
    found = re.search(rf'<meta property="{re.escape(prop)}" content="([^"]*)">', page)
    return html.unescape(found.group(1)) if found else None


def _share_block(page: str) -> str | None:
    found = re.search(r'<aside class="share".*?</aside>', page, flags=re.S)
    return found.group(0) if found else None


def qr_decoded(svg: str) -> list[str]:
    """What a scanner reads from the QR code's SVG: the dark modules drawn as pixels
    (segno draws each row's runs as ``h`` strokes), read by zxing-cpp."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r'<path stroke="#000" d="([^"]+)"', svg).group(1)
    image = Image.new("L", (size, size), 255)
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for column in range(int(x), int(x + float(first))):
                image.putpixel((column, int(y)), 0)
            x += float(first)
    image = image.resize((size * 8, size * 8), Image.Resampling.NEAREST)
    return [found.text for found in zxingcpp.read_barcodes(image)]


# --- Share block --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["home", "edition", "chapter", "indicator", "story"])
def test_public_page_shares_its_canonical_address_as_link_and_qr_code(client, report, kind):
    path = report[kind]
    # The host a request names, and a tracking parameter, are not the page's address.
    page = _page(client, path + "?from=timeline", HTTP_HOST="localhost")
    block = _share_block(page)
    assert block is not None, f"no share block on {path}"
    canonical = SITE_URL + path
    link = re.search(r'<a class="share__url" href="([^"]+)">([^<]+)</a>', block)
    assert link.group(1) == link.group(2) == canonical
    svg = re.search(r"<svg .*?</svg>", block, flags=re.S).group(0)
    assert 'role="img"' in svg and "<title>本页链接的二维码</title>" in svg
    assert qr_decoded(svg) == [canonical]


def test_share_block_is_absent_where_there_is_nothing_public_to_share(client, report):
    not_found = client.get("/2023/indicators/no-such-indicator/")
    assert not_found.status_code == 404
    my_data = client.get("/my-data/")
    for response in (not_found, my_data):
        page = response.content.decode()
        assert _share_block(page) is None
        assert "og:url" not in page


# --- Open Graph -----------------------------------------------------------------------------------


def test_open_graph_tags_describe_each_page(client, report):
    for kind, path in report.items():
        page = _page(client, path)
        title = html.unescape(re.search(r"<title>(.*?)</title>", page, flags=re.S).group(1))
        description = html.unescape(re.search(r'<meta name="description" content="([^"]*)">', page).group(1))
        assert _meta(page, "og:title") == title, kind
        assert _meta(page, "og:description") == description, kind
        assert _meta(page, "og:url") == SITE_URL + path
        assert f'<link rel="canonical" href="{SITE_URL}{path}">' in page
        assert _meta(page, "og:type") == (
            "article" if kind in ("chapter", "indicator", "story") else "website"
        )
        assert _meta(page, "og:locale") == "zh_CN"
        assert _meta(page, "og:site_name") == "北京城市体检"
        image = _meta(page, "og:image")
        assert image.startswith(SITE_URL + "/static/img/share-card.")
    indicator = _page(client, report["indicator"])
    assert _meta(indicator, "og:title").startswith("雨水年利用量")
    assert "全市雨水年利用量持续提高。" in _meta(indicator, "og:description")


def test_open_graph_image_is_served_and_english_pages_say_their_locale(client, report, settings):
    image = _meta(_page(client, "/"), "og:image").removeprefix(SITE_URL)
    assert client.get(image).status_code == 200
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _page(client, report["story"])
    assert _meta(page, "og:locale") == "en_US"
    assert _meta(page, "og:locale:alternate") == "zh_CN"


def test_captured_title_is_plain_text_escaped_once(client, report):
    page = _page(client, "/search/", data={"q": "<b>&amp;"})
    title = re.search(r"<title>(.*?)</title>", page, flags=re.S).group(1)
    assert "&lt;b&gt;&amp;amp;" in title
    assert "<b>" not in title
    assert CaptureNode.child_nodelists == ("nodelist",)  # blocks inside stay overridable


# --- 适老化 display ---------------------------------------------------------------------------------


def _html_class(page: str) -> str:
    """``<html>``'s class: "display-large", or "" in the standard display (no class at all)."""
    found = re.search(r'<html lang="[^"]+"(?: class="([^"]+)")?>', page)
    return found.group(1) or ""


def test_display_switch_link_sets_the_cookie_and_the_page_renders_large(client, report):
    home = _page(client, "/2023/")
    assert _html_class(home) == ""
    link = re.search(r'<a class="display-switch" rel="nofollow" href="([^"]+)">大字版', home)
    assert link is not None, "the header links to the large display"
    href = html.unescape(link.group(1))
    assert href == "/display/?mode=large&next=/2023/"

    switched = client.get(href)
    assert switched.status_code == 302
    assert switched["Location"] == "/2023/"
    cookie = switched.cookies["portal_display"]
    assert cookie.value == "large"
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) >= 30 * 24 * 3600
    assert "private" in switched["Cache-Control"]

    large = _page(client, "/2023/")
    assert _html_class(large) == "display-large"
    back = re.search(r'<a class="display-switch" rel="nofollow" href="([^"]+)">标准版', large)
    assert html.unescape(back.group(1)) == "/display/?mode=standard&next=/2023/"

    # Nothing is lost in the large display: the same page, only <html>'s class and the switch differ.
    def same_parts(page: str) -> str:
        page = re.sub(r'<html[^>]*>|<a class="display-switch".*?</a>', "", page, flags=re.S)
        return re.sub(r' nonce="[^"]*"', "", page)  # the CSP nonce is new on every response

    assert same_parts(large) == same_parts(home)

    restored = client.get(html.unescape(back.group(1)))
    assert restored.status_code == 302
    assert restored.cookies["portal_display"].value == ""
    assert int(restored.cookies["portal_display"]["max-age"]) == 0


def test_a_cached_page_is_never_served_to_the_other_display_mode(client, report, settings):
    settings.PAGE_CACHE = True
    for _ in range(2):  # the second round comes from the cache
        client.cookies.pop("portal_display", None)
        assert _html_class(_page(client, report["chapter"])) == ""
        client.cookies["portal_display"] = "large"
        assert _html_class(_page(client, report["chapter"])) == "display-large"
    client.cookies["portal_display"] = "anything-else"
    assert _html_class(_page(client, report["chapter"])) == ""


@pytest.mark.parametrize(
    "query",
    [
        {"mode": "large", "next": "https://evil.example/"},
        {"mode": "large", "next": "//evil.example/"},
        {"mode": "large", "next": "/\\evil.example/"},
        {"mode": "large", "next": "javascript:alert(1)"},
        {"mode": "large", "next": "2023/"},
        {"mode": "huge", "next": "/"},
        {"next": "/"},
    ],
)
def test_display_switch_refuses_a_way_off_the_site_or_an_unknown_mode(client, query):
    response = client.get("/display/", query)
    assert response.status_code == 400
    assert "portal_display" not in response.cookies
    page = response.content.decode()
    assert "无法切换显示方式" in page
    assert 'href="/display/?mode=large&amp;next=/"' in page  # the header's switch leads home from here


def test_display_switch_without_next_goes_home_and_refuses_posts(client):
    response = client.get("/display/", {"mode": "large"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert client.post("/display/", {"mode": "large"}).status_code == 405


def test_large_display_stylesheet_makes_type_one_and_a_half_times_and_targets_larger():
    css = Path(finders.find("css/site.css")).read_text(encoding="utf-8")
    root = re.search(r"\nhtml\.display-large \{([^}]*)\}", css).group(1)
    # Every size in the stylesheet is in rem: type, spacing and touch targets all grow 1.5x.
    assert re.search(r"font-size:\s*150%;", root)
    assert "--ink: #000;" in root
    targets = re.search(r"html\.display-large \.button,[^{]*\{([^}]*)\}", css).group(1)
    assert "min-height: 2.75rem;" in targets


# --- Favicon --------------------------------------------------------------------------------------


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_is_linked_from_every_page_and_answers_at_its_usual_address(client, report):
    page = _page(client, "/")
    icons = re.findall(r'<link rel="icon" href="([^"]+)"', page)
    assert icons, "the pages link their icon"
    for icon in icons:
        response = client.get(icon)
        assert response.status_code == 200
        assert response["Content-Type"] in ("image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon")
    redirect = client.get("/favicon.ico")
    assert redirect.status_code == 302
    icon = client.get(redirect["Location"])
    assert icon.status_code == 200
    assert _body(icon)[:4] == b"\x00\x00\x01\x00"  # an ICO file


# --- API docs ---------------------------------------------------------------------------------------


OUTSIDE = re.compile(r"""(?:src|href)=["'](?:https?:)?//""")


@pytest.mark.parametrize("path", ["/api/v1/redoc/", "/api/v1/docs/"])
def test_api_docs_say_their_language_and_link_only_this_site(client, path, settings):
    page = _page(client, path)
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="zh-Hans">' in page
    assert not OUTSIDE.search(page), "every script, style and icon is the site's own"
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert '<html lang="en">' in _page(client, path)


def test_api_docs_scripts_of_our_own_name_no_outside_address():
    for name in ("js/redoc-init.js",):
        script = Path(finders.find(name)).read_text(encoding="utf-8")
        assert "http://" not in script and "https://" not in script


class _WhiteNoise:
    """Static files through the site's own WhiteNoise (fingerprinted names), as in production."""

    def __new__(cls, application):
        return application


@pytest.fixture
def live_site() -> Iterator[str]:
    thread = LiveServerThread("127.0.0.1", static_handler=_WhiteNoise, connections_override={})
    thread.daemon = True
    thread.start()
    thread.is_ready.wait()
    if thread.error:
        raise thread.error
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.terminate()


def _chromium_dump(url: str) -> tuple[str, list[str]]:
    """The page's DOM after its scripts ran, and every console message, in Debian's Chromium,
    with every host but this one unresolvable: an outside request would fail and say so."""
    result = subprocess.run(  # noqa: S603 - a fixed binary and arguments
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=10000",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


@pytest.mark.parametrize("path", ["/api/v1/redoc/", "/api/v1/docs/"])
def test_api_docs_run_in_chromium_without_an_outside_request_or_console_message(live_site, path):
    dom, console = _chromium_dump(live_site + path)
    assert console == []
    if path == "/api/v1/redoc/":
        # ReDoc rendered the schema, and its sidebar logo (Redocly's CDN) was never asked for.
        assert "北京城市总体规划实施体检 · 公众参与 API" in dom
        logo = re.search(r'<img alt="redocly logo"[^>]*>', dom)
        assert logo is not None and "src=" not in logo.group(0) and "hidden" in logo.group(0)
    else:
        assert 'class="swagger-ui' in dom


# --- One-character search --------------------------------------------------------------------------


def _text(page: str) -> str:
    page = re.sub(r"</?mark>", "", page)  # the match is highlighted inside the word
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_one_chinese_character_finds_what_contains_it(client, report):
    response = client.get("/search/", {"q": "雨"})
    assert response.status_code == 200
    assert response.context["searched"]
    assert [i.name for i in response.context["indicators"]] == ["雨水年利用量"]
    assert [s.title for s in response.context["stories"]] == ["海绵公园"]
    text = _text(response.content.decode())
    assert "请输入至少" not in text
    assert "雨水年利用量" in text and "海绵公园" in text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a", "请输入至少 2 个字母或数字，或一个汉字。"),
        ("7", "请输入至少 2 个字母或数字，或一个汉字。"),
        ("%%", "关键词里没有汉字、字母或数字，请换一个词。"),
        ("。！", "关键词里没有汉字、字母或数字，请换一个词。"),
    ],
)
def test_absurd_or_too_short_queries_get_a_clear_message_and_no_search(client, report, query, message):
    response = client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert not response.context["searched"]
    assert message in _text(response.content.decode())


def test_empty_search_shows_the_form_and_says_one_character_is_enough(client, report):
    response = client.get("/search/", {"q": "   "})
    assert response.status_code == 200
    text = _text(response.content.decode())
    assert "一个汉字即可" in text
    assert "请输入至少" not in text and "关键词里没有" not in text


def test_browsable_api_says_its_language(client, report, settings):
    page = client.get("/api/v1/editions/", HTTP_ACCEPT="text/html").content.decode()
    assert '<html lang="zh-Hans">' in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/api/v1/editions/", HTTP_ACCEPT="text/html").content.decode()
    assert '<html lang="en">' in page


def _api_views(resolver: URLResolver | None = None) -> list[tuple[str, type]]:
    """(route, class) of every DRF view the URLconf reaches but drf-spectacular's (its
    schema and docs pages are not the browsable API's)."""
    found = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            found += [(f"{pattern.pattern}{route}", cls) for route, cls in _api_views(pattern)]
            continue
        cls = getattr(pattern.callback, "cls", None)
        if cls is not None and issubclass(cls, APIView) and not cls.__module__.startswith("drf_spectacular"):
            found.append((str(pattern.pattern), cls))
    return found


def test_every_browsable_api_page_is_named_in_the_page_s_language():
    # DRF names a page from its class ("Rating Create Api") unless the view names it.
    views = _api_views()
    assert len(views) >= 25, views
    for language, script in (("zh-hans", re.compile("[\u4e00-\u9fff]")), ("en", re.compile("^[ -~]+$"))):
        with translation.override(language):
            for route, cls in views:
                name = str(cls().get_view_name())
                assert script.search(name), (language, route, name)
                description = str(cls().get_view_description())
                assert not description or script.search(description.replace("–", "-")), (language, route)


def test_the_browsable_api_s_title_and_brand_name_the_site(client, report, settings):
    page = client.get("/api/v1/indicators/", HTTP_ACCEPT="text/html").content.decode()
    assert "<title>指标列表 · 北京城市总体规划实施体检 · 公众参与 API</title>" in page
    assert "<h1>指标列表</h1>" in page
    assert "Django REST framework" not in _text(page)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/api/v1/aggregates/indicators/999999/", HTTP_ACCEPT="text/html").content.decode()
    assert (
        "<title>Indicator scores · Beijing Master Plan Health Check · Public Participation API</title>"
        in page
    )
    page = client.get("/api/v1/ratings/", HTTP_ACCEPT="text/html").content.decode()
    assert "<h1>Submit rating</h1>" in page
    assert "One current 1–5 rating per resident and item" in page


def test_the_browsable_api_s_raw_data_form_is_labelled_in_the_page_s_language(client, report, settings):
    # DRF writes these two labels in English, unmarked for translation.
    labels = re.compile(r"<label[^>]*>\s*([^<]+?)\s*:?\s*</label>")
    page = client.get("/api/v1/ratings/", HTTP_ACCEPT="text/html").content.decode()
    assert {"媒体类型", "内容"} <= set(labels.findall(page)), labels.findall(page)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/api/v1/ratings/", HTTP_ACCEPT="text/html").content.decode()
    assert {"Media type", "Content"} <= set(labels.findall(page)), labels.findall(page)
