"""The page chrome every public page shares: display mode, Open Graph tags, the share block.

Public pages are cached and shared by every visitor of a language and display
mode (``indicators.cache``): what these tags render depends only on the URL's
path, the language, the display mode and settings, never on the visitor.
"""

import functools
import html
import threading
from collections.abc import Callable
from typing import Any

import segno
from django import template
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.template.defaultfilters import urlencode
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from django.utils.encoding import escape_uri_path
from django.utils.html import strip_tags
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from feedback.forms import escaped
from indicators.memo import settings_memo
from portal import display

register = template.Library()

# Open Graph's locale names for the site's languages.
OG_LOCALES = {"zh-hans": "zh_CN", "en": "en_US"}
# Pages about one item of the report; the rest (home, lists, search) are the website.
ARTICLE_PAGES = {"indicators:indicator", "indicators:story", "indicators:chapter"}


class CaptureNode(template.Node):
    """Renders its content once into a context variable, as plain text (tags stripped)."""

    # Blocks inside stay overridable by child templates ({% extends %} looks in here).
    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: template.NodeList, name: str) -> None:
        self.nodelist = nodelist
        self.name = name

    def render(self, context: template.Context) -> str:
        text = self.nodelist.render(context)
        if "<" in text:  # strip_tags returns a text without any as it is
            text = strip_tags(text)
        text = html.unescape(text)
        context[self.name] = " ".join(text.split())
        return ""


@register.tag
def capture(parser: template.base.Parser, token: template.base.Token) -> CaptureNode:
    """``{% capture as name %}…{% endcapture %}``: the page's title, said once, in
    ``<title>`` and in ``og:title``."""
    bits = token.split_contents()
    if len(bits) != 3 or bits[1] != "as":
        raise template.TemplateSyntaxError("Usage: {% capture as name %}…{% endcapture %}")
    nodelist = parser.parse(("endcapture",))
    parser.delete_first_token()
    return CaptureNode(nodelist, bits[2])


class _NodesListedOnce(template.Node):
    """A node whose nodes inside are listed once per type (``get_nodes_by_type``).

    ``{% extends %}`` looks for the blocks of the parent template on every render,
    walking every node of it; the nodes never change once parsed, so the list found
    the first time serves every render.
    """

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist: template.NodeList) -> None:
        self.nodelist = nodelist
        self._by_type: dict[type, list[template.Node]] = {}

    def get_nodes_by_type(self, nodetype: type) -> list[template.Node]:
        found = self._by_type.get(nodetype)
        if found is None:
            found = self._by_type[nodetype] = super().get_nodes_by_type(nodetype)
        return list(found)


class ShellNode(_NodesListedOnce):
    """Renders its content as it is (``{% shell %}``)."""

    def render(self, context: template.Context) -> str:
        return self.nodelist.render(context)


@register.tag
def shell(parser: template.base.Parser, token: template.base.Token) -> ShellNode:
    """``{% shell %}…{% endshell %}`` around the page shell (base.html): the same text, and
    the blocks inside found once per process, not on every page's render (the walk of the
    whole shell was a sixth of rendering it)."""
    if len(token.split_contents()) != 1:
        raise template.TemplateSyntaxError("Usage: {% shell %}…{% endshell %}")
    nodelist = parser.parse(("endshell",))
    parser.delete_first_token()
    return ShellNode(nodelist)


