"""No individual score leaks: below ``AGGREGATE_MIN_COUNT`` only the count shows.

Ratings and answers go in as residents send them (the HTTP API, one fresh
browser each), the aggregates are refreshed by the real service, and the
assertions read what a visitor reads: the item, chapter and survey pages and
the aggregate API.
"""

import dataclasses
from decimal import Decimal

import pytest

from feedback.aggregates import aggregates_reconcile
from feedback.residents import resident_key_hash
from feedback.selectors import ScoreSummary
from feedback.submissions import rating_submit
from tests.factories import DistrictFactory, IndicatorFactory
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_SURVEY, api_post, api_rate, kind_of

pytestmark = pytest.mark.django_db

MINIMUM = 5
WITHHELD = {"mean": None, "ci_low": None, "ci_high": None, "distribution": None}
# What the score block shows only from the minimum up: the mean, the interval, the distribution.
SHOWN_ONLY_AT_THE_MINIMUM = [
    'class="score__value"',
    "95% 区间：",
    'class="dist"',
    "评分分布",
    'class="dist__fill"',
]


@pytest.fixture(autouse=True)
def _minimum(settings) -> None:
    settings.AGGREGATE_MIN_COUNT = MINIMUM


def _rate(target, scores, district=None) -> None:
    """Each score from a new resident's browser, then the aggregates refreshed."""
    extra = {"district": district.pk} if district else {}
    for score in scores:
        response = api_rate(new_resident_client(), target, score, **extra)
        assert response.status_code == 201, response.content
    aggregates_reconcile()


def _answer(survey, scores) -> None:
    """One response per score (the same score to every question), each from a new browser."""
    questions = list(survey.questions.all())
    for score in scores:
        answers = [{"question": q.pk, "score": score} for q in questions]
        response = api_post(new_resident_client(), API_SURVEY, {"survey": survey.pk, "answers": answers})
        assert response.status_code == 201, response.content
    aggregates_reconcile()


def _score(client, path: str) -> dict:
    response = client.get(f"/api/v1/aggregates/{path}/")
    assert response.status_code == 200, path
    return response.json()["score"]


def _item_path(target) -> str:
    collection = {"indicator": "indicators", "story": "stories"}[kind_of(target)]
    return f"{collection}/{target.pk}"


def _results_table(page: str) -> str:
    """The rows of the survey page's results table."""
    start = page.index("<tbody>", page.index('id="results-title"'))
    return page[start : page.index("</tbody>", start)]


def _withheld(score: dict) -> dict:
    return {key: score[key] for key in WITHHELD}


@pytest.mark.parametrize("scores", [[2], [1, 2, 4, 5]], ids=["one", "four"])
@pytest.mark.parametrize("kind", ["indicator", "story"])
def test_below_the_minimum_an_item_shows_only_its_count(client, indicator, story, scores, kind):
    target = indicator if kind == "indicator" else story
    district = DistrictFactory()
    _rate(target, scores, district=district)
    n = len(scores)

    html = client.get(target.get_absolute_url()).content.decode()
    assert "评价人数不足" in html
    assert f"共 {n} 人评价" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker not in html, marker

    score = _score(client, _item_path(target))
    assert score["count"] == n
    assert _withheld(score) == WITHHELD
    assert score["by_district"] == {str(district.pk): {"count": n, "mean": None, "distribution": None}}

    [row] = [r for r in client.get("/api/v1/aggregates/districts/").json() if r["district"] == district.pk]
    assert row["score"]["count"] == n
    assert _withheld(row["score"]) == WITHHELD
    assert _withheld(_score(client, f"districts/{district.pk}")) == WITHHELD


def test_at_the_minimum_everything_appears(client, indicator):
    district = DistrictFactory()
    _rate(indicator, [1, 2, 3, 4, 5], district=district)

    html = client.get(indicator.get_absolute_url()).content.decode()
    assert "评价人数不足" not in html
    assert "共 5 人评价" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker in html, marker
    assert "3.00" in html and "95% 区间：1.61–4.39" in html and "20.0%" in html

    score = _score(client, f"indicators/{indicator.pk}")
    assert _withheld(score) == {
        "mean": "3.000",
        "ci_low": "1.614",
        "ci_high": "4.386",
        "distribution": [1, 1, 1, 1, 1],
    }
    assert score["by_district"] == {
        str(district.pk): {"count": 5, "mean": 3.0, "distribution": [1, 1, 1, 1, 1]}
    }
    district_score = _score(client, f"districts/{district.pk}")
    assert (district_score["mean"], district_score["distribution"]) == ("3.000", [1, 1, 1, 1, 1])


