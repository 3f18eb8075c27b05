"""``{% participation_panel target %}``: ratings and comments on an item page.

Shows the stored aggregate (never raw ratings), the rating form, the approved
comments with their official replies, and the comment form. The reads are one
selector (``selectors.participation_for_target``), a constant number of
queries: the tag is how the report's pages (``indicators``, below this app)
embed it without importing it.

The panel is the same for every visitor, since the page holding it comes from
the shared page cache (``indicators.cache``): the visitor's own score is not in
it but in ``/me/fragment/`` (``feedback.views.me_fragment``), which
``feedback/me.js`` fetches to mark it. Each tag tells the page cache which
aggregate and comments it is about to read (``depend``), before reading them.
"""

import html
import unicodedata
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from django import template
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import floatformat, linebreaksbr
from django.utils import numberformat
from django.utils.formats import get_format, localize
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator
from django.utils.timezone import template_localtime
from django.utils.translation import get_language, gettext

from feedback import selectors
from feedback.forms import CommentForm, RatingForm, escaped
from feedback.models import AggregateScope, Comment
from indicators import cache as page_cache
from indicators.memo import settings_memo
from indicators.models import Indicator, Story, is_english, localized_in
from indicators.page_urls import indicator_urls, story_urls

register = template.Library()

COMMENTS_SHOWN = 20


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def participation_panel(context, target: Indicator | Story) -> dict:
    request = context.get("request")
    kind = "indicator" if isinstance(target, Indicator) else "story"
    if request is not None:
        page_cache.depend(request, *page_cache.item_tags(kind, target.pk))
    # The indicator's aggregate, when the page read it already (``perception``): no second query.
    known = getattr(request, _SUMMARIES, {}).get(target.pk) if kind == "indicator" else None
    data = selectors.participation_for_target(
        target=target, key_hash=None, comments_shown=COMMENTS_SHOWN, summary=known
    )
    return {
        "request": request,
        "target": target,
        "kind": kind,
        "summary": data.summary,
        "rating_form": RatingForm(districts=data.districts, auto_id="rate-%s"),
        "comment_form": CommentForm(districts=data.districts, auto_id="comment-%s"),
        "comments": data.comments,
        "more_comments": data.more_comments,
    }


@register.simple_tag
def score_radios(field) -> SafeString:
    """The score's radio buttons, each in its label: what a ``{% for radio in field %}`` loop
    of ``<label class="rate-option">`` wrote, without a template pass per radio."""
    return mark_safe(  # noqa: S308 - the tag is the widget's HTML, the rest is escaped
        "".join(
            f'\n      <label class="rate-option" for="{escaped(radio.id_for_label)}">{radio.tag()}'
            f"<span>{escaped(radio.choice_label)}</span></label>\n    "
            for radio in field
        )
    )


def _day(value: datetime) -> tuple[str, str]:
    """``value|date:'c'`` and ``value|date:"Y-m-d"`` as a template writes them: in the current
    time zone, ISO 8601 (the ``c`` format is ``isoformat()``) and the date."""
    local = template_localtime(value)
    return local.isoformat(), f"{local.year:04d}-{local.month:02d}-{local.day:02d}"


def _comment_html(comment: Comment, texts: dict[str, str]) -> str:
    """One ``<li>`` of the panel's comments: author, district, date, text, official reply."""
    author = escaped(comment.nickname) if comment.nickname else texts["resident"]
    district = f" · {escaped(comment.district.display_name)}" if comment.district else ""
    iso, day = _day(comment.created_at)
    if comment.author_deleted_at:
        body = f'<div class="comment__body muted">{texts["deleted"]}</div>'
    else:
        body = f'<div class="comment__body">{linebreaksbr(comment.body, autoescape=True)}</div>'
    try:
        reply = comment.official_reply
    except ObjectDoesNotExist:
        reply = None
    answer = ""
    if reply is not None and reply.is_public:
        title = f" · {escaped(reply.author_title)}" if reply.author_title else ""
        reply_iso, reply_day = _day(reply.created_at)
        text = linebreaksbr(reply.body, autoescape=True)
        answer = (
            '\n    <div class="reply">\n'
            f'      <p class="reply__meta"><strong>{texts["reply"]}</strong>{title}'
            f' · <time datetime="{reply_iso}">{reply_day}</time></p>\n'
            f'      <div class="reply__body">{text}</div>\n    </div>\n  '
        )
    return (
        f'<li class="comment">\n  <p class="comment__meta"><span class="comment__author">{author}</span>'
        f'{district} · <time datetime="{iso}">{day}</time></p>\n  {body}\n  {answer}\n</li>\n'
    )


