"""What the participation app tells the page cache (``indicators.cache``).

The cached pages and read API show this app's data too: stored aggregates,
approved comments with their replies, the survey. Its writes say what they
changed through these few calls (after their commit), and its survey pages
name the moments they change by themselves (a survey opens, closes, or is
published on a date). This app calls down into ``indicators.cache``; nothing
there knows this app.
"""

from datetime import datetime

from django.db.models import Q

from feedback.models import Comment, Survey
from indicators import cache as page_cache


def _survey_next_change(now: datetime) -> datetime | None:
    """The next moment a survey is published, opens or closes (one query)."""
    rows = Survey.objects.filter(Q(published_at__gt=now) | Q(opens_at__gt=now) | Q(closes_at__gt=now))
    moments = [
        moment
        for row in rows.values_list("published_at", "opens_at", "closes_at")
        for moment in row
        if moment is not None and moment > now
    ]
    return min(moments, default=None)


SURVEY_SCHEDULE = page_cache.Schedule("surveys", _survey_next_change, (page_cache.SURVEYS,))


def surveys_changed() -> None:
    """A survey or its questions were written (staff in the admin, the survey loader)."""
    page_cache.tags_bump(page_cache.SURVEYS, schedules=(SURVEY_SCHEDULE,))


def comment_pages_changed(comment: Comment) -> None:
    """Whether ``comment`` (or the reply beneath it) is public, or what it says, changed."""
    page_cache.comments_changed(indicator_id=comment.indicator_id, story_id=comment.story_id)
