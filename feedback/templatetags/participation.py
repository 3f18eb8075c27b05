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

from django import template

from feedback import selectors
from feedback.forms import CommentForm, RatingForm
from feedback.models import AggregateScope
from indicators import cache as page_cache
from indicators.models import Indicator, Story

register = template.Library()

COMMENTS_SHOWN = 20


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def participation_panel(context, target: Indicator | Story) -> dict:
    request = context.get("request")
    kind = "indicator" if isinstance(target, Indicator) else "story"
    if request is not None:
        page_cache.depend(request, *page_cache.item_tags(kind, target.pk))
    data = selectors.participation_for_target(target=target, key_hash=None, comments_shown=COMMENTS_SHOWN)
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


@register.inclusion_tag("feedback/_score.html")
def score_summary(summary: selectors.ScoreSummary, heading_id: str = "") -> dict:
    """The mean (or 评价人数不足), count, 95 % interval and distribution bar."""
    return {"summary": summary, "heading_id": heading_id}


@register.inclusion_tag("feedback/_chapter_score.html", takes_context=True)
def chapter_score(context, chapter) -> dict:
    """The stored satisfaction of a chapter (ratings of its indicators and stories)."""
    if context.get("request") is not None:
        page_cache.depend(context["request"], page_cache.aggregate_tag(AggregateScope.CHAPTER, chapter.pk))
    return {"summary": selectors.chapter_summary(chapter), "chapter": chapter}
