"""What one rating costs the database: a fixed number of queries, fewer for a new resident.

Each query is named below; a change to either number must say which query it
added or saved. (In a test the transaction is a savepoint of the test's own.)
"""

import pytest

from feedback.models import Rating, Resident
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import api_rate

pytestmark = pytest.mark.django_db


def test_a_new_residents_rating_costs_one_statement(indicator, django_assert_num_queries):
    # One statement that checks the target (public, with its edition), inserts the
    # resident (its id was made in this request: no lookup) and inserts the rating (no
    # earlier rating to look up, nothing to hold). A 3–5 score opens no review case, and
    # the review app's hook does not look for one, so no transaction is opened around the
    # statement (tests/feedback/test_rating_transaction.py: a low score's is).
    with django_assert_num_queries(1):
        response = api_rate(new_resident_client(), indicator, 4)
    assert response.status_code == 201
    assert Rating.objects.get().resident == Resident.objects.get()


def test_a_returning_residents_rating_costs_six_queries(indicator, story, django_assert_num_queries):
    client = new_resident_client()
    assert api_rate(client, story, 3).status_code == 201
    # The target (public, with its edition); the transaction (2); the resident, looked up
    # (get_or_create: one SELECT); their earlier rating of the item (the district it
    # counted in); the rating, one upsert. A counted rating would be held again if the
    # source were held (not here: no query).
    with django_assert_num_queries(6):
        response = api_rate(client, indicator, 4)
    assert response.status_code == 201
    assert Resident.objects.count() == 1
    assert Rating.objects.count() == 2
