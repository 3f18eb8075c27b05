"""The public site: thin views over ``indicators.selectors``.

Every object is fetched through a selector that applies the publication rule
and raises 404 for drafts, scheduled items, unpublished editions and unknown
slugs; the views only arrange what the templates show. Every page is the same
for every visitor and comes from the page cache (``indicators.cache``) while
nothing it shows has changed: ``cached_page`` names the tags its URL implies.
"""

import unicodedata
from collections import defaultdict

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from indicators import selectors
from indicators.cache import (
    REPORT,
    SHARED,
    cached_page,
    depend,
    dont_store,
    edition_tags,
    read_before,
    year_tag,
)
from indicators.english_figures import unit_label_english
from indicators.models import Edition, Indicator, IndicatorValue, StoryKind, is_english, localized_in
from indicators.page_urls import edition_url
from indicators.templatetags.report import (
    chinese_if,
    localized_html,
    paragraphs,
    published_editions_given,
    truncated,
)

# --- Home and editions -----------------------------------------------------------------


@cached_page(tags=(REPORT,))
def home(request: HttpRequest) -> HttpResponse:
    """The latest public edition; a short notice while none is published."""
    edition = selectors.edition_published_latest()
    if edition is None:
        return render(request, "indicators/no_edition.html")
    return _edition_page(request, edition, is_home=True)


@cached_page(tags=edition_tags)
def edition(request: HttpRequest, year: int) -> HttpResponse:
    return _edition_page(request, selectors.edition_get_published(year=year), is_home=False)


def _edition_page(request: HttpRequest, edition: Edition, *, is_home: bool) -> HttpResponse:
    # The switcher's editions are read with the page's lists: the page depends on SHARED
    # first (its version read before them; ``/<year>/``'s tags include it, the home page's not).
    depend(request, SHARED)
    page = selectors.edition_page(edition=edition)
    published_editions_given(request, page.editions)
    return render(
        request,
        "indicators/edition.html",
        {
            "edition": edition,
            "is_home": is_home,
            "nav": "home" if is_home else "",
            "chapters": page.chapters,
            "headlines": page.headlines,
        },
    )


# --- Chapters ---------------------------------------------------------------------------------


@cached_page(tags=edition_tags)
def chapter(request: HttpRequest, year: int, slug: str) -> HttpResponse:
    # The page's tags (``edition_tags``) include SHARED, whose version the page cache read
    # before this view: the switcher's editions can be read with the page's own reads.
    page = selectors.chapter_page(year=year, slug=slug)
    published_editions_given(request, page.editions)
    by_section: dict[int | None, list[Indicator]] = defaultdict(list)
    for indicator in page.indicators:
        by_section[indicator.section_id].append(indicator)
    sections = [(section, by_section.pop(section.pk, [])) for section in page.sections]
    chapter, edition = page.chapter, page.chapter.edition
    # The page's fixed phrases with their figures, translated once here rather than by a
    # {% blocktranslate %} each time the template says them (the same msgids).
    counts = {"indicators": len(page.indicators), "stories": len(page.stories)}
    # The chapter's texts, each said more than once by the page (title, description, head).
    english = is_english()
    title = localized_in(chapter, "title", english=english)
    summary = chapter.summary
    # The texts the template shows as they are ({{ … }}), escaped here once each (as the
    # template would escape them, each time it says them: the label and the theme thrice).
    return render(
        request,
        "indicators/chapter.html",
        {
            "edition": edition,
            "edition_url": escape(edition_url(edition.year)),
            "edition_title": escape(localized_in(edition, "title", english=english)),
            # In a span marked Chinese where an English page shows the Chinese (no English).
            "chapter_theme": localized_html(chapter, "theme", english=english),
            "chapter_title": localized_html(chapter, "title", english=english),
            # ``{{ title }} {{ summary|truncatechars:100 }}`` (the page's description).
            "chapter_description": escape(f"{title} {truncated(summary, 100)}" if summary else title),
            "chapter_lead": [escape(paragraph) for paragraph in paragraphs(summary)],
            # The summary is the report's Chinese (the data has no English one).
            "chinese": mark_safe(chinese_if(english)),  # noqa: S308 - a constant
            "edition_label": escape(gettext("%(year)s 年度") % {"year": edition.year}),
            "chapter_label": escape(gettext("第 %(number)s 章") % {"number": chapter.number}),
            "counts": escape(
                " · ".join(
                    (
                        ngettext("%(counter)s 项指标", "%(counter)s 项指标", counts["indicators"])
                        % {"counter": counts["indicators"]},
                        ngettext("%(counter)s 个亮点故事", "%(counter)s 个亮点故事", counts["stories"])
                        % {"counter": counts["stories"]},
                    )
                )
            ),
            "chapter": chapter,
            "nav": "chapters",
            "sections": sections,
            # Indicators that staff have not placed in a section (or whose
            # section was removed) still belong to the chapter.
            "unsectioned": [i for rest in by_section.values() for i in rest],
            "indicator_count": len(page.indicators),
            "indicators": page.indicators,
            "stories": page.stories,
            # What other apps read with the page's rows (their tags show them: the score).
            "chapter_reads": page.added,
        },
    )


