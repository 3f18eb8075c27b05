"""Loading the satisfaction survey from its data file (``load_survey``)."""

from dataclasses import dataclass
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from feedback.caching import surveys_changed
from feedback.models import Survey
from indicators.models import Edition, PublishStatus

SURVEY_FIELDS = ("title", "title_en", "intro", "intro_en", "opens_at", "closes_at")
QUESTION_FIELDS = ("order", "dimension_en", "text", "text_en", "allow_comment")


def survey_read(path) -> dict:
    """Parse a survey data file (YAML); errors name the file and the problem."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise ValidationError(f"{path}: {error}", code="unreadable") from error
    survey = (raw or {}).get("survey")
    if not isinstance(survey, dict) or not survey.get("questions"):
        raise ValidationError(f"{path}: a 'survey' with 'questions' is required", code="shape")
    for key in ("edition", "slug", "title", "opens_at", "closes_at"):
        if not survey.get(key):
            raise ValidationError(f"{path}: survey.{key} is required", code="required")
    if not Edition.objects.filter(year=survey["edition"]).exists():
        raise ValidationError(
            f"Edition {survey['edition']} is not loaded yet (manage.py load_report first)", code="no_edition"
        )
    return survey


@dataclass
class SurveyLoadResult:
    created: bool
    changed: int
    questions: int


@transaction.atomic
def survey_load(*, data: dict) -> SurveyLoadResult:
    """Create or update a survey and its questions from parsed data; idempotent.

    Questions are matched by dimension. Publication (status, date) is only
    set when the survey is created, so a staff decision to unpublish stays.
    Questions staff added in the admin are kept.
    """
    edition = Edition.objects.get(year=data["edition"])
    values = {field: data.get(field) or "" for field in SURVEY_FIELDS}
    survey, created = Survey.objects.get_or_create(
        edition=edition,
        slug=data["slug"],
        defaults={
            **values,
            "status": data.get("status", PublishStatus.DRAFT),
            "published_at": data.get("published_at"),
        },
    )
    changed = int(created)
    if not created and any(getattr(survey, f) != values[f] for f in SURVEY_FIELDS):
        for field_name, value in values.items():
            setattr(survey, field_name, value)
        survey.full_clean()
        survey.save()
        changed += 1
    existing = {q.dimension: q for q in survey.questions.all()}
    for order, item in enumerate(data["questions"], start=1):
        wanted = {
            "order": order,
            "dimension_en": item.get("dimension_en", ""),
            "text": item["text"],
            "text_en": item.get("text_en", ""),
            "allow_comment": item.get("allow_comment", True),
        }
        question = existing.get(item["dimension"])
        if question is None:
            survey.questions.create(dimension=item["dimension"], **wanted)
            changed += 1
        elif any(getattr(question, f) != wanted[f] for f in QUESTION_FIELDS):
            for field_name, value in wanted.items():
                setattr(question, field_name, value)
            question.save()
            changed += 1
    if changed:
        surveys_changed()
    return SurveyLoadResult(created=created, changed=changed, questions=len(data["questions"]))
