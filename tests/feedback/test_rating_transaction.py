"""A new resident's rating is one statement; a transaction around it only when a receiver writes.

A rating of 3–5 opens no review case, so nothing but the statement writes: it runs in
autocommit (atomic by itself: the resident and the rating are both stored or neither),
without BEGIN and COMMIT, and its aggregates are marked and queued for a refresh once it
has committed. A rating of 1–2 opens its case in the same transaction as the rating, so
when anything after the statement fails, nothing is left: no resident, no rating, no
case, no refresh queued. On the real PostgreSQL and Redis, committed data (transactional
tests: no test transaction around the request).
"""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import hooks
from feedback.aggregates import PENDING_PREFIX, aggregate_key
from feedback.models import AggregateScope, Rating, Resident
from review.models import ReviewCase
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import api_rate

pytestmark = pytest.mark.django_db(transaction=True)


class ReceiverFailed(Exception):
    pass


def _fail(**_kwargs) -> None:
    raise ReceiverFailed


def _refresh_marked(indicator) -> bool:
    return cache.get(PENDING_PREFIX + aggregate_key(AggregateScope.INDICATOR, indicator.pk)) is not None


def test_a_new_residents_rating_of_3_to_5_is_one_statement_and_queues_its_refresh(indicator):
    with CaptureQueriesContext(connection) as captured:
        response = api_rate(new_resident_client(), indicator, 4)
    assert response.status_code == 201
    # The statement alone (prepared on the connection's first rating, then only run): no
    # BEGIN, no COMMIT, no savepoint.
    assert [query["sql"].split(maxsplit=1)[0] for query in captured] in (["PREPARE"], ["EXECUTE"])
    rating = Rating.objects.get()
    assert rating.score == 4 and rating.resident == Resident.objects.get()
    assert response.json()["id"] == rating.pk
    assert not ReviewCase.objects.exists()
    # Queued after the statement committed (on_commit outside a transaction runs at once).
    assert _refresh_marked(indicator)


def test_a_new_residents_low_rating_opens_its_case_in_the_ratings_transaction(indicator):
    with CaptureQueriesContext(connection) as captured:
        response = api_rate(new_resident_client(), indicator, 2)
    assert response.status_code == 201
    sql = [query["sql"] for query in captured]
    assert sql[0] == "BEGIN" and sql[-1] == "COMMIT"
    assert ReviewCase.objects.get().rating == Rating.objects.get()
    assert _refresh_marked(indicator)


def test_a_failure_after_a_low_ratings_statement_leaves_nothing(indicator, monkeypatch):
    # After the review app's receiver (which opens the case), one that fails.
    receivers = [*hooks._receivers["feedback_stored"], _fail]
    monkeypatch.setitem(hooks._receivers, "feedback_stored", receivers)
    with pytest.raises(ReceiverFailed):
        api_rate(new_resident_client(), indicator, 1)
    assert not Resident.objects.exists()
    assert not Rating.objects.exists()
    assert not ReviewCase.objects.exists()
    assert not _refresh_marked(indicator)


def test_a_receiver_that_does_not_say_when_it_acts_gets_the_transaction(indicator, monkeypatch):
    # Registered without ``acts``: it may write for any rating, so even a 4 is one
    # transaction with it, and its failure leaves nothing.
    receivers = [*hooks._receivers["feedback_stored"], _fail]
    monkeypatch.setitem(hooks._receivers, "feedback_stored", receivers)
    assert hooks.acting("feedback_stored", rating=Rating(score=4))
    with pytest.raises(ReceiverFailed):
        api_rate(new_resident_client(), indicator, 4)
    assert not Resident.objects.exists()
    assert not Rating.objects.exists()
    assert not _refresh_marked(indicator)


def test_the_review_receiver_acts_on_low_ratings_only():
    assert hooks.acting("feedback_stored", rating=Rating(score=2))
    assert not hooks.acting("feedback_stored", rating=Rating(score=3))


def test_the_new_residents_row_is_what_the_orm_writes(indicator, districts):
    response = api_rate(new_resident_client(), indicator, 4, district=districts[0].pk)
    assert response.status_code == 201
    by_statement = Resident.objects.get()
    by_orm = Resident.objects.create(key_hash="x" * 64, district=districts[0])
    by_orm.refresh_from_db()
    columns = [f.attname for f in Resident._meta.concrete_fields if f.attname not in ("id", "key_hash")]
    assert {c: getattr(by_statement, c) for c in columns if c != "created_at"} == {
        c: getattr(by_orm, c) for c in columns if c != "created_at"
    }
    assert by_statement.created_at <= Rating.objects.get().created_at <= by_orm.created_at
    assert len(by_statement.key_hash) == 64


def test_a_new_residents_rating_is_prepared_once_per_connection(indicator, story):
    # PostgreSQL plans the statement once per connection (indicators.compiled), in the round
    # trip of the connection's first new resident's rating; later ones only run it.
    connection.close()
    with CaptureQueriesContext(connection) as captured:
        responses = [api_rate(new_resident_client(), it, 4) for it in (indicator, indicator, story, story)]
    assert [response.status_code for response in responses] == [201] * 4
    sent = [query["sql"] for query in captured]
    assert [sql.split(maxsplit=1)[0] for sql in sent] == ["PREPARE", "EXECUTE", "PREPARE", "EXECUTE"]
    assert "INSERT INTO" in sent[0] and "INSERT" not in sent[1]
    assert Rating.objects.filter(indicator=indicator, score=4).count() == 2
    assert Rating.objects.filter(story=story, score=4).count() == 2
    assert Resident.objects.count() == 4


@pytest.mark.parametrize("target_id", [2**63, 10**30])
def test_a_target_id_beyond_the_prepared_statements_bigint_is_the_plain_answer(indicator, target_id):
    # The prepared statement's id is a bigint; a larger one runs the plain SQL, which finds no
    # such target: the same 400 as any unknown target, nothing stored.
    unknown = api_rate(new_resident_client(), indicator, 4, target_id=indicator.pk + 10_000)
    response = api_rate(new_resident_client(), indicator, 4, target_id=target_id)
    assert (response.status_code, response.json()) == (unknown.status_code, unknown.json())
    assert not Rating.objects.exists() and not Resident.objects.exists()
