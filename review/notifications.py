"""E-mails to planners: the assignment notice and the daily digest.

Both are idempotent enough to be retried by Celery: the assignment notice is
sent to whoever is the assignee when the task runs, and the digest writes one
``DigestLog`` per planner per day in the same transaction as the send, so a
second run on the same day sends nothing twice.
"""

from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from review.models import DigestLog, ReviewCase
from review.selectors import case_due_counts, case_scope_for_user, planner_profiles_with_email

DIGEST_WINDOW = timedelta(hours=24)
DIGEST_MAX_LISTED = 50


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def case_assigned_email_send(*, case_id: int) -> bool:
    case = (
        ReviewCase.objects.select_related(
            "assignee", "district", "indicator", "story", "question", "question__survey", "comment"
        )
        .filter(pk=case_id)
        .first()
    )
    if case is None or case.assignee is None or not case.assignee.email:
        return False
    with translation.override(settings.LANGUAGE_CODE):
        context = {"case": case, "url": _absolute(case.get_absolute_url())}
        subject = render_to_string("review/email/assigned_subject.txt", context).strip()
        body = render_to_string("review/email/assigned_body.txt", context)
    send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [case.assignee.email])
    return True


def planner_digests_send() -> int:
    """One digest per planner with new feedback in the last 24 h, or cases overdue or due within a day."""
    now = timezone.now()
    today = timezone.localdate(now)
    sent = 0
    for profile in planner_profiles_with_email():
        user = profile.user
        if DigestLog.objects.filter(user=user, digest_date=today).exists():
            continue
        scope = case_scope_for_user(user)
        new_cases = scope.filter(created_at__gte=now - DIGEST_WINDOW)
        count = new_cases.count()
        # What is overdue or due within a day matters even on a day without new feedback.
        due = case_due_counts(scope)
        if count == 0 and not (due["overdue"] or due["due_soon"]):
            continue
        listed = list(
            new_cases.select_related(
                "district",
                "indicator",
                "story",
                "question",
                "question__survey",
                "comment",
                "survey_answer",
                "rating",
            ).order_by("-received_at")[:DIGEST_MAX_LISTED]
        )
        with translation.override(settings.LANGUAGE_CODE):
            context = {
                "profile": profile,
                "count": count,
                "due": due,
                "cases": listed,
                "more": count - len(listed),
                "queue_url": _absolute(reverse("review:queue")),
                "site_url": settings.SITE_URL.rstrip("/"),
            }
            subject = render_to_string("review/email/digest_subject.txt", context).strip()
            body = render_to_string("review/email/digest_body.txt", context)
        try:
            with transaction.atomic():
                DigestLog.objects.create(user=user, digest_date=today, case_count=count)
                # Sent inside the transaction: if the mail server refuses, no log
                # row remains and the next run tries again.
                send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
        except IntegrityError:
            # Another run sent today's digest to this planner meanwhile.
            continue
        sent += 1
    return sent
