"""``{% participation_panel target %}``: ratings and comments on an item page.

Shows the stored aggregate (never raw ratings), the rating form, the approved
comments with their official replies, and the comment form. The reads are one
selector (``selectors.participation_for_target``), a constant number of
queries, sent with the item page's own (``selectors.panel_reads``) where the
page may show them: the tag is how the report's pages (``indicators``, below
this app) embed it without importing it.

The panel is the same for every visitor, since the page holding it comes from
the shared page cache (``indicators.cache``): the visitor's own score is not in
it but in ``/me/fragment/`` (``feedback.views.me_fragment``), which
``feedback/me.js`` fetches to mark it. Each tag tells the page cache which
aggregate and comments it is about to read (``depend``), before reading them.
"""

from datetime import datetime

from django import template
from django.core.exceptions import ObjectDoesNotExist
from django.template.defaultfilters import linebreaksbr
from django.utils.functional import SimpleLazyObject
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext

from feedback import score_markup, selectors
from feedback.apps import CHAPTER_SCORES, PANEL
from feedback.forms import CommentForm, RatingForm, escaped
from feedback.models import AggregateScope, Comment
from indicators import cache as page_cache
from indicators.models import Indicator, Story, is_english
from indicators.templatetags.report import chinese_if_written, written_html

register = template.Library()


