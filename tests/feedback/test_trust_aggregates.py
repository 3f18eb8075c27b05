"""Scores residents can trust: what counts, who counts, and the verified tier.

Ratings and answers go in through the real services; what only a person may
decide (holding, discarding, a verified number) is set on the rows directly,
since those paths are tested where they live. Aggregates are computed by the
real refresh and reconciliation, and the assertions read what a visitor or an
integrator reads: the pages and the aggregate API. Every expected figure is
worked out by hand in the comment beside it.
"""

from collections import defaultdict

import pytest
from django.utils import timezone

from feedback.aggregates import aggregates_reconcile, aggregates_refresh
from feedback.aggregation import aggregate_key
from feedback.models import Rating, Resident, ScoreAggregate, SurveyAnswer, SurveyResponse, TrustState
from feedback.residents import resident_key_hash
from feedback.submissions import AnswerInput, rating_submit, survey_response_submit
from indicators.models import Chapter, District, Indicator, Story
from tests.factories import ChapterFactory, DistrictFactory, IndicatorFactory

pytestmark = pytest.mark.django_db

MINIMUM = 3
WITHHELD = {"mean": None, "ci_low": None, "ci_high": None, "distribution": None}
SHOWN_ONLY_AT_THE_MINIMUM = ['class="score__value"', "95% 区间：", 'class="dist"']


@pytest.fixture(autouse=True)
def _minimum(settings) -> None:
    settings.AGGREGATE_MIN_COUNT = MINIMUM


def _rate(target, scores, *, who: str, district=None) -> list[str]:
    """Each score from its own resident (``who``-0, ``who``-1, …); their key hashes."""
    keys = []
    for i, score in enumerate(scores):
        key = resident_key_hash(f"{who}-{i}")
        rating_submit(resident_key_hash=key, target=target, score=score, district=district)
        keys.append(key)
    return keys


def _rate_as(key: str, target, score: int, district=None) -> None:
    rating_submit(resident_key_hash=key, target=target, score=score, district=district)


def _answer(survey, scores, *, who: str, district=None) -> str:
    """One resident's response: ``scores`` in question order."""
    key = resident_key_hash(who)
    answers = [AnswerInput(q.pk, s) for q, s in zip(survey.questions.order_by("order"), scores, strict=True)]
    survey_response_submit(resident_key_hash=key, survey=survey, answers=answers, district=district)
    return key


def _trust(keys, trust: str) -> None:
    Rating.objects.filter(resident__key_hash__in=keys).update(trust=trust)


def _verify(keys) -> None:
    Resident.objects.filter(key_hash__in=keys).update(verified_at=timezone.now())


def _score(client, path: str, *, verified: bool = False) -> dict:
    response = client.get(f"/api/v1/aggregates/{path}/" + ("?verified=true" if verified else ""))
    assert response.status_code == 200, (path, response.content)
    return response.json()["score"]


def _figures(score: dict) -> dict:
    return {key: score[key] for key in WITHHELD}


