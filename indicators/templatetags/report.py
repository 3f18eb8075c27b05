"""Filters for showing the report: figures as the report writes them, text in the reader's language."""

import html
import re
import unicodedata
from collections.abc import Iterable

from django import template
from django.http import HttpRequest
from django.template.defaultfilters import linebreaksbr
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length
from django.utils.translation import get_language, gettext, ngettext, pgettext

from indicators import cache as page_cache
from indicators import selectors
from indicators.english_figures import change_english, quantity_english, unit_english
from indicators.memo import settings_memo
from indicators.models import (
    Chapter,
    Edition,
    Indicator,
    IndicatorValue,
    Photo,
    Section,
    Story,
    StoryKind,
    format_quantity,
    is_english,
    localized_in,
)
from indicators.page_urls import chapter_urls, indicator_urls, story_urls

register = template.Library()

EXCERPT_CONTEXT = 40
# Characters of a story's summary in a list.
SUMMARY_LENGTH = 90


@register.filter
def quantity(obj: Indicator | IndicatorValue | None) -> str:
    """``约 1200 万平方米``: an indicator's current figure, or one value, with qualifier and unit."""
    if isinstance(obj, Indicator):
        value = obj.current_value
        unit = obj.unit
    elif isinstance(obj, IndicatorValue):
        value = obj
        # The value's indicator is cached by the ``values`` prefetch: no query.
        unit = obj.indicator.unit
    else:
        return ""
    if value is None:
        return ""
    return _quantity(value.value, unit, value.qualifier, english=is_english())


def _quantity(value, unit: str, qualifier: str, *, english: bool) -> str:
    """The figure as the report writes it, or in English (``indicators.english_figures``)."""
    return (quantity_english if english else format_quantity)(value, unit, qualifier)


@register.filter
def unit(indicator: Indicator) -> str:
    """The unit its figures are written in, in the reader's language (``unit_english``)."""
    return unit_english(indicator.unit) if is_english() else indicator.unit


@register.filter
def change(indicator: Indicator) -> str:
    """The indicator's change as the report gives it (``display_change``), in the reader's language."""
    return change_english(indicator) if is_english() else indicator.display_change


@register.filter
def with_image(photos: Iterable[Photo]) -> list[Photo]:
    """The photos that have an image file.

    A caption without one records a photo the printed report had but the site
    has not received: it stays in the data, and a story shows no empty 图片 section.
    """
    return [photo for photo in photos if photo.image]


# The report's Chinese shown on a page in another language (a text the data has in Chinese
# only): the attribute that says so (WCAG 3.1.2, language of parts), so that a screen reader
# reads it with a Chinese voice and the browser breaks its lines as Chinese.
CHINESE_LANG = "zh-Hans"
CHINESE = f' lang="{CHINESE_LANG}"'


def chinese_if(english: bool) -> str:
    """``CHINESE`` on a page in English, else nothing (the page itself is Chinese)."""
    return CHINESE if english else ""


# Han characters: what tells a text someone wrote in Chinese (CJK ideographs and extension A).
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff"
_HAN = re.compile(f"[{_HAN_RANGES}]")


def chinese_if_written(text: str, english: bool) -> str:
    """``CHINESE`` on a page in English for a text written in Chinese: a resident's comment or
    nickname, a planner's reply. Such a text has no language of its own on record, so its
    script tells; one written in English stays in the page's language."""
    return CHINESE if english and _HAN.search(text) else ""


def written_html(text: str, *, english: bool, breaks: bool = False) -> str:
    """What someone wrote, escaped (its line breaks as ``<br>`` with ``breaks``, as
    ``linebreaksbr``), in a span marked Chinese on an English page when written in Chinese
    (``chinese_if_written``); on a Chinese page the escaped text alone."""
    text = text or ""
    # ``conditional_escape``: a text a template marked safe already ({% firstof … as who %})
    # is not escaped twice.
    escaped = linebreaksbr(text, autoescape=True) if breaks else conditional_escape(text)
    return _in_chinese(escaped, bool(chinese_if_written(text, english)))


