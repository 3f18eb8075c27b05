"""``{% participation_panel target %}``: ratings and comments on an item page.

Shows the stored aggregate (never raw ratings), the resident's own current
score, the rating form, the approved comments with their official replies,
and the comment form. It adds a constant number of queries to the page:
districts, aggregate, comments (with replies) and — only for a visitor who
already has a resident cookie — their own rating.
"""

from django import template

from feedback import selectors
from feedback.forms import CommentForm, RatingForm
from feedback.models import AggregateScope
from feedback.residents import resident_identity
from indicators.models import Indicator, Story

register = template.Library()

COMMENTS_SHOWN = 20


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def participation_panel(context, target: Indicator | Story) -> dict:
    request = context.get("request")
    kind = "indicator" if isinstance(target, Indicator) else "story"
    identity = resident_identity(request) if request is not None else None
    districts = list(selectors.district_list())
    my_rating = (
        selectors.resident_rating_for_target(key_hash=identity.key_hash, target=target) if identity else None
    )
    comments = list(selectors.comments_public_for_target(target)[: COMMENTS_SHOWN + 1])
    return {
        "request": request,
        "target": target,
        "kind": kind,
        "summary": selectors.aggregate_for_target(target),
        "my_rating": my_rating,
        "rating_form": RatingForm(
            districts=districts,
            auto_id="rate-%s",
            initial={"score": my_rating.score if my_rating else None},
        ),
        "comment_form": CommentForm(districts=districts, auto_id="comment-%s"),
        "comments": comments[:COMMENTS_SHOWN],
        "more_comments": len(comments) > COMMENTS_SHOWN,
    }


@register.inclusion_tag("feedback/_score.html")
def score_summary(summary: selectors.ScoreSummary, heading_id: str = "") -> dict:
    """The mean (or 评价人数不足), count, 95 % interval and distribution bar."""
    return {"summary": summary, "heading_id": heading_id}


@register.inclusion_tag("feedback/_chapter_score.html")
def chapter_score(chapter) -> dict:
    """The stored satisfaction of a chapter (ratings of its indicators and stories); one query."""
    summaries = selectors.aggregates_by_object(scope=AggregateScope.CHAPTER, object_ids=[chapter.pk])
    return {"summary": summaries[chapter.pk], "chapter": chapter}