def _page(client, obj) -> str:
    response = client.get(obj.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- What counts -------------------------------------------------------------------------


def test_held_and_discarded_ratings_are_stored_but_not_counted(client, indicator):
    district = DistrictFactory()
    keys = _rate(indicator, [5, 4, 4, 3, 2, 1, 1, 1], who="r", district=district)
    _trust(keys[5:7], TrustState.HELD)
    _trust(keys[7:], TrustState.DISCARDED)
    aggregates_reconcile()

    assert Rating.objects.filter(indicator=indicator).count() == 8  # none lost
    # Counted: 5, 4, 4, 3, 2: total 18, mean 3.6; squares 70, s² = (70 − 18²/5) / 4 = 1.3,
    # half = 1.96 · √(1.3 / 5) = 0.9994 → 2.601 and 4.599.
    score = _score(client, f"indicators/{indicator.pk}")
    assert (score["count"], score["raters"], score["held_count"]) == (5, 5, 2)
    assert _figures(score) == {
        "mean": "3.600",
        "ci_low": "2.601",
        "ci_high": "4.599",
        "distribution": [0, 1, 1, 2, 1],
    }
    assert score["by_district"] == {
        str(district.pk): {"count": 5, "mean": 3.6, "distribution": [0, 1, 1, 2, 1]}
    }
    for path in (f"chapters/{indicator.chapter_id}", f"districts/{district.pk}"):
        wider = _score(client, path)
        assert (wider["count"], wider["held_count"], wider["mean"]) == (5, 2, "3.600"), path

    html = _page(client, indicator)
    assert "3.60" in html and "共 5 人评价" in html
    assert "另有 2 条评分待核实" in html


def test_held_ratings_show_below_the_minimum_and_reveal_no_score(client, indicator, story):
    keys = _rate(indicator, [2, 5, 4, 1], who="few")
    _trust(keys[1:], TrustState.HELD)
    held_only = _rate(story, [1, 3], who="held-only")
    _trust(held_only, TrustState.HELD)
    aggregates_reconcile()

    score = _score(client, f"indicators/{indicator.pk}")
    assert (score["count"], score["held_count"], _figures(score)) == (1, 3, WITHHELD)
    html = _page(client, indicator)
    assert "评价人数不足" in html and "共 1 人评价" in html and "另有 3 条评分待核实" in html
    for marker in SHOWN_ONLY_AT_THE_MINIMUM:
        assert marker not in html, marker

    # An item with held ratings only still says so.
    score = _score(client, f"stories/{story.pk}")
    assert (score["count"], score["raters"], score["held_count"], score["mean"]) == (0, 0, 2, None)
    assert "另有 2 条评分待核实" in _page(client, story)

    # Discarded by a person: nothing left to count or to wait for.
    _trust(held_only, TrustState.DISCARDED)
    aggregates_refresh(keys=[aggregate_key("story", story.pk)])
    assert _score(client, f"stories/{story.pk}")["held_count"] == 0
    assert "待核实" not in _page(client, story)


# --- Who counts: people, not rows --------------------------------------------------------


def test_the_threshold_counts_people_in_a_chapter_and_a_district(client, chapter, indicator, story):
    second = IndicatorFactory(chapter=chapter)
    district = DistrictFactory()
    a, b, c = (resident_key_hash(name) for name in "abc")
    _rate_as(a, indicator, 1, district)
    _rate_as(a, second, 2, district)
    _rate_as(a, story, 3, district)
    _rate_as(b, indicator, 4, district)
    aggregates_reconcile()

    # Four ratings from two people: below a minimum of three people.
    for path in (f"chapters/{chapter.pk}", f"districts/{district.pk}"):
        score = _score(client, path)
        assert (score["count"], score["raters"], _figures(score)) == (4, 2, WITHHELD), path
        assert score["by_district"] == {str(district.pk): {"count": 4, "mean": None, "distribution": None}}
    html = _page(client, chapter)
    assert "评价人数不足" in html and "共 2 人评价" in html

    _rate_as(c, second, 5, district)
    aggregates_refresh(keys=[aggregate_key("chapter", chapter.pk), aggregate_key("district", district.pk)])

    # 1, 2, 3, 4, 5 from three people: mean 3, interval 3 ± 1.96·√(2.5 / 3) = 1.211–4.789 (s² = 2.5):
    # three people's opinions, not five independent ones (√(2.5 / 5) drew 1.614–4.386).
    shown = {"mean": "3.000", "ci_low": "1.211", "ci_high": "4.789", "distribution": [1, 1, 1, 1, 1]}
    for path in (f"chapters/{chapter.pk}", f"districts/{district.pk}"):
        score = _score(client, path)
        assert (score["count"], score["raters"], _figures(score)) == (5, 3, shown), path
        assert score["by_district"] == {
            str(district.pk): {"count": 5, "mean": 3.0, "distribution": [1, 1, 1, 1, 1]}
        }
    html = _page(client, chapter)
    assert "共 3 人评价" in html and "3.00" in html


def test_a_survey_counts_respondents_not_answers(client, survey):
    district, other = DistrictFactory(), DistrictFactory()
    _answer(survey, [1, 2, 3], who="a", district=district)
    _answer(survey, [3, 4, 5], who="b")
    aggregates_reconcile()

    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    # Six answers from two people.
    assert (data["score"]["count"], data["score"]["raters"], _figures(data["score"])) == (6, 2, WITHHELD)
    assert {(q["score"]["count"], q["score"]["raters"]) for q in data["questions"]} == {(2, 2)}

    c = _answer(survey, [2, 3, 4], who="c", district=other)
    aggregates_reconcile()
    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    # 1, 2, 3, 3, 4, 5, 2, 3, 4: total 27 over 9 answers, mean 3; three people (two districts, one none).
    score = data["score"]
    assert (score["count"], score["raters"], score["mean"]) == (9, 3, "3.000")
    assert score["distribution"] == [1, 2, 3, 2, 1]
    # The first question: 1, 3, 2.
    first = data["questions"][0]["score"]
    assert (first["raters"], first["mean"], first["distribution"]) == (3, "2.000", [1, 1, 1, 0, 0])

    SurveyResponse.objects.filter(resident__key_hash=c).update(trust=TrustState.HELD)
    aggregates_reconcile()
    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    assert (data["score"]["raters"], data["score"]["held_count"], data["score"]["mean"]) == (2, 3, None)
    assert {q["score"]["held_count"] for q in data["questions"]} == {1}
    assert SurveyAnswer.objects.filter(response__resident__key_hash=c).count() == 3


# --- The verified tier ---------------------------------------------------------------------


def test_verified_share_and_verified_only_figures_of_an_item(client, indicator):
    keys = _rate(indicator, [5, 4, 4, 3, 2, 1, 2, 5], who="v")
    _verify(keys[:4])
    held = _rate(indicator, [1], who="v-held")
    _verify(held)
    _trust(held, TrustState.HELD)  # held: in no tier
    aggregates_reconcile()

    score = _score(client, f"indicators/{indicator.pk}")
    assert (score["count"], score["verified_count"], score["verified_raters"]) == (8, 4, 4)
    assert (score["verified_share"], score["verified_only"], score["held_count"]) == (0.5, False, 1)
    # All eight: 5, 4, 4, 3, 2, 1, 2, 5 → 26 / 8 = 3.25.
    assert score["mean"] == "3.250"

    verified = _score(client, f"indicators/{indicator.pk}", verified=True)
    # Verified: 5, 4, 4, 3 → 16 / 4 = 4; squares 66, s² = (66 − 64) / 3 = 0.6667,
    # half = 1.96 · √(0.6667 / 4) = 0.8002 → 3.200 and 4.800.
    assert (verified["count"], verified["raters"], verified["verified_only"]) == (4, 4, True)
    assert _figures(verified) == {
        "mean": "4.000",
        "ci_low": "3.200",
        "ci_high": "4.800",
        "distribution": [0, 0, 1, 2, 1],
    }
    assert verified["by_district"] == {}
    assert (verified["verified_share"], verified["held_count"]) == (0.5, 1)

    html = _page(client, indicator)
    assert "共 8 人评价" in html and "其中实名验证 4 人" in html


def test_verified_only_figures_hide_when_the_others_are_too_few(client, indicator):
    keys = _rate(indicator, [5, 4, 4, 3, 2, 1, 2, 5], who="w")
    _verify(keys[:6])
    aggregates_reconcile()

    # Six verified people, but the whole minus them would be the two others' scores (2 and 5).
    assert _score(client, f"indicators/{indicator.pk}")["distribution"] == [1, 2, 1, 2, 2]
    verified = _score(client, f"indicators/{indicator.pk}", verified=True)
    assert (verified["raters"], _figures(verified)) == (6, WITHHELD)

    _verify(keys)
    aggregates_reconcile()
    verified = _score(client, f"indicators/{indicator.pk}", verified=True)
    assert (verified["raters"], verified["mean"], verified["distribution"]) == (8, "3.250", [1, 2, 1, 2, 2])
    assert verified["verified_share"] == 1.0


def test_verified_only_figures_of_a_chapter_count_verified_people(client, chapter, indicator, story):
    second = IndicatorFactory(chapter=chapter)
    district = DistrictFactory()
    v = resident_key_hash("verified")
    for target, score in ((indicator, 5), (second, 4), (story, 3)):
        _rate_as(v, target, score, district)
    _verify([v])
    _rate(indicator, [1, 2, 3], who="plain", district=district)
    aggregates_reconcile()

    # Six ratings from four people; three of the ratings, and one of the people, verified.
    score = _score(client, f"chapters/{chapter.pk}")
    assert (score["count"], score["raters"], score["verified_count"], score["verified_raters"]) == (
        6,
        4,
        3,
        1,
    )
    assert score["verified_share"] == 0.5
    assert score["mean"] == "3.000"  # 5 + 4 + 3 + 1 + 2 + 3 = 18 over 6
    verified = _score(client, f"chapters/{chapter.pk}", verified=True)
    assert (verified["count"], verified["raters"], _figures(verified)) == (3, 1, WITHHELD)
    district_verified = _score(client, f"districts/{district.pk}", verified=True)
    assert (district_verified["raters"], _figures(district_verified)) == (1, WITHHELD)
    assert "其中实名验证 1 人" in _page(client, chapter)


def test_verified_only_figures_of_a_survey_and_its_questions(client, survey):
    keys = [
        _answer(survey, scores, who=f"s{i}") for i, scores in enumerate([[5, 4, 3], [4, 4, 4], [3, 2, 1]])
    ]
    keys += [
        _answer(survey, scores, who=f"t{i}") for i, scores in enumerate([[1, 1, 1], [2, 2, 2], [1, 5, 1]])
    ]
    _verify(keys[:3])
    aggregates_reconcile()

    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/?verified=true").json()
    # Verified answers: 5, 4, 3, 4, 4, 4, 3, 2, 1 → 30 / 9 = 3.333 from three people.
    assert (data["score"]["count"], data["score"]["raters"], data["score"]["mean"]) == (9, 3, "3.333")
    assert data["score"]["distribution"] == [1, 1, 2, 4, 1]
    # First question, verified: 5, 4, 3 → 4.
    first = data["questions"][0]["score"]
    assert (first["raters"], first["mean"], first["distribution"]) == (3, "4.000", [0, 0, 1, 1, 1])
    assert first["verified_share"] == 0.5


def test_the_aggregate_endpoints_make_as_many_queries_with_verified(
    client, indicator, story, survey, django_assert_num_queries
):
    district = DistrictFactory()
    keys = _rate(indicator, [1, 2, 3, 4], who="q", district=district)
    _rate(story, [5, 4, 3], who="q-story", district=district)
    _answer(survey, [1, 2, 3], who="q-survey")
    _verify(keys[:2])
    aggregates_reconcile()

    # Each endpoint reads the object it is about (the district list: the districts) and the
    # stored aggregates, an indicator's, story's or chapter's in one round trip; the survey
    # reads its questions too. ?verified=true adds nothing.
    expected = {
        f"/api/v1/aggregates/indicators/{indicator.pk}/": 1,
        f"/api/v1/aggregates/stories/{story.pk}/": 1,
        f"/api/v1/aggregates/chapters/{indicator.chapter_id}/": 1,
        f"/api/v1/aggregates/surveys/{survey.pk}/": 4,
        "/api/v1/aggregates/districts/": 2,
        f"/api/v1/aggregates/districts/{district.pk}/": 2,
    }
    for url, queries in expected.items():
        for query in ("", "?verified=true", "?verified=false"):
            with django_assert_num_queries(queries):
                response = client.get(url + query)
            assert response.status_code == 200, url + query


def test_a_bad_verified_parameter_is_a_400(client, indicator):
    response = client.get(f"/api/v1/aggregates/indicators/{indicator.pk}/?verified=perhaps")
    assert response.status_code == 400
    assert "verified" in response.json()


def test_the_schema_documents_the_verified_parameter_and_the_new_figures(openapi_schema):
    schema = openapi_schema
    operations = {
        operation["operationId"]: operation
        for path in schema["paths"].values()
        for operation in path.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id in (
        "aggregate_indicator",
        "aggregate_story",
        "aggregate_chapter",
        "aggregate_survey",
        "aggregate_district_list",
        "aggregate_district",
    ):
        [verified] = [p for p in operations[operation_id]["parameters"] if p["name"] == "verified"]
        assert (verified["in"], verified["schema"]["type"]) == ("query", "boolean"), operation_id
        assert "verified" in verified["description"]
    properties = schema["components"]["schemas"]["ScoreSummary"]["properties"]
    for name in ("raters", "held_count", "verified_count", "verified_raters", "verified_only"):
        assert name in properties, name
    assert properties["verified_share"]["nullable"] is True


# --- Refresh and reconciliation agree with each other and with the rows -------------------------


def _stored() -> dict[tuple[str, int], dict]:
    fields = [
        "count",
        "total",
        "mean",
        "ci_low",
        "ci_high",
        "distribution",
        "by_district",
        "raters",
        "held_count",
        "verified_count",
        "verified_raters",
        "verified_distribution",
    ]
    return {(a.scope, a.object_id): {f: getattr(a, f) for f in fields} for a in ScoreAggregate.objects.all()}


def _people_truth() -> dict[tuple[str, int], tuple]:
    """(scope, id) → (rows, raters, held, verified rows, verified raters, district → raters),
    from the raw rows in Python, by another route than the grouped queries."""
    found: dict[tuple[str, int], dict] = defaultdict(
        lambda: {"rows": 0, "people": set(), "held": 0, "vrows": 0, "vpeople": set(), "districts": {}}
    )

    def add(key, trust, resident, verified, district):
        entry = found[key]
        if trust == TrustState.HELD:
            entry["held"] += 1
        if trust != TrustState.COUNTED:
            return
        entry["rows"] += 1
        entry["people"].add(resident)
        if verified:
            entry["vrows"] += 1
            entry["vpeople"].add(resident)
        if district is not None:
            entry["districts"].setdefault(district, set()).add(resident)

    for r in Rating.objects.select_related("indicator", "story", "resident"):
        verified = r.resident.verified_at is not None
        item = ("indicator", r.indicator_id) if r.indicator_id else ("story", r.story_id)
        chapter = r.indicator.chapter_id if r.indicator_id else r.story.chapter_id
        args = (r.trust, r.resident_id, verified, r.district_id)
        add(item, *args)
        add(("chapter", chapter), *args)
        if r.district_id:
            add(("district", r.district_id), *args)
    for a in SurveyAnswer.objects.select_related("response__resident", "question"):
        response = a.response
        args = (
            response.trust,
            response.resident_id,
            response.resident.verified_at is not None,
            response.district_id,
        )
        add(("question", a.question_id), *args)
        add(("survey", a.question.survey_id), *args)
    return {
        key: (
            e["rows"],
            len(e["people"]),
            e["held"],
            e["vrows"],
            len(e["vpeople"]),
            {str(d): len(p) for d, p in e["districts"].items()},
        )
        for key, e in found.items()
        if e["rows"] or e["held"]
    }


def _every_key() -> list[str]:
    objects = [
        ("indicator", Indicator),
        ("story", Story),
        ("chapter", Chapter),
        ("district", District),
    ]
    keys = [
        aggregate_key(scope, pk)
        for scope, model in objects
        for pk in model.objects.values_list("pk", flat=True)
    ]
    for question_id, survey_id in SurveyAnswer.objects.values_list("question_id", "question__survey_id"):
        keys += [aggregate_key("question", question_id), aggregate_key("survey", survey_id)]
    return keys


def test_refresh_and_reconciliation_agree_after_mixed_changes(chapter, indicator, story, survey):
    second = IndicatorFactory(chapter=chapter)
    one, two = DistrictFactory(), DistrictFactory()
    plain = _rate(indicator, [1, 2, 3, 4, 5, 3], who="m", district=one)
    _rate(second, [2, 2, 4], who="m", district=one)  # the same residents m-0…m-2, another item
    story_keys = _rate(story, [5, 1, 4, 4], who="n", district=two)
    responses = [_answer(survey, s, who=f"m-{i}", district=one) for i, s in enumerate([[1, 2, 3], [4, 5, 1]])]
    aggregates_reconcile()

    # Mixed changes, none of them queueing a refresh of its own here.
    _verify([plain[0], plain[1], story_keys[0]])
    _trust([plain[2]], TrustState.HELD)
    _trust([plain[3]], TrustState.DISCARDED)
    _trust(story_keys[1:2], TrustState.HELD)
    SurveyResponse.objects.filter(resident__key_hash=responses[1]).update(trust=TrustState.HELD)
    # m-0 moves to district two and rates the story: their chapter ratings now carry two districts.
    _rate_as(plain[0], story, 2, two)
    _rate_as(resident_key_hash("late"), second, 5)  # names no district
    Resident.objects.filter(key_hash=plain[5]).delete()

    aggregates_refresh(keys=_every_key())
    refreshed = _stored()
    written = aggregates_reconcile()
    reconciled = _stored()

    assert refreshed == reconciled
    assert sum(written.values()) == len(reconciled)
    truth = _people_truth()
    assert set(reconciled) == set(truth)
    for key, stored in reconciled.items():
        by_district = {d: entry["raters"] for d, entry in stored["by_district"].items()}
        figures = (
            stored["count"],
            stored["raters"],
            stored["held_count"],
            stored["verified_count"],
            stored["verified_raters"],
            by_district,
        )
        assert figures == truth[key], key
    # The chapter counts m-0 (three items, two districts), m-1 (two), m-4, "late", and
    # n-0, n-2, n-3 (the story): 10 ratings from 7 people; m-2 and n-1 are held, m-3
    # discarded, m-5 deleted.
    chapter_figures = reconciled[("chapter", chapter.pk)]
    assert (chapter_figures["count"], chapter_figures["raters"], chapter_figures["held_count"]) == (10, 7, 3)


def test_a_chapter_refresh_counts_its_own_items_ratings_only(chapter, indicator, story):
    # A chapter's refresh reads its items' ratings by the items' ids (the ratings' indexes):
    # the ratings of another chapter's items, and of items moved away, are not its own.
    other = IndicatorFactory(chapter=ChapterFactory(edition=chapter.edition))
    for n, (target, score) in enumerate([(indicator, 5), (story, 3), (other, 1), (other, 1)]):
        _rate_as(resident_key_hash(f"chapter-{n}"), target, score)
    key = aggregate_key("chapter", chapter.pk)
    aggregates_refresh(keys=[key, aggregate_key("chapter", other.chapter_id)])
    mine = ScoreAggregate.objects.get(scope="chapter", object_id=chapter.pk)
    assert (mine.count, mine.distribution) == (2, [0, 0, 1, 0, 1])
    assert ScoreAggregate.objects.get(scope="chapter", object_id=other.chapter_id).count == 2

    # Only stories left in the chapter, then nothing: the same figures as a reconciliation.
    Indicator.objects.filter(pk=indicator.pk).update(chapter=other.chapter)
    aggregates_refresh(keys=[key])
    assert ScoreAggregate.objects.get(scope="chapter", object_id=chapter.pk).count == 1
    Story.objects.filter(pk=story.pk).update(chapter=other.chapter)
    aggregates_refresh(keys=[key])
    mine = ScoreAggregate.objects.filter(scope="chapter", object_id=chapter.pk)
    refreshed = list(mine.values_list("count", flat=True))
    aggregates_reconcile()
    assert refreshed == list(mine.values_list("count", flat=True)) == []