class FixedNode(_NodesListedOnce):
    """Renders its content once per process for each page template, language and value
    of its variables, and then gives that text again (``{% fixed %}``)."""

    def __init__(self, nodelist: template.NodeList, varies: list[template.base.FilterExpression]) -> None:
        super().__init__(nodelist)
        self.varies = varies

    def render(self, context: template.Context) -> str:
        # The language and the script prefix are the request's, set before any template
        # renders: read once per render (a page has a score of these nodes, and both live
        # in the thread's state). No {% fixed %} is inside a {% language %} (refused).
        language_prefix = getattr(context, "_fixed_language_prefix", None)
        if language_prefix is None:
            language_prefix = context._fixed_language_prefix = (get_language(), get_script_prefix())
        key = (
            # The node itself, not its id(): a template dropped and parsed again (a test's
            # settings, a file changed in development) never finds an old text by a reused id.
            self,
            # The page's own template: a block inside may be overridden by it.
            getattr(context.template, "name", None),
            *language_prefix,
        )
        if self.varies:
            key += tuple(vary.resolve(context) for vary in self.varies)
        text = _fixed.get(key)
        if text is None:
            text = self.nodelist.render(context)
            _fixed_keep(key, text)
        return text


# ``{% fixed %}``'s texts, bounded by their number and by their length, so a process's
# memory for them has a ceiling whatever the data: each template has a few, each by
# language and nav; the participation panel's two blank forms are one each per item and
# language (2 × 224 × 2 for the 2023 report, ~3,000 characters each: ~2.7 million in all),
# so the bounds leave room for a few editions. Past either, they start afresh.
_fixed: dict[tuple, str] = {}
_fixed_chars = 0
_fixed_lock = threading.Lock()
FIXED_ENTRIES = 10_000
# Characters, not bytes: a text with Chinese in it takes two bytes a character (~16 MB).
FIXED_CHARS = 8_000_000


def _fixed_keep(key: tuple, text: str) -> None:
    global _fixed_chars  # noqa: PLW0603 - the texts' total length, kept with them under the lock
    with _fixed_lock:
        if key in _fixed:
            return  # another thread of the process rendered it meanwhile
        if len(_fixed) >= FIXED_ENTRIES or _fixed_chars + len(text) > FIXED_CHARS:
            _fixed.clear()
            _fixed_chars = 0
        _fixed[key] = text
        _fixed_chars += len(text)


def _fixed_forget(**kwargs: Any) -> None:
    # A test overriding a setting (URLs, languages, static files) gets fresh texts.
    global _fixed_chars  # noqa: PLW0603 - see _fixed_keep
    with _fixed_lock:
        _fixed.clear()
        _fixed_chars = 0


setting_changed.connect(_fixed_forget)


@register.tag
def fixed(parser: template.base.Parser, token: template.base.Token) -> FixedNode:
    """``{% fixed nav edition.year %}…{% endfixed %}``: chrome that depends only on the code,
    the settings, the language and the variables named (URLs reversed, static files' URLs,
    fixed strings translated), rendered once per process and language, not per request.

    Nothing inside may depend on data staff can change or on the visitor, except through
    the variables named: the text is kept for the life of the process. The page's
    template is part of the key, so a block inside stays overridable; a block that a
    page overrides must depend only on the variables named too.
    """
    if any(command == "language" for command, *_ in parser.command_stack):
        # Its text is kept by the render's language, read once per render.
        raise template.TemplateSyntaxError("{% fixed %} cannot be inside {% language %}")
    varies = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endfixed",))
    parser.delete_first_token()
    return FixedNode(nodelist, varies)


@register.simple_tag(takes_context=True)
def display_class(context: template.Context) -> str:
    """The class of ``<html>`` in the large display (``portal.display``); none in the standard one."""
    request = context.get("request")
    large = request is not None and display.display_mode(request) == display.LARGE
    return f"display-{display.LARGE}" if large else ""


def canonical_url(request: HttpRequest) -> str:
    """The page's address on the public site: ``SITE_URL`` and the path, no query.

    Not the Host the request came with (a cached page must not carry whatever
    host a request named), nor its query (tracking parameters such as WeChat's
    ``?from=timeline`` are not part of the page).
    """
    return settings.SITE_URL.rstrip("/") + escape_uri_path(request.path)


def _view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