@register.simple_tag
def panel_comments(comments: list[Comment]) -> SafeString:
    """The approved comments of the panel, each an ``<li>`` with its official reply (written
    here rather than by an include per comment: up to 20 of them on a page)."""
    texts = {
        "resident": escaped(gettext("市民")),
        "deleted": escaped(gettext("（市民已删除原文）")),
        "reply": escaped(gettext("官方答复")),
    }
    # The texts are escaped; the rest is escaped or numbers.
    return mark_safe("".join([_comment_html(comment, texts) for comment in comments]))  # noqa: S308


@register.inclusion_tag("feedback/_score.html")
def score_summary(summary: selectors.ScoreSummary, heading_id: str = "") -> dict:
    """The mean (or 评价人数不足), count, 95 % interval and distribution bar."""
    return {"summary": summary, "heading_id": heading_id}


@register.simple_tag
def score_bars(summary: selectors.ScoreSummary) -> SafeString:
    """The rows of a score's distribution table, 5 down to 1: label, bar, share and count.

    Written here rather than by a loop of ``_score.html``, whose translation, lookups and
    filters for each of the five bars cost a fifth of a rated chapter page; the same
    markup, the label the same msgid, the figures as the template's ``{{ }}`` and
    ``stringformat`` gave them."""
    label = gettext("%(s)s 分")
    rows = [
        f'<tr>\n        <th scope="row" class="dist__label">{html.escape(label % {"s": bar["score"]})}</th>\n'
        '        <td class="dist__track"><svg class="dist__bar" viewBox="0 0 100 1"'
        ' preserveAspectRatio="none" aria-hidden="true" focusable="false"><rect class="dist__fill"'
        f' width="{bar["percent"]:.1f}" height="1"/></svg>'
        f'<span class="visually-hidden">{localize(bar["percent"])}%</span></td>\n'
        f'        <td class="dist__n">{localize(bar["count"])}</td>\n      </tr>'
        for bar in reversed(summary.bars)
    ]
    return mark_safe("\n      ".join(rows))  # noqa: S308 - the label is escaped, the rest are numbers


# On the request: the chapter chart's items, when ``chapter_score`` read them with the
# chapter's aggregate (keyed by the items' ids, so that only the same lists reuse them).
_CHAPTER_ITEMS = "_participation_chapter_items"


def _item_ids(indicators, stories) -> tuple:
    # ``id``, the primary key of both (``pk`` is a property that looks it up).
    return tuple([i.id for i in indicators]), tuple([s.id for s in stories])


def _chapter_depend(request, chapter, ids: tuple) -> None:
    """``depend`` on the aggregates of the chapter and of its items (``_item_ids``)."""
    tag = page_cache.aggregate_tag
    page_cache.depend(
        request,
        *((tag(AggregateScope.CHAPTER, chapter.pk),) if chapter is not None else ()),
        *[tag(AggregateScope.INDICATOR, pk) for pk in ids[0]],
        *[tag(AggregateScope.STORY, pk) for pk in ids[1]],
    )


