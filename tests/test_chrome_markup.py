"""The page chrome's tags write in Python what their templates render, byte for byte.

``open_graph``, ``share_block`` and ``display_switch`` (portal/templatetags/chrome.py)
are on every page; they write their markup themselves instead of rendering
``portal/_og.html``, ``_share.html`` and ``_display_switch.html``. The templates stay
the description of that markup: here each tag's output is compared with its template
rendered from the same context, on the pages a resident sees (shareable or not, the
switch's own refusal page), in both languages and both display modes, with texts and
paths that must be escaped, and with autoescaping off.
"""

import pytest
from django.template import Context, Template, engines
from django.test import RequestFactory
from django.urls import resolve
from django.utils import translation
from django.utils.safestring import mark_safe

from portal.templatetags import chrome

SITE_URL = "https://tijian.example.cn"

# (the path the request has, the path whose view it goes to)
PAGES = [
    ("/2023/chapters/ecology/", "/2023/chapters/ecology/"),  # an article
    ("/", "/"),  # the website
    ("/my-data/", "/my-data/"),  # personal: nothing to share
    ("/display/", "/display/"),  # the switch's refusal page: the way back is home
    ("/2023/a&b'c\"<d>/é 中/", "/2023/"),  # a path whose every character must be escaped
    ("/no-such-page/", None),  # a 404: no view
]
TITLES = [
    ("坚守生态底线 · 北京城市体检", "七大领域的指标、亮点故事与市民评价。"),
    ("<b>&amp; \"quoted\" 'single'", "a < b & c > d"),
    (mark_safe("<i>safe</i>"), mark_safe("&amp;")),
]


@pytest.fixture(autouse=True)
def _site_url(settings) -> None:
    settings.SITE_URL = SITE_URL


def _request(path: str, view_path: str | None, *, large: bool):
    request = RequestFactory().get(path)
    if large:
        request.COOKIES["portal_display"] = "large"
    if view_path is not None:
        request.resolver_match = resolve(view_path)
    return request


def _template(name: str, context: dict, *, autoescape: bool) -> str:
    template = engines["django"].get_template(name).template
    return template.render(Context(context, autoescape=autoescape))


def _cases():
    for language in ("zh-hans", "en"):
        for large in (False, True):
            for path, view_path in PAGES:
                for autoescape in (True, False):
                    yield language, large, path, view_path, autoescape


@pytest.mark.parametrize(("language", "large", "path", "view_path", "autoescape"), list(_cases()))
def test_each_tag_writes_what_its_template_renders(language, large, path, view_path, autoescape) -> None:
    request = _request(path, view_path, large=large)
    escape = chrome._escaper(Context(autoescape=autoescape))
    with translation.override(language):
        for title, description in TITLES:
            data = chrome.open_graph_context(request, title, description)
            expected = _template("portal/_og.html", data, autoescape=autoescape)
            assert chrome.open_graph_html(data, escape) == expected
        data = chrome.share_context(request)
        assert chrome.share_html(data, escape) == _template("portal/_share.html", data, autoescape=autoescape)
        data = chrome.display_switch_context(request)
        expected = _template("portal/_display_switch.html", data, autoescape=autoescape)
        assert chrome.display_switch_html(data, escape) == expected


TAGS = Template("{% load chrome %}{% open_graph title description %}{% share_block %}{% display_switch %}")
INCLUDES = Template(
    '{% include "portal/_og.html" with shareable=og.shareable url=og.url title=og.title '
    "description=og.description type=og.type locale=og.locale alternates=og.alternates "
    'site_name=og.site_name image=og.image only %}{% include "portal/_share.html" with '
    'shareable=share.shareable url=share.url qr=share.qr only %}{% include "portal/_display_switch.html" '
    "with large=switch.large next=switch.next only %}"
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize(("path", "view_path"), PAGES)
def test_the_tags_in_a_page_write_the_same_as_the_templates(language, large, path, view_path) -> None:
    """Through the template language, as base.html calls them (escaping on)."""
    request = _request(path, view_path, large=large)
    with translation.override(language):
        for title, description in TITLES:
            written = TAGS.render(Context({"request": request, "title": title, "description": description}))
            context = {
                "og": chrome.open_graph_context(request, title, description),
                "share": chrome.share_context(request),
                "switch": chrome.display_switch_context(request),
            }
            assert written == INCLUDES.render(Context(context)), title


def test_a_public_page_has_its_share_block_and_open_graph_tags() -> None:
    """Not just equal: the markup says what a resident and a chat app read."""
    request = _request("/2023/chapters/ecology/", "/2023/chapters/ecology/", large=False)
    with translation.override("en"):
        og = chrome.open_graph_html(chrome.open_graph_context(request, "Ecology & <water>", "d"))
        share = chrome.share_html(chrome.share_context(request))
        switch = chrome.display_switch_html(chrome.display_switch_context(request))
    assert f'<meta property="og:url" content="{SITE_URL}/2023/chapters/ecology/">' in og
    assert '<meta property="og:title" content="Ecology &amp; &lt;water&gt;">' in og
    assert '<meta property="og:type" content="article">' in og
    assert '<meta property="og:locale:alternate" content="zh_CN">' in og
    assert f'<a class="share__url" href="{SITE_URL}/2023/chapters/ecology/">' in share
    assert "<svg " in share and "This page's address" in share
    assert 'href="/display/?mode=large&amp;next=/2023/chapters/ecology/">Large text<span' in switch