def is_shareable(request: HttpRequest | None) -> bool:
    """A public page: a GET of a view the page cache serves (``indicators.cache.cached_page``).

    Those pages are the same for every visitor, so their address is worth
    sharing and holds nothing personal; my data, the forms' answers, error pages
    and the staff's workspace are not among them.
    """
    if request is None or request.method != "GET":
        return False
    match = getattr(request, "resolver_match", None)
    return match is not None and getattr(match.func, "page_cache_policy", None) is not None


@functools.lru_cache(maxsize=2048)
def qr_svg(url: str, title: str) -> SafeString:
    """The QR code of ``url`` as inline SVG: dark on white with the standard 4-module quiet
    zone, so that WeChat's scanner reads it in either display mode."""
    code = segno.make(url, error="m", micro=False)
    # A viewBox and no fixed size: the stylesheet sizes it (larger in the large display).
    svg = code.svg_inline(
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        title=title,
        svgclass="share__qr",
        lineclass=None,
        omitsize=True,
    )
    return mark_safe(svg.replace("<svg ", '<svg role="img" focusable="false" ', 1))  # noqa: S308 - segno's markup, escaped title


@settings_memo()
def _share_image() -> str:
    """The share card's absolute URL: the static file's URL (its hashed name from the
    manifest) depends only on the code and the settings, so it is found once per process."""
    return settings.SITE_URL.rstrip("/") + static("img/share-card.png")


# The three tags below write their markup in Python, byte for byte what their templates
# (templates/portal/_og.html, _share.html, _display_switch.html) render from the same
# context: they are on every page, and an inclusion tag's context, template and
# variable lookups cost more than the page's whole middleware. The templates stay the
# description of the markup; tests/test_chrome_markup.py holds the two to each other.


def _escaper(context: template.Context) -> Callable[[Any], str]:
    """How ``{{ value }}`` writes a value in this context: escaped unless autoescape is off."""
    return escaped if context.autoescape else str


@settings_memo(maxsize=64)
def _translated(language: str | None, message: str) -> str:
    """``gettext(message)`` while ``language`` is the active language (the caller's key)."""
    return gettext(message)


def open_graph_context(request: HttpRequest | None, title: str, description: str) -> dict:
    """What ``portal/_og.html`` shows: ``og:*`` tags (and the canonical link) of a public page."""
    if not is_shareable(request):
        return {"shareable": False}
    active = get_language()
    language = active or settings.LANGUAGE_CODE
    return {
        "shareable": True,
        "url": canonical_url(request),
        "title": title,
        "description": description,
        "type": "article" if _view_name(request) in ARTICLE_PAGES else "website",
        "locale": OG_LOCALES.get(language, "zh_CN"),
        "alternates": [locale for code, locale in OG_LOCALES.items() if code != language],
        "site_name": _translated(active, "北京城市体检"),
        "image": _share_image(),
    }


def open_graph_html(data: dict, escape: Callable[[Any], str] = escaped) -> SafeString:
    """``portal/_og.html`` rendered from ``data``."""
    if not data["shareable"]:
        return mark_safe("\n")
    url = escape(data["url"])
    alternates = "".join(
        f'\n  <meta property="og:locale:alternate" content="{escape(alternate)}">'
        for alternate in data["alternates"]
    )
    return mark_safe(  # noqa: S308 - every value escaped as the template escapes it
        f'\n  <link rel="canonical" href="{url}">'
        f'\n  <meta property="og:type" content="{escape(data["type"])}">'
        f'\n  <meta property="og:site_name" content="{escape(data["site_name"])}">'
        f'\n  <meta property="og:title" content="{escape(data["title"])}">'
        f'\n  <meta property="og:description" content="{escape(data["description"])}">'
        f'\n  <meta property="og:url" content="{url}">'
        f'\n  <meta property="og:image" content="{escape(data["image"])}">'
        '\n  <meta property="og:image:width" content="1200">'
        '\n  <meta property="og:image:height" content="630">'
        f'\n  <meta property="og:locale" content="{escape(data["locale"])}">{alternates}\n\n'
    )


