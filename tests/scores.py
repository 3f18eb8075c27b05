"""Residents' scores for the tests that need pages above the minimum count, through the real
services (each score from its own resident) and the real reconciliation."""

from django.conf import settings

from feedback import submissions
from feedback.aggregates import aggregates_reconcile
from feedback.models import Survey
from feedback.residents import resident_key_hash
from feedback.submissions import AnswerInput
from indicators.models import District, Indicator, Story


def residents_rate_and_answer(
    *, targets: list[Indicator | Story], survey: Survey, districts: list[District], prefix: str
) -> None:
    """``2 × AGGREGATE_MIN_COUNT + 2`` residents (``<prefix>-<n>``), from each of ``districts``
    in turn, each rating every one of ``targets`` and answering every question of ``survey``
    (scores 1–5 in rotation), then the stored aggregates reconciled: every target, the
    survey and each district above the minimum."""
    questions = list(survey.questions.all())
    for n in range(2 * settings.AGGREGATE_MIN_COUNT + 2):
        resident = resident_key_hash(f"{prefix}-{n}")
        district = districts[n % len(districts)]
        for i, target in enumerate(targets):
            submissions.rating_submit(
                resident_key_hash=resident, target=target, score=1 + (n + i) % 5, district=district
            )
        answers = [AnswerInput(question_id=q.pk, score=1 + (n + i) % 5) for i, q in enumerate(questions)]
        submissions.survey_response_submit(
            resident_key_hash=resident, survey=survey, answers=answers, district=district
        )
    aggregates_reconcile()