# What an English text may quote in Chinese: staff's English name of an indicator gives the
# report's term ("Greening of land left blank ("留白增绿")"). Han characters with CJK and
# full-width punctuation, as one run, with any search highlight wholly inside it
# (``highlight``'s ``<mark>``: "<mark>留白</mark>增绿" is one term).
_CHINESE_CHARS = f"[\u3000-\u303f{_HAN_RANGES}\uff00-\uffef]+"
_CHINESE_RUN = re.compile(f"(?:{_CHINESE_CHARS}|<mark>{_CHINESE_CHARS}</mark>)+")
# The quoted term's span: marked Chinese, and kept whole on one line where it fits
# (``.quoted-term`` in site.css; between two Han characters a line may otherwise break).
QUOTED_TERM = f'<span{CHINESE} class="quoted-term">'


def _quoted_marked(escaped: str) -> str:
    """An English text, escaped, with each run of Chinese in it in a span marked Chinese (a
    quoted term read with a Chinese voice, the English around it with the page's)."""
    return _CHINESE_RUN.sub(lambda run: f"{QUOTED_TERM}{run.group()}</span>", escaped)


def _fallback(obj, field: str, english: bool) -> str:
    """``CHINESE`` where an English page shows ``obj.<field>`` because ``<field>_en`` is empty."""
    return CHINESE if english and not getattr(obj, f"{field}_en") else ""


def _in_chinese(escaped: str, chinese: bool) -> str:
    """``escaped`` in a span marked Chinese when ``chinese``, else as it is."""
    return f"<span{CHINESE}>{escaped}</span>" if chinese else escaped


def _name_html(obj, field: str, english: bool) -> str:
    """``localized_in``'s text, escaped, for an element that carries ``_fallback`` itself:
    on an English page, an English text's quoted Chinese in spans (``_quoted_marked``)."""
    escaped = _e(localized_in(obj, field, english=english))
    return _quoted_marked(escaped) if english and getattr(obj, f"{field}_en") else escaped


def _localized_marked(obj, field: str, english: bool) -> str:
    """``_name_html``, in a span marked Chinese where an English page shows the Chinese
    because the English is empty (``_fallback``)."""
    return _in_chinese(_name_html(obj, field, english), bool(_fallback(obj, field, english)))


def localized_html(obj, field: str, *, english: bool) -> SafeString:
    """``_localized_marked`` for a template's context (safe: escaped)."""
    return mark_safe(_localized_marked(obj, field, english))  # noqa: S308 - escaped


@register.simple_tag
def chinese_lang() -> SafeString:
    """`` lang="zh-Hans"`` inside the start tag of an element holding a Chinese-only text
    (``<p{% chinese_lang %}>{{ story.summary }}</p>``), when the page is not Chinese."""
    return mark_safe(chinese_if(is_english()))  # noqa: S308 - a constant


@register.simple_tag
def chinese_lang_unless(obj, field: str) -> SafeString:
    """``chinese_lang`` for a text with an English field (``<field>_en``) that is empty, so
    that the page shows its Chinese (``localized``, ``display_*``)."""
    return mark_safe(_fallback(obj, field, is_english()))  # noqa: S308 - a constant


@register.simple_tag
def chinese_text(text: str) -> SafeString:
    """A Chinese-only text (a field without an English one), escaped, and in a span marked
    Chinese on a page in English (on a Chinese page, the text alone)."""
    escaped = _e(text or "")
    return mark_safe(_in_chinese(escaped, is_english() and bool(escaped)))  # noqa: S308 - escaped


@register.simple_tag
def written_lang(text: str) -> SafeString:
    """`` lang="zh-Hans"`` inside the start tag of an element holding what a resident or a
    planner wrote (``<div{% written_lang comment.body %}>``), on an English page when it is
    written in Chinese (``chinese_if_written``)."""
    return mark_safe(chinese_if_written(text or "", is_english()))  # noqa: S308 - a constant


@register.simple_tag
def written_text(text: str, breaks: bool = False) -> SafeString:
    """``written_html`` for a template: ``{% written_text reply.author_title %}`` (``breaks``:
    ``{{ text|linebreaksbr }}``), in a span marked Chinese on an English page when it is."""
    return mark_safe(written_html(text, english=is_english(), breaks=breaks))  # noqa: S308 - escaped


