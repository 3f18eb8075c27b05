"""Celery tasks of the review workspace: thin wrappers over ``review.notifications``."""

from celery import shared_task

from review import notifications


@shared_task(name="review.tasks.case_assigned_notify")
def case_assigned_notify(case_id: int) -> bool:
    """E-mail the current assignee of a case; quiet if the case or assignee is gone."""
    return notifications.case_assigned_email_send(case_id=case_id)


@shared_task(name="review.tasks.planner_digest_send")
def planner_digest_send() -> int:
    """Send each planner the digest of the last 24 h (beat: daily 08:00); returns how many were sent."""
    return notifications.planner_digests_send()
