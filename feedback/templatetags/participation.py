"""``{% participation_panel target %}``: ratings and comments on an item page.

Shows the stored aggregate (never raw ratings), the resident's own current
score, the rating form, the approved comments with their official replies,
and the comment form. The reads are one selector
(``selectors.participation_for_target``), a constant number of queries: the
tag is how the report's pages (``indicators``, below this app) embed it
without importing it.
"""

from django import template

from feedback import selectors
from feedback.forms import CommentForm, RatingForm
from feedback.residents import resident_identity
from indicators.models import Indicator, Story

register = template.Library()

COMMENTS_SHOWN = 20


@register.inclusion_tag("feedback/_panel.html", takes_context=True)
def participation_panel(context, target: Indicator | Story) -> dict:
    request = context.get("request")
    identity = resident_identity(request) if request is not None else None
    data = selectors.participation_for_target(
        target=target, key_hash=identity.key_hash if identity else None, comments_shown=COMMENTS_SHOWN
    )
    return {
        "request": request,
        "target": target,
        "kind": "indicator" if isinstance(target, Indicator) else "story",
        "summary": data.summary,
        "my_rating": data.my_rating,
        "rating_form": RatingForm(
            districts=data.districts,
            auto_id="rate-%s",
            initial={"score": data.my_rating.score if data.my_rating else None},
        ),
        "comment_form": CommentForm(districts=data.districts, auto_id="comment-%s"),
        "comments": data.comments,
        "more_comments": data.more_comments,
    }


@register.inclusion_tag("feedback/_score.html")
def score_summary(summary: selectors.ScoreSummary, heading_id: str = "") -> dict:
    """The mean (or 评价人数不足), count, 95 % interval and distribution bar."""
    return {"summary": summary, "heading_id": heading_id}


@register.inclusion_tag("feedback/_chapter_score.html")
def chapter_score(chapter) -> dict:
    """The stored satisfaction of a chapter (ratings of its indicators and stories)."""
    return {"summary": selectors.chapter_summary(chapter), "chapter": chapter}