@register.simple_tag
def marked_chinese(obj, field: str) -> SafeString:
    """``localized_html`` for a template: the text in the page's language, escaped, in a span
    marked Chinese where an English page shows the Chinese (``{% marked_chinese indicator
    "name" as name %}``, then ``{% blocktranslate with name=name %}``)."""
    return localized_html(obj, field, english=is_english())


@register.filter
def paragraphs(text: str) -> list[str]:
    """Split a text stored with blank lines between paragraphs."""
    return [p.strip() for p in (text or "").split("\n\n") if p.strip()]


@register.filter
def localized(obj, field: str) -> str:
    """``obj.<field>_en`` when the interface is English and it is filled, else ``obj.<field>``.

    For the fields the models have no ``display_*`` property for (captions, street names).
    """
    if obj is None:
        return ""
    if (get_language() or "").startswith("en"):
        english = getattr(obj, f"{field}_en", "")
        if english:
            return english
    return getattr(obj, field, "")


@register.filter
def excerpt(text: str, query: str) -> str:
    """A short stretch of ``text`` around the first occurrence of ``query``."""
    text = " ".join((text or "").split())
    if not query:
        return text[: EXCERPT_CONTEXT * 2]
    at = text.lower().find(query.lower())
    if at < 0:
        return text[: EXCERPT_CONTEXT * 2] + ("…" if len(text) > EXCERPT_CONTEXT * 2 else "")
    start = max(0, at - EXCERPT_CONTEXT)
    end = min(len(text), at + len(query) + EXCERPT_CONTEXT)
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


@register.filter
def highlight(text: str, query: str) -> SafeString:
    """Escape ``text`` and wrap every occurrence of ``query`` in ``<mark>``."""
    text = text or ""
    if not query:
        return conditional_escape(text)
    # Split the raw text, then escape each piece: the mark never cuts an entity.
    pieces = re.split(f"({re.escape(query)})", text, flags=re.IGNORECASE)
    out = []
    for index, piece in enumerate(pieces):
        escaped = conditional_escape(piece)
        out.append(f"<mark>{escaped}</mark>" if index % 2 else escaped)
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


@register.filter(is_safe=True)
def quoted_chinese(text: str) -> SafeString:
    """Escaped (unless safe already, as ``highlight`` gives it) and, on an English page, with
    each run of Chinese in a span marked Chinese (``_quoted_marked``): the term an English name
    quotes (``{{ indicator.display_name|highlight:query|quoted_chinese }}``)."""
    escaped = conditional_escape(text or "")
    return mark_safe(_quoted_marked(escaped) if is_english() else escaped)  # noqa: S308 - escaped


# --- Rows of the report's lists ----------------------------------------------------------------
#
# The lists of indicators and of stories (chapter, edition, story, indicator pages) are
# rendered here, one row per item, instead of by a template included per row. A chapter
# lists a few dozen items, and the template engine's work for each (an include, a dozen
# variable lookups with escaping, two translations, a URL reversed per row, a choice
# label found by building the choices) was most of the cost of an uncached page. The
# markup is the one the included templates had; every text is escaped (``_e``: the
# standard library's ``html.escape``, which Django's ``escape`` is, without its lazy-text
# wrapper: every text here is a plain ``str``); the URLs are get_absolute_url()'s,
# reversed once per route and edition (``indicators.page_urls``). What depends on the
# language (the English texts or not, the translated labels) is decided once per list.

# Most texts have nothing to escape: found by one search, they are used as they are.
_TO_ESCAPE = re.compile("[&<>\"']")


def _e(text: str) -> str:
    """``html.escape(text)``."""
    return html.escape(text) if _TO_ESCAPE.search(text) else text