def test_a_district_below_the_minimum_shows_only_its_count(client, indicator):
    big, middle, small = (DistrictFactory() for _ in range(3))
    _rate(indicator, [1, 2, 3, 4, 5, 5], district=big)
    _rate(indicator, [1, 2, 2, 4, 4], district=middle)
    _rate(indicator, [3], district=small)

    score = _score(client, f"indicators/{indicator.pk}")
    assert score["count"] == 12 and score["distribution"] == [2, 3, 2, 3, 2]
    by_district = score["by_district"]
    assert by_district[str(big.pk)] == {"count": 6, "mean": 3.333, "distribution": [1, 1, 1, 1, 2]}
    assert by_district[str(small.pk)] == {"count": 1, "mean": None, "distribution": None}
    # The total minus the two larger districts would be the small district's one score:
    # the smaller of the two is withheld as well.
    assert by_district[str(middle.pk)] == {"count": 5, "mean": None, "distribution": None}

    listing = {row["district"]: row["score"] for row in client.get("/api/v1/aggregates/districts/").json()}
    assert listing[big.pk]["distribution"] == [1, 1, 1, 1, 2]
    assert listing[middle.pk]["distribution"] == [1, 2, 0, 2, 0]  # the district's own total is 5
    assert (listing[small.pk]["count"], _withheld(listing[small.pk])) == (1, WITHHELD)
    assert _withheld(_score(client, f"districts/{small.pk}")) == WITHHELD


def test_raters_who_name_no_district_are_not_given_away_by_subtraction(client, indicator):
    district = DistrictFactory()
    _rate(indicator, [1, 2, 3, 4, 5], district=district)
    _rate(indicator, [2])

    score = _score(client, f"indicators/{indicator.pk}")
    assert (score["count"], score["distribution"]) == (6, [1, 2, 1, 1, 1])
    assert score["by_district"] == {str(district.pk): {"count": 5, "mean": None, "distribution": None}}

    _rate(indicator, [4, 3, 4, 5])
    score = _score(client, f"indicators/{indicator.pk}")
    assert score["by_district"][str(district.pk)]["distribution"] == [1, 1, 1, 1, 1]


def test_the_chapter_score_below_and_at_the_minimum(client, indicator, story):
    chapter = indicator.chapter
    _rate(indicator, [1, 2, 3])
    _rate(story, [4])

    html = client.get(chapter.get_absolute_url()).content.decode()
    assert "本章市民满意度" in html and "评价人数不足" in html and "共 4 人评价" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker not in html, marker
    score = _score(client, f"chapters/{chapter.pk}")
    assert (score["count"], _withheld(score)) == (4, WITHHELD)

    _rate(story, [5])
    html = client.get(chapter.get_absolute_url()).content.decode()
    assert "共 5 人评价" in html and "3.00" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker in html, marker
    score = _score(client, f"chapters/{chapter.pk}")
    assert (score["mean"], score["distribution"]) == ("3.000", [1, 1, 1, 1, 1])


def test_survey_question_results_below_and_at_the_minimum(client, survey):
    _answer(survey, [1, 2, 4, 5])

    page = client.get(f"/survey/{survey.pk}/").content.decode()
    results = _results_table(page)
    assert results.count("评价人数不足") == 3
    assert "3.00" not in results
    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    for question in data["questions"]:
        assert (question["score"]["count"], _withheld(question["score"])) == (4, WITHHELD)

    _answer(survey, [3])
    page = client.get(f"/survey/{survey.pk}/").content.decode()
    results = _results_table(page)
    assert "评价人数不足" not in results
    assert results.count("3.00") == 3
    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    for question in data["questions"]:
        assert (question["score"]["mean"], question["score"]["distribution"]) == ("3.000", [1, 1, 1, 1, 1])


def test_a_summary_is_withheld_when_built_and_cannot_be_filled_in_later():
    summary = ScoreSummary(
        count=1,
        mean=Decimal(2),
        ci_low=Decimal(2),
        ci_high=Decimal(2),
        distribution=[0, 1, 0, 0, 0],
        by_district={"7": {"count": 1, "mean": 2.0, "distribution": [0, 1, 0, 0, 0], "anything": 2}},
        min_count=MINIMUM,
    )
    assert (summary.mean, summary.ci_low, summary.ci_high, summary.distribution) == (None, None, None, None)
    assert summary.bars == []
    assert summary.by_district == {"7": {"count": 1, "mean": None, "distribution": None}}
    with pytest.raises(dataclasses.FrozenInstanceError):
        summary.distribution = [0, 1, 0, 0, 0]


def test_the_schema_says_the_withheld_figures_may_be_null(openapi_schema):
    components = openapi_schema["components"]["schemas"]
    for name in ("mean", "ci_low", "ci_high", "distribution"):
        assert components["ScoreSummary"]["properties"][name]["nullable"] is True, name
    for name in ("mean", "distribution"):
        assert components["DistrictStat"]["properties"][name]["nullable"] is True, name


def test_one_resident_rating_five_items_of_a_chapter_is_not_shown(client, chapter):
    key_hash = resident_key_hash("alone")
    for score in (1, 2, 3, 4, 5):
        rating_submit(resident_key_hash=key_hash, target=IndicatorFactory(chapter=chapter), score=score)
    aggregates_reconcile()
    score = _score(client, f"chapters/{chapter.pk}")
    assert (score["count"], score["raters"]) == (5, 1)
    assert _withheld(score) == WITHHELD
    html = client.get(chapter.get_absolute_url()).content.decode()
    assert "评价人数不足" in html and "共 1 人评价" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker not in html, marker