# --- Indicators ------------------------------------------------------------------------------


@cached_page(tags=edition_tags)
def indicator_list(request: HttpRequest, year: int) -> HttpResponse:
    edition = selectors.edition_get_published(year=year)
    groups: dict[int, dict] = {}
    for indicator in selectors.indicator_list_for_edition(edition=edition):
        group = groups.setdefault(indicator.chapter_id, {"chapter": indicator.chapter, "indicators": []})
        group["indicators"].append(indicator)
    return render(
        request,
        "indicators/indicator_list.html",
        {"edition": edition, "groups": list(groups.values())},
    )


@cached_page(tags=edition_tags)
def indicator(request: HttpRequest, year: int, code: str) -> HttpResponse:
    page = selectors.indicator_page(year=year, code=code)
    indicator, editions = page.indicator, page.editions
    # The page's tags (``edition_tags``) include SHARED, whose version the page cache read
    # before this view: the switcher's editions are read with the page's own reads.
    published_editions_given(request, editions)
    # The same indicator in the other public editions (its code is stable from one
    # edition to the next): the page shows their content too, so it depends on each
    # of them (any may add, change or drop that code), read before their rows. Those
    # read with the page's are shown when their versions came first (``read_before``: a
    # page being rebuilt); otherwise they are read again, after them.
    other_years = [year_tag(e.year) for e in editions if e.year != indicator.edition.year]
    read = page.others if read_before(request, *other_years) else None
    if read is None:
        depend(request, *other_years)
    others = selectors.indicator_others(indicator, editions, read)
    series = _series_across_editions(indicator, others)
    return render(
        request,
        "indicators/indicator.html",
        {
            "edition": indicator.edition,
            "indicator": indicator,
            "current": indicator.current_value,
            "previous": indicator.previous_value,
            "series": series,
            "series_spans_editions": any(point.edition_year != indicator.edition.year for point in series),
            "chart": _chart_data(indicator, series) if len(series) > 1 else None,
            # Every edition's indicator of this code, oldest first; none when it is in one only.
            "across_editions": sorted([indicator, *others], key=lambda i: i.edition.year) if others else [],
            "stories": page.stories,
            # What other apps read with the page's rows (their tags show them: the panel).
            "page_reads": page.added,
        },
    )


def _series_across_editions(indicator: Indicator, others: list[Indicator]) -> list[IndicatorValue]:
    """The indicator's values, with the points only other editions give (same code and unit).

    A point this edition gives is always its own; for a point it lacks, the newest
    edition giving it is taken. Each point carries ``edition_year``, the report it is from.
    Every figure is one an edition published; an edition with another unit is left out.
    """
    points: dict[str, IndicatorValue] = {}
    for source in [indicator, *sorted(others, key=lambda i: -i.edition.year)]:
        if source.unit != indicator.unit:
            continue
        for value in source.series:
            if value.label not in points:
                value.edition_year = source.edition.year
                points[value.label] = value
    return sorted(points.values(), key=lambda v: (v.year, v.month or 0))


def _chart_label(indicator: Indicator) -> str:
    """The name and, in brackets, the unit the chart's values are in (``万人``: the values
    stay the report's, so in English ``10,000 people``)."""
    if not indicator.unit:
        return indicator.display_name
    if is_english():
        unit = unit_label_english(indicator.unit)
        return f"{indicator.display_name} ({unit})" if unit else indicator.display_name
    return f"{indicator.display_name}（{indicator.unit}）"


def _chart_data(indicator: Indicator, series: list) -> dict:
    """What ``static/js/charts.js`` draws; the same points are in the page's table."""
    return {
        # Two points read best as bars (before → after); a longer series as a line.
        "type": "bar" if len(series) == 2 else "line",
        "label": _chart_label(indicator),
        "labels": [point.label for point in series],
        "values": [float(point.value) for point in series],
    }