class _IndicatorRows:
    """What every indicator row of a page shares: the URLs, the language, the labels."""

    def __init__(self) -> None:
        self.urls = indicator_urls()
        self.english = is_english()
        # The same msgid as ``{% blocktranslate %}{{ year }} 年{% endblocktranslate %}``.
        self.year_label = gettext("%(year)s 年")
        self._years: dict[int, str] = {}
        self._missing = ""  # "no figure", translated once when a row needs it
        # Each edition's year by its id: a list's rows share one or two editions, whose
        # objects (a foreign key's descriptor each time) need not be reached for every row.
        self._edition_years: dict[int, int] = {}

    def year(self, year: int) -> str:
        """``2023 年`` (``2023``, in English), escaped."""
        label = self._years.get(year)
        if label is None:
            label = self._years[year] = _e(self.year_label % {"year": year})
        return label

    def missing(self) -> str:
        if not self._missing:
            self._missing = f'<span class="muted">{_e(gettext("报告未给出数值"))}</span>'
        return self._missing

    def rows(self, indicators: Iterable[Indicator]) -> str:
        return "".join([self.row(indicator) for indicator in indicators])

    def row(self, indicator: Indicator) -> str:
        year = self._edition_years.get(indicator.edition_id)
        if year is None:
            year = self._edition_years[indicator.edition_id] = indicator.edition.year
        url = self.urls(year, indicator.code)
        current, previous = indicator.current_and_previous()
        unit = indicator.unit
        value = _quantity(current.value, unit, current.qualifier, english=self.english) if current else ""
        shown = _e(value) if value else self.missing()
        row = (
            f'<li class="indicator-item">\n  <a class="indicator-item__name" href="{_e(url)}"'
            f"{_fallback(indicator, 'name', self.english)}>"
            f"{_name_html(indicator, 'name', self.english)}</a>\n"
            f'  <span class="indicator-item__value">{shown}</span>'
        )
        if previous is not None:
            before = _quantity(previous.value, unit, previous.qualifier, english=self.english)
            row += (
                f'\n  <span class="indicator-item__compare">{self.year(previous.year)} '
                f"{_e(before)} → {self.year(current.year)} {_e(value)}</span>"
            )
        change = change_english(indicator) if self.english else indicator.display_change
        if change:
            row += f'\n  <span class="indicator-item__change">{_e(change)}</span>'
        return row + "\n</li>"


@register.simple_tag
def indicator_items(indicators: Iterable[Indicator]) -> SafeString:
    """``<li class="indicator-item">`` rows: name (linked), figure, the comparison with the
    previous year the report gives, and the change. Each indicator's edition is read
    (for its URL): select or set it with the rows (``indicators.selectors``)."""
    return mark_safe(_IndicatorRows().rows(indicators))  # noqa: S308 - every text in the rows is escaped


# Django's own msgid of the truncation text (django.utils.text.add_truncation_text), which
# Django's catalogue translates: named here, not marked (it is not one of the project's).
_TRUNCATION_CONTEXT = "String to return when truncating text"
_TRUNCATION_MSGID = "%(truncated_text)s…"


def truncation_text() -> str:
    """The truncation text Django's ``add_truncation_text`` gives when given none, in the
    current language: translated once by a caller with many texts to cut, rather than
    twice for each (the length of the cut and the cut text each translate it)."""
    return pgettext(_TRUNCATION_CONTEXT, _TRUNCATION_MSGID)


def truncated(text: str, length: int, truncate: str | None = None) -> str:
    """``Truncator(text).chars(length, truncate)`` (``truncatechars``'s), without its walk
    over every character when the text is in the normal form it gives (NFC) and none of its
    characters up to the cut is a combining one: the text itself when short enough, else
    its characters up to the cut and the truncation text, as Truncator adds it
    (``truncation_text()`` when ``truncate`` is None, translated once here)."""
    if length > 0 and unicodedata.is_normalized("NFC", text):
        if len(text) <= length:
            return text
        if truncate is None:
            truncate = truncation_text()
        if not any(map(unicodedata.combining, text[: length + 1])):
            return add_truncation_text(text[: calculate_truncate_chars_length(length, truncate)], truncate)
    return Truncator(text).chars(length, truncate=truncate)


_KINDS = frozenset(StoryKind.values)


@settings_memo(maxsize=256)
def _kind_label(kind: str, language: str | None) -> str:
    """A kind's label in ``language``, translated once per process (``get_kind_display``
    rebuilds the choices and translates every label per call)."""
    return str(StoryKind(kind).label)


