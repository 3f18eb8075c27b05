"""E-mails to planners: the assignment notice and the daily digest (Celery)."""

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.celery import app
from review import services
from review.models import DigestLog, ReviewCase
from review.tasks import case_assigned_notify, planner_digest_send
from tests.factories import DistrictFactory
from tests.review.helpers import login, make_planner, submit_comment, submit_rating


@pytest.fixture
def file_mail_worker(monkeypatch, tmp_path, start_worker):
    """A real Celery worker whose e-mails land as files in a directory we can read."""
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    monkeypatch.setenv("EMAIL_FILE_PATH", str(mail_dir))
    start_worker()
    return mail_dir


def _wait_for(predicate, timeout: float = 30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the worker")


def _mails(mail_dir: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(mail_dir.glob("*.log")))


# --- Assignment --------------------------------------------------------------------


@pytest.mark.django_db
def test_assignment_queues_the_notice_after_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.case_assign(user=world.planner_a, case=world.case_a, assignee=world.colleague_a)
    assert len(callbacks) == 1
    assert mail.outbox == []  # nothing is sent inside the transaction


@pytest.mark.django_db
def test_assignment_notice_content(world):
    services.case_assign(user=world.planner_a, case=world.case_a, assignee=world.colleague_a)
    assert case_assigned_notify(world.case_a.pk) is True
    [message] = mail.outbox
    assert message.to == ["colleague_a@example.org"]
    assert f"#{world.case_a.pk}" in message.subject and "指派" in message.subject
    assert "胡同里的共享单车太多了" in message.body
    assert f"/review/cases/{world.case_a.pk}/" in message.body
    # Gone cases and assignees without e-mail are skipped quietly.
    assert case_assigned_notify(999999) is False


@pytest.mark.django_db(transaction=True)
def test_assignment_through_the_workspace_mails_the_assignee_via_the_worker(world, file_mail_worker):
    client = login(Client(), world.planner_a)
    response = client.post(
        reverse("review:case_assign", args=[world.case_a.pk]), {"assignee": world.colleague_a.pk}
    )
    assert response.status_code == 302
    text = _wait_for(lambda: _mails(file_mail_worker))
    assert "To: colleague_a@example.org" in text
    assert f"/review/cases/{world.case_a.pk}/" in text


# --- Daily digest ------------------------------------------------------------------------


@pytest.fixture
def digest_world(world):
    submit_rating(world.indicator, 1, district=world.district_a)
    old = submit_comment(world.story_a, "上周的留言")[1]
    ReviewCase.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=30))
    make_planner("no_email", districts=[world.district_a], email="")
    make_planner("quiet", districts=[DistrictFactory(name="延庆区")])  # nothing new there
    return world


@pytest.mark.django_db
def test_digest_content_in_process(digest_world):
    world = digest_world
    assert planner_digest_send() == 3
    by_recipient = {message.to[0]: message for message in mail.outbox}
    assert set(by_recipient) == {"planner_a@example.org", "colleague_a@example.org", "planner_b@example.org"}
    message_a = by_recipient["planner_a@example.org"]
    assert "2 条新反馈" in message_a.subject
    assert "胡同里的共享单车太多了" in message_a.body
    assert "背街小巷环境整治" in message_a.body and "评分 1" in message_a.body
    assert "上周的留言" not in message_a.body  # older than 24 h
    assert "口袋公园" not in message_a.body  # another area
    assert f"/review/cases/{world.case_a.pk}/" in message_a.body
    assert "1 条新反馈" in by_recipient["planner_b@example.org"].subject
    assert DigestLog.objects.count() == 3
    # Running it again the same day sends nothing twice.
    assert planner_digest_send() == 0
    assert len(mail.outbox) == 3


@pytest.mark.django_db(transaction=True)
def test_digest_runs_through_a_real_worker(digest_world, file_mail_worker):

    app.send_task("review.tasks.planner_digest_send")  # as celery beat sends it
    _wait_for(lambda: DigestLog.objects.count() == 3)
    logs = dict(DigestLog.objects.values_list("user__username", "case_count"))
    assert logs == {"planner_a": 2, "colleague_a": 2, "planner_b": 1}
    text = _wait_for(lambda: _mails(file_mail_worker).count("To: ") == 3 and _mails(file_mail_worker))
    assert "To: planner_a@example.org" in text and "胡同里的共享单车太多了" in text


def test_the_beat_schedule_names_the_digest_task_daily_at_eight():

    entry = settings.CELERY_BEAT_SCHEDULE["planner-daily-digest"]
    assert entry["task"] == planner_digest_send.name == "review.tasks.planner_digest_send"
    assert entry["schedule"].hour == {8} and entry["schedule"].minute == {0}