@register.inclusion_tag("feedback/_chapter_score.html", takes_context=True)
def chapter_score(context, chapter, indicators=None, stories=None) -> dict:
    """The stored satisfaction of a chapter (ratings of its indicators and stories).

    Given the chapter's ``indicators`` and ``stories`` (the page's chart of them follows,
    ``chapter_chart``), their aggregates are read in the same query."""
    request = context.get("request")
    if indicators is None or stories is None or request is None:
        if request is not None:
            _chapter_depend(request, chapter, ((), ()))
        return {"summary": selectors.chapter_summary(chapter), "chapter": chapter}
    indicators, stories = list(indicators), list(stories)
    ids = _item_ids(indicators, stories)
    _chapter_depend(request, chapter, ids)
    summary, items = selectors.chapter_scores(chapter, indicators=indicators, stories=stories)
    setattr(request, _CHAPTER_ITEMS, (ids, items))
    return {"summary": summary, "chapter": chapter}


# --- Perception beside measurement -----------------------------------------------------------
#
# The indicator page shows the city's figure beside residents' satisfaction, and each
# edition's satisfaction with its figure; the chapter page charts its items'. Every
# figure is a stored aggregate read through ``selectors`` (withheld below the minimum
# by ``ScoreSummary``); each tag tells the page cache which aggregates it reads first.

# On the request: the indicator aggregates this page has read, by indicator id.
_SUMMARIES = "_participation_indicator_summaries"
# Characters of an item's name on the chart's axis (the table beside it has the whole name).
CHART_LABEL_LENGTH = 16


def _indicator_summaries(request, indicators) -> dict[int, selectors.ScoreSummary]:
    """The stored satisfaction of these indicators, each read once per page (one query for
    those not read yet), after their versions (``depend``)."""
    memo: dict[int, selectors.ScoreSummary] = getattr(request, _SUMMARIES, None) or {}
    missing = [indicator.pk for indicator in indicators if indicator.pk not in memo]
    if missing:
        if request is not None:
            page_cache.depend(
                request, *(page_cache.aggregate_tag(AggregateScope.INDICATOR, pk) for pk in missing)
            )
        if len(missing) == 1:
            # The indicator page's own (no other edition): the compiled query of one.
            indicator = next(indicator for indicator in indicators if indicator.pk == missing[0])
            memo[indicator.pk] = selectors.target_summary(indicator)
        else:
            memo.update(selectors.aggregates_by_object(scope=AggregateScope.INDICATOR, object_ids=missing))
    if request is not None:
        setattr(request, _SUMMARIES, memo)
    return memo


@register.inclusion_tag("feedback/_perception.html", takes_context=True)
def perception(context, indicator: Indicator, editions=()) -> dict:
    """Residents' satisfaction with ``indicator``, to stand beside its figure. ``editions``:
    the same indicator in other editions, whose figures the page shows further down
    (read in the same query)."""
    summaries = _indicator_summaries(context.get("request"), [indicator, *editions])
    return {"summary": summaries[indicator.pk], "indicator": indicator}


@register.simple_tag(takes_context=True)
def edition_scores(context, indicators) -> list[tuple[Indicator, selectors.ScoreSummary]]:
    """``{% edition_scores indicators as rows %}``: each indicator with its stored satisfaction."""
    summaries = _indicator_summaries(context.get("request"), indicators)
    return [(indicator, summaries[indicator.pk]) for indicator in indicators]


@settings_memo(maxsize=4096)
def _two_places(value: Decimal, language: str | None) -> str:
    """``value|floatformat:2`` in ``language``: a mean or a bound (1–5, three decimals
    stored), so a few thousand values at most; the filter's work is most of a rated row."""
    return str(floatformat(value, 2))


# The chart's items: each with its summary.
_Items = list[tuple[Indicator | Story, selectors.ScoreSummary]]


def _item_names(items: _Items) -> list[str]:
    """Each item's name (an indicator's ``display_name``, a story's ``display_title``),
    English or not decided once for the list."""
    english = is_english()
    return [
        localized_in(item, "name" if isinstance(item, Indicator) else "title", english=english)
        for item, _ in items
    ]