def _story_item(story: Story, url: str, language: str | None, english: bool, ellipsis: str) -> str:
    # A kind the code does not know (data) is shown as it is.
    kind = _kind_label(story.kind, language) if story.kind in _KINDS else story.kind
    place = ""
    if story.district_id:
        district = _localized_marked(story.district, "name", english)
        street = f" · {_localized_marked(story.street, 'name', english)}" if story.street_id else ""
        place = f' <span class="place">{district}{street}</span>'
    text = story.summary
    if len(text) > SUMMARY_LENGTH:  # ``truncatechars``; a shorter text is itself
        text = truncated(text, SUMMARY_LENGTH, ellipsis)
    summary = f'\n  <p class="story-item__summary"{chinese_if(english)}>{_e(text)}</p>' if text else ""
    title = localized_in(story, "title", english=english)
    return (
        f'<li class="story-item">\n  <p class="story-item__meta"><span class="tag tag--{_e(story.kind)}">'
        f"{_e(kind)}</span>{place}</p>\n"
        f'  <h3 class="story-item__title"><a href="{_e(url)}"{_fallback(story, "title", english)}>'
        f"{_e(title)}</a></h3>"
        f"{summary}\n</li>"
    )


@register.simple_tag
def story_items(stories: Iterable[Story]) -> SafeString:
    """``<li class="story-item">`` rows: kind, district and street, title (linked), summary.
    Each story's edition, district and street are read: select them with the rows."""
    urls = story_urls()
    language = get_language()
    english = is_english()
    ellipsis = truncation_text()
    rows = [_story_item(s, urls(s.edition.year, s.slug), language, english, ellipsis) for s in stories]
    return mark_safe("".join(rows))  # noqa: S308 - every text in the rows is escaped


def _section(section: Section, indicators: list[Indicator], heading: str, rows: _IndicatorRows) -> str:
    number = section.number
    chinese = chinese_if(rows.english)
    paragraphs = "".join([f"<p{chinese}>{_e(paragraph)}</p>" for paragraph in section.paragraphs])
    listed = ""
    if indicators:
        listed = (
            f'\n    <h3 class="list-title">{heading}</h3>\n'
            f'    <ul class="indicator-list">{rows.rows(indicators)}</ul>\n    '
        )
    title = localized_in(section, "title", english=rows.english)
    return (
        f'\n  <section class="section" id="section-{number}" aria-labelledby="section-{number}-title">\n'
        f'    <h2 id="section-{number}-title"{_fallback(section, "title", rows.english)}>'
        f'<span class="section__number">{number:02d}</span> '
        f"{_e(title)}</h2>\n    {paragraphs}\n    {listed}\n  </section>\n  "
    )


@register.simple_tag
def section_contents(sections: Iterable[tuple[Section, list[Indicator]]]) -> SafeString:
    """The chapter's table of contents: a link to each section, numbered as its heading is."""
    english = is_english()
    rows = []
    for section, _ in sections:
        title = _e(localized_in(section, "title", english=english))
        chinese = _fallback(section, "title", english)
        rows.append(f'<li><a href="#section-{section.number}"{chinese}>{section.number:02d} {title}</a></li>')
    return mark_safe("".join(rows))  # noqa: S308 - the titles are escaped


@register.simple_tag
def section_items(sections: Iterable[tuple[Section, list[Indicator]]]) -> SafeString:
    """A chapter's sections, each with its number, title, text and the list of its
    indicators (``indicator_items``), written here for the reason the rows are."""
    heading = _e(gettext("本节指标"))
    rows = _IndicatorRows()
    return mark_safe("".join([_section(s, indicators, heading, rows) for s, indicators in sections]))  # noqa: S308 - escaped


# On the request: the published editions, read once per page (the switcher and the indicator page).
_EDITIONS = "_report_published_editions"


def published_editions(request: HttpRequest | None) -> list[Edition]:
    """The published editions, newest first (one query per page).

    Guarded by ``SHARED``, which every edition's pages depend on: a change to any
    edition renews them (``indicators.cache``: an edition is shown by every edition).
    """
    editions = getattr(request, _EDITIONS, None)
    if editions is None:
        if request is not None:
            page_cache.depend(request, page_cache.SHARED)
        editions = selectors.edition_list_published_years()
        if request is not None:
            setattr(request, _EDITIONS, editions)
    return editions


def published_editions_given(request: HttpRequest, editions: list[Edition]) -> None:
    """``published_editions`` read by the view with its own reads (the same query, sent in
    the same round trip), after the versions of ``SHARED`` as ``published_editions`` does."""
    page_cache.depend(request, page_cache.SHARED)
    setattr(request, _EDITIONS, editions)