@register.simple_tag(takes_context=True)
def open_graph(context: template.Context, title: str, description: str) -> SafeString:
    """``og:*`` tags (and the canonical link) of a public page; nothing on other pages."""
    data = open_graph_context(context.get("request"), title, description)
    return open_graph_html(data, _escaper(context))


def share_context(request: HttpRequest | None) -> dict:
    """What ``portal/_share.html`` shows: the page's address and its QR code, on public pages."""
    if not is_shareable(request):
        return {"shareable": False}
    url = canonical_url(request)
    return {"shareable": True, "url": url, "qr": qr_svg(url, _translated(get_language(), "本页链接的二维码"))}


@settings_memo()
def _share_texts(language: str | None) -> tuple[str, str]:
    """The share block's fixed markup around the QR code, in the active language (``language``).
    Translations are written as they are, as ``{% translate %}`` writes them."""
    return (
        '<aside class="share" aria-labelledby="share-title">'
        f'\n  <h2 id="share-title" class="share__title">{gettext("分享本页")}</h2>'
        '\n  <div class="share__body">'
        '\n    <figure class="share__code">',
        f"<figcaption>{gettext('用微信“扫一扫”在手机上打开本页')}</figcaption>"
        "\n    </figure>"
        '\n    <p class="share__link">'
        f'\n      <span class="share__label">{gettext("本页链接")}</span>',
    )


def share_html(data: dict, escape: Callable[[Any], str] = escaped) -> SafeString:
    """``portal/_share.html`` rendered from ``data``."""
    if not data["shareable"]:
        return mark_safe("\n")
    head, caption = _share_texts(get_language())
    url = escape(data["url"])
    return mark_safe(  # noqa: S308 - the QR code is segno's markup; the URL escaped
        f"\n{head}\n      {escape(data['qr'])}\n      {caption}"
        f'\n      <a class="share__url" href="{url}">{url}</a>'
        "\n    </p>\n  </div>\n</aside>\n\n"
    )


@register.simple_tag(takes_context=True)
def share_block(context: template.Context) -> SafeString:
    """The page's address and its QR code (for WeChat's scanner), on public pages only."""
    return share_html(share_context(context.get("request")), _escaper(context))


def display_switch_context(request: HttpRequest | None) -> dict:
    """What ``portal/_display_switch.html`` shows: the link to the other display mode,
    which comes back to this page's path."""
    large = request is not None and display.display_mode(request) == display.LARGE
    # From the switch's own refusal page, the way back is the home page.
    here = request.path if request is not None and _view_name(request) != "display_set" else "/"
    return {"large": large, "next": here}


@settings_memo()
def _switch_texts(
    large: bool, language: str | None, script_prefix: str, escape: Callable[[Any], str]
) -> tuple[str, str]:
    """The switch's address up to ``next=`` (escaped as ``{% url %}`` writes it) and its label
    (translations as they are), in the active language (``language``) under the active script prefix."""
    if large:
        mode, label, hint = "standard", gettext("标准版"), gettext("（恢复标准字号）")
    else:
        mode, label, hint = "large", gettext("大字版"), gettext("（大字号、高对比度）")
    return (
        f"{escape(reverse('display_set'))}?mode={mode}&amp;next=",
        f'{label}<span class="visually-hidden">{hint}</span>',
    )


def display_switch_html(data: dict, escape: Callable[[Any], str] = escaped) -> SafeString:
    """``portal/_display_switch.html`` rendered from ``data``."""
    address, label = _switch_texts(data["large"], get_language(), get_script_prefix(), escape)
    here = escape(urlencode(data["next"]))
    return mark_safe(  # noqa: S308 - fixed texts escaped once; the path escaped
        f'\n<a class="display-switch" rel="nofollow" href="{address}{here}">{label}</a>\n'
    )


@register.simple_tag(takes_context=True)
def display_switch(context: template.Context) -> SafeString:
    """The header's link to the other display mode; it comes back to this page's path."""
    return display_switch_html(display_switch_context(context.get("request")), _escaper(context))