def _integers() -> Callable[[int], str]:
    """``formats.localize`` for the integers of one list: ``number_format``'s call, with the
    language's formats looked up once rather than for every number."""
    language = get_language()
    decimal_separator = get_format("DECIMAL_SEPARATOR", language, use_l10n=True)
    grouping = get_format("NUMBER_GROUPING", language, use_l10n=True)
    thousand_separator = get_format("THOUSAND_SEPARATOR", language, use_l10n=True)

    def integer(value: int) -> str:
        return numberformat.format(
            value, decimal_separator, None, grouping, thousand_separator, force_grouping=False, use_l10n=True
        )

    return integer


def _chart_rows(items: _Items, names: list[str]) -> SafeString:
    """The table under the chart, one ``<tr>`` per item: name (linked), mean, interval,
    raters. Written here rather than by a loop of the template, whose lookups, filters and
    a URL reversed per row cost most of a chapter page whose items are all rated; the
    figures go through the template's own ``floatformat`` and ``localize``, the texts are
    escaped, the URLs are get_absolute_url()'s (``indicators.page_urls``)."""
    urls = {Indicator: indicator_urls(), Story: story_urls()}
    language = get_language()
    integer = _integers()
    rows = []
    for (item, summary), name in zip(items, names, strict=True):
        key = item.code if isinstance(item, Indicator) else item.slug
        url = urls[type(item)](item.edition.year, key)
        interval = ""
        if summary.ci_low is not None:
            interval = f"{_two_places(summary.ci_low, language)}–{_two_places(summary.ci_high, language)}"
        rows.append(
            f'<tr><th scope="row"><a href="{html.escape(url)}">{html.escape(name)}</a></th>'
            f"<td>{_two_places(summary.mean, language)}</td><td>{interval}</td>"
            f"<td>{integer(summary.raters)}</td></tr>\n      "
        )
    return mark_safe("".join(rows))  # noqa: S308 - the texts are escaped, the figures are numbers


def _chart_label(name: str) -> str:
    """``Truncator(name).chars(CHART_LABEL_LENGTH, truncate="…")``: a name short enough (and
    in the normal form Truncator gives) is itself."""
    if len(name) <= CHART_LABEL_LENGTH and unicodedata.is_normalized("NFC", name):
        return name
    return Truncator(name).chars(CHART_LABEL_LENGTH, truncate="…")


@register.inclusion_tag("feedback/_chapter_chart.html", takes_context=True)
def chapter_chart(context, indicators, stories) -> dict:
    """The chapter's items with enough raters: their mean and 95 % interval, as a chart
    (``static/js/charts.js``) over a table holding the same numbers."""
    indicators, stories = list(indicators), list(stories)
    request = context.get("request")
    read = getattr(request, _CHAPTER_ITEMS, None)
    ids = _item_ids(indicators, stories)
    if read is not None and read[0] == ids:
        items = list(read[1])
    else:
        if request is not None:
            _chapter_depend(request, None, ids)
        items = selectors.chapter_item_summaries(indicators=indicators, stories=stories)
    items.sort(key=lambda item: -item[1].mean)
    names = _item_names(items)
    chart = None
    if items:
        chart = {
            "type": "interval",
            "label": gettext("平均分"),
            "interval_label": gettext("95% 区间"),
            "labels": [_chart_label(name) for name in names],
            "values": [float(summary.mean) for _, summary in items],
            "low": [float(summary.ci_low) if summary.ci_low is not None else None for _, summary in items],
            "high": [float(summary.ci_high) if summary.ci_high is not None else None for _, summary in items],
            "min": 1,
            "max": 5,
        }
    return {
        "rows": _chart_rows(items, names),
        "chart": chart,
        "below_minimum": len(indicators) + len(stories) - len(items),
        "min_count": settings.AGGREGATE_MIN_COUNT,
    }
