"""``/survey/results/``: each question's mean, interval and count from the stored aggregates,
the threshold said and applied, and the results by district where the minimum allows."""

import re

import pytest
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext

from feedback import aggregates, submissions
from feedback.models import AggregateScope, ScoreAggregate
from feedback.residents import resident_key_hash
from feedback.submissions import AnswerInput
from tests.factories import DistrictFactory

pytestmark = pytest.mark.django_db


def _answer(survey, key: str, scores: list[int], district=None) -> None:
    questions = list(survey.questions.order_by("order"))
    submissions.survey_response_submit(
        resident_key_hash=resident_key_hash(key),
        survey=survey,
        answers=[AnswerInput(question_id=q.pk, score=s) for q, s in zip(questions, scores, strict=True)],
        district=district,
    )


@pytest.fixture
def answered(survey):
    """Six residents of one district answer, two of another, five name none."""
    big, small = (
        DistrictFactory(name="东城区", slug="dongcheng"),
        DistrictFactory(name="西城区", slug="xicheng"),
    )
    for i in range(6):
        _answer(survey, f"big-{i}", [4, 5, 3 + i % 2], district=big)
    for i in range(2):
        _answer(survey, f"small-{i}", [1, 1, 1], district=small)
    for i in range(5):
        _answer(survey, f"nowhere-{i}", [5, 5, 5])
    aggregates.aggregates_reconcile()
    return {"survey": survey, "big": big, "small": small}


def _row(html: str, label: str) -> str:
    start = html.index(label)
    return html[start : html.index("</tr>", start)]


def test_each_question_shows_the_stored_mean_interval_and_count(client, answered, settings):
    survey = answered["survey"]
    response = client.get("/survey/results/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f"不足 {settings.AGGREGATE_MIN_COUNT} 人" in html  # the threshold is said
    for question in survey.questions.all():
        stored = ScoreAggregate.objects.get(scope=AggregateScope.QUESTION, object_id=question.pk)
        row = _row(html, f". {question.dimension}")
        assert f"<td>{floatformat(stored.mean, 2)}</td>" in row  # as the page rounds: half up
        assert f"{floatformat(stored.ci_low, 2)}–{floatformat(stored.ci_high, 2)}" in row
        assert f"<td>{stored.raters}</td>" in row
        assert 'class="ci-strip"' in row
    # (6 × 4 + 2 × 1 + 5 × 5) / 13 = 3.923.
    transport = _row(html, ". 公共交通")
    assert "3.92" in transport and "<td>13</td>" in transport
    by_pk = client.get(f"/survey/{survey.pk}/results/").content.decode()
    assert _row(by_pk, ". 公共交通") == transport


def test_below_the_minimum_only_counts_are_shown(client, survey, settings):
    for i in range(settings.AGGREGATE_MIN_COUNT - 1):
        _answer(survey, f"few-{i}", [2, 3, 4])
    aggregates.aggregates_reconcile()

    html = client.get("/survey/results/").content.decode()

    row = _row(html, ". 公共交通")
    assert "评价人数不足" in row and f"<td>{settings.AGGREGATE_MIN_COUNT - 1}</td>" in row
    assert '<svg class="ci-strip"' not in html
    assert not re.search(r"<td>\d\.\d\d</td>", row)


def test_districts_are_shown_where_the_minimum_allows(client, answered):
    html = client.get("/survey/results/").content.decode()
    table = html[html.index("survey-district-table") :]

    big = _row(table, "东城区")
    assert "4.00" in big and "5.00" in big and "3.50" in big  # six residents: shown
    small = _row(table, "西城区")
    assert "1.00" not in small and "2 人" in small  # two residents: counts only
    # 东城区 is shown because the rest (西城区's two and the five who named no district) is
    # seven people: 东城区's figure subtracted from the total gives no small group away.


def test_a_district_is_withheld_when_subtracting_it_would_give_a_small_group_away(client, survey):
    big, small = (
        DistrictFactory(name="东城区", slug="dongcheng"),
        DistrictFactory(name="西城区", slug="xicheng"),
    )
    for i in range(6):
        _answer(survey, f"big-{i}", [4, 4, 4], district=big)
    for i in range(2):
        _answer(survey, f"small-{i}", [1, 1, 1], district=small)
    aggregates.aggregates_reconcile()

    table = client.get("/survey/results/").content.decode()
    table = table[table.index("survey-district-table") :]

    assert "4.00" not in _row(table, "东城区") and "6 人" in _row(table, "东城区")


def test_no_survey_is_a_404_and_the_page_runs_a_fixed_number_of_queries(client, answered):
    assert client.get("/survey/999999/results/").status_code == 404

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/survey/results/").status_code == 200
        return len(captured)

    before = queries()
    for i in range(10):
        _answer(answered["survey"], f"more-{i}", [3, 3, 3], district=DistrictFactory())
    aggregates.aggregates_reconcile()
    assert queries() == before