# --- Stories ------------------------------------------------------------------------------------


class StoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False)
    district = forms.ChoiceField(label=_("所在区"), required=False)

    def __init__(self, *args, districts, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("全部类型")), *StoryKind.choices]
        self.fields["district"].choices = [("", _("全部区")), *((d.slug, d.display_name) for d in districts)]


@cached_page(tags=edition_tags, params=("kind", "district", "page"))
def story_list(request: HttpRequest, year: int) -> HttpResponse:
    edition = selectors.edition_get_published(year=year)
    form = StoryFilterForm(
        request.GET or None, districts=selectors.district_list_with_stories(edition=edition)
    )
    wanted: dict = {}
    if form.is_bound:
        # An unknown choice is reported on the form; the valid filters still
        # apply (``cleaned_data`` keeps the fields that passed).
        if not form.is_valid():
            dont_store(request)
        wanted = form.cleaned_data
    stories = selectors.story_list_published(
        edition=edition, kind=wanted.get("kind", ""), district=wanted.get("district", "")
    )
    asked = request.GET.get("page")
    page = Paginator(stories, selectors.STORY_PAGE_SIZE).get_page(asked)
    if asked is not None and asked != str(page.number):
        dont_store(request)  # ?page=abc or ?page=999 show a valid page: keep one entry of it
    # The filters only: links must not carry other parameters the cached page ignores.
    query = request.GET.copy()
    for name in list(query):
        if name not in ("kind", "district"):
            query.pop(name)
    return render(
        request,
        "indicators/story_list.html",
        {
            "edition": edition,
            "form": form,
            "nav": "stories",
            "page": page,
            "stories": page.object_list,
            "filter_query": query.urlencode(),
            "filtered": bool(wanted.get("kind") or wanted.get("district")),
        },
    )


def story_list_latest(request: HttpRequest) -> HttpResponse:
    """``/stories/``: the stories of the latest edition (the nav's link on pages without an edition)."""
    edition = selectors.edition_published_latest()
    if edition is None:
        return redirect("indicators:home")
    url = reverse("indicators:story_list", kwargs={"year": edition.year})
    if request.GET:
        url = f"{url}?{request.GET.urlencode()}"
    return redirect(url)


@cached_page(tags=edition_tags)
def story(request: HttpRequest, year: int, slug: str) -> HttpResponse:
    page = selectors.story_page(year=year, slug=slug)
    # The switcher's editions, read with the page's own reads (after SHARED's version, as above).
    published_editions_given(request, page.editions)
    return render(
        request,
        "indicators/story.html",
        {
            "edition": page.story.edition,
            "story": page.story,
            "photos": page.photos,
            "indicators": page.indicators,
            # What other apps read with the page's rows (their tags show them: the panel).
            "page_reads": page.added,
        },
    )


# --- Search ----------------------------------------------------------------------------------------


def _is_han(char: str) -> bool:
    return unicodedata.name(char, "").startswith(("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH"))


def _search_refusal(query: str) -> str:
    """Why ``query`` is not searched ("" when it is): no letter, digit or character at all
    ("no_words"), or too short to mean anything ("too_short"). One Chinese character is a
    word (雨, 水, 绿); a single Latin letter or digit would match nearly every text."""
    if not query:
        return ""
    if not any(char.isalnum() for char in query):
        return "no_words"
    if len(query) < selectors.SEARCH_MIN_LENGTH and not any(_is_han(char) for char in query):
        return "too_short"
    return ""


# Not stored: one entry per query typed would have no bound. A CDN may keep it briefly.
@cached_page(tags=(REPORT,), params=("q",), store=False)
def search(request: HttpRequest) -> HttpResponse:
    raw = request.GET.get("q", "")
    query = selectors.search_normalize(raw)
    refusal = _search_refusal(query)
    too_short = refusal == "too_short"
    searched = bool(query) and not refusal
    indicators = list(selectors.search_indicators(query=query)) if searched else []
    stories = list(selectors.search_stories(query=query)) if searched else []
    return render(
        request,
        "indicators/search.html",
        {
            "query": query,
            "nav": "search",
            "searched": searched,
            "too_short": too_short,
            "no_words": refusal == "no_words",
            "truncated": len(" ".join(raw.split())) > selectors.SEARCH_MAX_LENGTH,
            "indicators": indicators,
            "stories": stories,
            "limit": selectors.SEARCH_RESULT_LIMIT,
            "min_length": selectors.SEARCH_MIN_LENGTH,
            "max_length": selectors.SEARCH_MAX_LENGTH,
        },
    )