@register.inclusion_tag("indicators/_edition_switcher.html", takes_context=True)
def edition_switcher(context: template.Context) -> dict:
    """The header's edition switcher: every published edition, linking to ``/<year>/``.

    Shown on the pages of an edition (those with ``edition`` in their context) when
    there is another to switch to; other pages (survey, my data, the workspace) have no
    edition to switch from and run no query for it.
    """
    current = context.get("edition")
    if not isinstance(current, Edition):
        return {"editions": []}
    editions = published_editions(context.get("request"))
    return {"editions": editions if len(editions) > 1 else [], "current": current}


# --- The edition page's lists (the home page and ``/<year>/``) ------------------------------
#
# Written here for the reason the rows above are: the template's work per headline figure
# and per chapter card (a URL reversed, two or three translations, a dozen lookups with
# escaping) was most of the page's cost. The markup and whitespace are the ones the
# template's loops wrote; the translations the same msgids as their {% blocktranslate %}.


def _figure(indicator: Indicator, rows: _IndicatorRows, missing: str) -> str:
    current, unit = indicator.current_value, indicator.unit
    value = _quantity(current.value, unit, current.qualifier, english=rows.english) if current else ""
    name = _name_html(indicator, "name", rows.english)
    theme = _localized_marked(indicator.chapter, "theme", rows.english)
    return (
        f'\n      <li class="figure">\n        <a class="figure__link" href="'
        f'{_e(rows.urls(indicator.edition.year, indicator.code))}">\n'
        f'          <span class="figure__value">{_e(value) if value else missing}</span>\n'
        f'          <span class="figure__name"{_fallback(indicator, "name", rows.english)}>{name}</span>\n'
        f'          <span class="figure__meta">{rows.year(indicator.year)} · {theme}</span>\n'
        "        </a>\n      </li>\n      "
    )


@register.simple_tag
def headline_figures(indicators: Iterable[Indicator]) -> SafeString:
    """The edition page's headline figures (``<li class="figure">``): the figure (the
    report's, or a note that it gives none), the name, the year and the chapter's theme,
    linked to the indicator. Each indicator's edition, chapter and values are read."""
    rows = _IndicatorRows()
    # ``default:_("…")``: a translated literal, which the template does not escape.
    missing = gettext("报告未给出数值")
    return mark_safe("".join([_figure(indicator, rows, missing) for indicator in indicators]))  # noqa: S308 - escaped


def _chapter_card(chapter: Chapter, url: str, english: bool) -> str:
    indicators, stories = chapter.indicator_count, chapter.story_count
    counts = (
        ngettext("%(counter)s 项指标", "%(counter)s 项指标", indicators) % {"counter": indicators}
        + " · "
        + ngettext("%(counter)s 个亮点故事", "%(counter)s 个亮点故事", stories) % {"counter": stories}
    )
    # The same msgid as ``{% blocktranslate %}第 {{ number }} 章{% endblocktranslate %}``.
    label = gettext("第 %(number)s 章") % {"number": chapter.number}
    return (
        '\n      <li class="card chapter-card">\n        <p class="card__eyebrow">'
        f"{label} · "
        f'<span class="theme"{_fallback(chapter, "theme", english)}>'
        f"{_e(localized_in(chapter, 'theme', english=english))}</span></p>\n"
        f'        <h3 class="card__title"><a href="{_e(url)}"{_fallback(chapter, "title", english)}>'
        f"{_e(localized_in(chapter, 'title', english=english))}</a></h3>\n"
        f'        <p class="card__meta">{counts}</p>\n      </li>\n      '
    )


@register.simple_tag
def chapter_cards(chapters: Iterable[Chapter]) -> SafeString:
    """The edition page's chapter cards (``<li class="card chapter-card">``): number, theme,
    title (linked) and the counts of public indicators and stories (``indicator_count``,
    ``story_count``, as ``selectors.edition_page`` gives them). Each chapter's edition is read."""
    urls = chapter_urls()
    english = is_english()
    cards = [_chapter_card(c, urls(c.edition.year, c.slug), english) for c in chapters]
    return mark_safe("".join(cards))  # noqa: S308 - every text in the cards is escaped
