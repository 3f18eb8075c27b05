"""Nothing lost: a Redis outage and a worker killed mid-task (real Redis, real workers)."""

import psycopg
from django.db import connection

from feedback import aggregates, submissions
from feedback.models import Comment, Rating, ScoreAggregate, SurveyResponse
from feedback.residents import resident_key_hash
from feedback.tasks import aggregates_reconcile
from tests.feedback.conftest import cookie_key_hash, new_resident_client, wait_until
from tests.feedback.helpers import (
    API_COMMENTS,
    API_SURVEY,
    aggregate_of,
    api_post,
    api_rate,
    comment,
    exact_mean,
    rate,
    stored,
    truth,
)


def _survey_form(survey, score: int) -> dict:
    data = {f"question_{q.pk}": score for q in survey.questions.all()}
    data[f"question_{survey.questions.first().pk}_comment"] = "雨后积水严重"
    return data


def test_with_redis_down_submissions_are_stored_and_reconciliation_repairs(
    redis_server, start_worker, indicator, story, survey, districts
):
    worker = start_worker()
    before = new_resident_client()
    rate(before, indicator, 5)
    wait_until(lambda: aggregate_of("indicator", indicator.pk), 30, "aggregate before the outage")
    worker.stop()

    redis_server.stop()
    residents = [new_resident_client() for _ in range(4)]
    assert rate(residents[0], indicator, 1, district=districts[0].pk).status_code == 302
    assert api_rate(residents[1], indicator, 2).status_code == 201
    assert api_rate(residents[1], story, 4).status_code == 201
    assert rate(before, indicator, 3).status_code == 302  # a re-rating during the outage
    assert comment(residents[2], indicator, "排水要加强").status_code == 302
    response = api_post(
        residents[3],
        API_COMMENTS,
        {"target_type": "story", "target_id": story.pk, "body": "公园很好"},
    )
    assert response.status_code == 201
    assert residents[2].post(f"/survey/{survey.pk}/", _survey_form(survey, 4)).status_code == 302
    answers = [{"question": q.pk, "score": 2} for q in survey.questions.all()]
    assert api_post(residents[3], API_SURVEY, {"survey": survey.pk, "answers": answers}).status_code == 201

    assert Rating.objects.count() == 4
    assert Rating.objects.get(indicator=indicator, resident__key_hash=cookie_key_hash(before)).score == 3
    assert Comment.objects.count() == 2
    assert SurveyResponse.objects.count() == 2
    assert stored() != truth()  # the aggregates missed the outage

    redis_server.start()
    start_worker()
    aggregates_reconcile.delay()

    wait_until(lambda: stored() == truth(), 60, "reconciliation to reach the truth")
    item = aggregate_of("indicator", indicator.pk)
    assert (item.count, item.mean) == (3, exact_mean([1, 2, 3]))
    assert aggregate_of("district", districts[0].pk).count == 1
    assert aggregate_of("survey", survey.pk).count == 6


def test_reconciliation_deletes_aggregates_of_items_without_ratings(transactional_db, indicator):
    key_hash = resident_key_hash("only-one")
    submissions.rating_submit(resident_key_hash=key_hash, target=indicator, score=4)
    aggregates.aggregates_reconcile()
    assert aggregate_of("indicator", indicator.pk).count == 1

    Rating.objects.all().delete()
    aggregates.aggregates_reconcile()

    assert not ScoreAggregate.objects.exists()


def _test_database_conninfo() -> str:
    db = connection.settings_dict
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


def _backends_waiting_on_aggregates() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%feedback_scoreaggregate%"],
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_in_the_middle_of_a_refresh_loses_nothing(fast_redelivery, start_worker, indicator):
    scores = [5, 4, 4, 2, 1, 3, 5, 5]
    # Hold the aggregate table so the refresh blocks half-way (after reading the ratings).
    blocker = psycopg.connect(_test_database_conninfo())
    try:
        blocker.execute("LOCK TABLE feedback_scoreaggregate IN SHARE ROW EXCLUSIVE MODE")
        for n, score in enumerate(scores):
            submissions.rating_submit(
                resident_key_hash=resident_key_hash(f"killed-{n}"), target=indicator, score=score
            )
        first = start_worker()
        wait_until(_backends_waiting_on_aggregates, 30, "the refresh to block on the lock")
        first.kill()
        second = start_worker()
    finally:
        blocker.rollback()
        blocker.close()

    aggregate = wait_until(
        lambda: (a := aggregate_of("indicator", indicator.pk)) and a.count == len(scores) and a,
        60,
        "the redelivered refresh",
    )
    assert aggregate.mean == exact_mean(scores)
    assert aggregate.total == sum(scores)
    # The second worker got the killed worker's message back (nothing else queued a refresh).
    assert "aggregates refreshed" in second.log_path.read_text(errors="replace")
    assert "aggregates refreshed" not in first.log_path.read_text(errors="replace")