def _panel_rows(request, kind: str, target: Indicator | Story, added) -> list | None:
    """The panel's rows the page read with its own (``added``, the page's ``page_reads``
    rows), when they may be shown: always for a page not being stored; for one being
    stored, when the versions of the item's tags were read before the build
    (``read_before``), which the page then depends on. None otherwise: the panel reads them
    again, after their versions (``depend``)."""
    rows = (added or {}).get(PANEL)
    if rows is None or not page_cache.read_before(request, *page_cache.item_tags(kind, target.pk)):
        return None
    return rows


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def participation_panel(context, target: Indicator | Story, added=None) -> dict:
    """The panel of ``target``; ``added``: the rows the item's page read with its own."""
    request = context.get("request")
    kind = "indicator" if isinstance(target, Indicator) else "story"
    rows = _panel_rows(request, kind, target, added)
    if request is not None and rows is None:
        page_cache.depend(request, *page_cache.item_tags(kind, target.pk))
    # The indicator's aggregate, when the page read it already (``perception``): no second query.
    known = getattr(request, _SUMMARIES, {}).get(target.pk) if kind == "indicator" else None
    data = selectors.participation_for_target(target=target, key_hash=None, summary=known, rows=rows)
    districts = data.districts
    return {
        "request": request,
        "target": target,
        "kind": kind,
        "summary": data.summary,
        # The blank forms are written once per process for this item, language and list of
        # districts ({% fixed %} in the template): made only when they are written.
        "rating_form": SimpleLazyObject(lambda: RatingForm(districts=districts, auto_id="rate-%s")),
        "comment_form": SimpleLazyObject(lambda: CommentForm(districts=districts, auto_id="comment-%s")),
        # All the forms show of the districts (their order, ids and names in either language).
        "district_names": tuple([(d.pk, d.name, d.name_en) for d in districts]),
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


def _comment_html(comment: Comment, texts: dict[str, str], english: bool) -> str:
    """One ``<li>`` of the panel's comments: author, district, date, text, official reply.
    What residents and planners wrote is marked Chinese on an English page when it is."""
    if comment.nickname:
        author = escaped(comment.nickname)
        author_lang = chinese_if_written(comment.nickname, english)
    else:
        author, author_lang = texts["resident"], ""
    district = f" · {escaped(comment.district.display_name)}" if comment.district else ""
    iso, day = _day(comment.created_at)
    if comment.author_deleted_at:
        body = f'<div class="comment__body muted">{texts["deleted"]}</div>'
    else:
        body = (
            f'<div class="comment__body"{chinese_if_written(comment.body, english)}>'
            f"{linebreaksbr(comment.body, autoescape=True)}</div>"
        )
    try:
        reply = comment.official_reply
    except ObjectDoesNotExist:
        reply = None
    answer = ""
    if reply is not None and reply.is_public:
        title = f" · {written_html(reply.author_title, english=english)}" if reply.author_title else ""
        reply_iso, reply_day = _day(reply.created_at)
        text = linebreaksbr(reply.body, autoescape=True)
        answer = (
            '\n    <div class="reply">\n'
            f'      <p class="reply__meta"><strong>{texts["reply"]}</strong>{title}'
            f' · <time datetime="{reply_iso}">{reply_day}</time></p>\n'
            f'      <div class="reply__body"{chinese_if_written(reply.body, english)}>{text}</div>'
            "\n    </div>\n  "
        )
    return (
        '<li class="comment">\n  <p class="comment__meta">'
        f'<span class="comment__author"{author_lang}>{author}</span>'
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
    english = is_english()
    return mark_safe("".join([_comment_html(comment, texts, english) for comment in comments]))  # noqa: S308


@register.simple_tag
def score_summary(summary: selectors.ScoreSummary) -> SafeString:
    """The mean (or 评价人数不足), count, 95 % interval and distribution bar: the markup of
    ``feedback/_score.html``, written in Python (``feedback.score_markup``). Every page
    shows a score through this tag; the template stays the description of the markup,
    which tests/test_chapter_score_markup.py holds the two to."""
    return mark_safe(score_markup.score(summary))  # noqa: S308 - the markup escapes what it shows


@register.simple_tag
def score_bars(summary: selectors.ScoreSummary) -> SafeString:
    """The rows of a score's distribution table, 5 down to 1 (``_score.html``'s, the
    description of ``score_summary``'s markup)."""
    return mark_safe(score_markup.score_bars(summary))  # noqa: S308 - the label is escaped, the rest are numbers


# On the request: the chapter chart's items, when ``chapter_score`` read them with the
# chapter's aggregate (keyed by the items' ids, so that only the same lists reuse them).
_CHAPTER_ITEMS = "_participation_chapter_items"


def _item_ids(indicators, stories) -> tuple:
    # ``id``, the primary key of both (``pk`` is a property that looks it up).
    return tuple([i.id for i in indicators]), tuple([s.id for s in stories])


def _chapter_tags(chapter, ids: tuple) -> list[str]:
    """The tags of the aggregates of the chapter and of its items (``_item_ids``)."""
    tag = page_cache.aggregate_tag
    return [
        *((tag(AggregateScope.CHAPTER, chapter.pk),) if chapter is not None else ()),
        *[tag(AggregateScope.INDICATOR, pk) for pk in ids[0]],
        *[tag(AggregateScope.STORY, pk) for pk in ids[1]],
    ]


def _chapter_depend(request, chapter, ids: tuple) -> None:
    """``depend`` on the aggregates of the chapter and of its items; their tags are only
    built for a page being stored (an uncached page's would be dropped)."""
    if page_cache.records(request):
        page_cache.depend(request, *_chapter_tags(chapter, ids))


@register.simple_tag(takes_context=True)
def chapter_score(context, chapter, indicators=None, stories=None, added=None) -> SafeString:
    """The stored satisfaction of a chapter (ratings of its indicators and stories).

    Given the chapter's ``indicators`` and ``stories`` (the page's chart of them follows,
    ``chapter_chart``), their aggregates are read in the same query; given ``added``, the
    rows the chapter page read with its own (``ChapterPage.added``), they were read in its
    round trip. Those are shown unless the page is being stored and some of their tags'
    versions were not read before them (a page with no entry yet, an item new to the
    chapter): they are then read again after their versions. The markup is
    ``feedback.score_markup``'s."""
    request = context.get("request")
    if indicators is None or stories is None or request is None:
        if request is not None:
            _chapter_depend(request, chapter, ((), ()))
        summary = selectors.chapter_summary(chapter)
    else:
        indicators, stories = list(indicators), list(stories)
        ids = _item_ids(indicators, stories)
        rows = (added or {}).get(CHAPTER_SCORES)
        # The tags are only built for a page being stored (an uncached page's would be
        # dropped), once: rows read before their versions are read again after them.
        if page_cache.records(request):
            tags = _chapter_tags(chapter, ids)
            if rows is None or not page_cache.read_before(request, *tags):
                page_cache.depend(request, *tags)
                rows = None
        summary, items = selectors.chapter_scores(chapter, indicators=indicators, stories=stories, rows=rows)
        setattr(request, _CHAPTER_ITEMS, (ids, items))
    return mark_safe(score_markup.chapter_score(summary))  # noqa: S308 - the markup escapes what it shows


# --- Perception beside measurement -----------------------------------------------------------
#
# The indicator page shows the city's figure beside residents' satisfaction, and each
# edition's satisfaction with its figure; the chapter page charts its items'. Every
# figure is a stored aggregate read through ``selectors`` (withheld below the minimum
# by ``ScoreSummary``); each tag tells the page cache which aggregates it reads first.

# On the request: the indicator aggregates this page has read, by indicator id.
_SUMMARIES = "_participation_indicator_summaries"


def _indicator_summaries(request, indicators, rows: list | None = None) -> dict[int, selectors.ScoreSummary]:
    """The stored satisfaction of these indicators, each read once per page (one query for
    those not read yet), after their versions (``depend``). ``rows``: the panel's rows the
    page read with its own (``_panel_rows``), whose aggregates are the first indicator's and,
    when their versions were read before the build (``read_before``), the others'."""
    memo: dict[int, selectors.ScoreSummary] = getattr(request, _SUMMARIES, None) or {}
    if rows is not None and indicators[0].pk not in memo:
        aggregates = rows[2]  # districts, comments, aggregates
        others = [indicator.pk for indicator in indicators[1:] if indicator.pk not in memo]
        tags = [page_cache.aggregate_tag(AggregateScope.INDICATOR, pk) for pk in others]
        shown = [indicators[0].pk, *others] if page_cache.read_before(request, *tags) else [indicators[0].pk]
        memo.update({pk: selectors.summary_from_rows(aggregates, pk) for pk in shown})
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
def perception(context, indicator: Indicator, editions=(), added=None) -> dict:
    """Residents' satisfaction with ``indicator``, to stand beside its figure. ``editions``:
    the same indicator in other editions, whose figures the page shows further down
    (read in the same query). ``added``: the rows the page read with its own, among them
    the panel's with the indicator's aggregate (``_panel_rows``)."""
    request = context.get("request")
    rows = _panel_rows(request, "indicator", indicator, added)
    summaries = _indicator_summaries(request, [indicator, *editions], rows)
    return {"summary": summaries[indicator.pk], "indicator": indicator}


@register.simple_tag(takes_context=True)
def edition_scores(context, indicators) -> list[tuple[Indicator, selectors.ScoreSummary]]:
    """``{% edition_scores indicators as rows %}``: each indicator with its stored satisfaction."""
    summaries = _indicator_summaries(context.get("request"), indicators)
    return [(indicator, summaries[indicator.pk]) for indicator in indicators]


@register.simple_tag(takes_context=True)
def chapter_chart(context, indicators, stories) -> SafeString:
    """The chapter's items with enough raters: their mean and 95 % interval, as a chart
    (``static/js/charts.js``) over a table holding the same numbers (``feedback.score_markup``)."""
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
    below_minimum = len(indicators) + len(stories) - len(items)
    return mark_safe(score_markup.chapter_chart(items, below_minimum=below_minimum))  # noqa: S308 - escaped
