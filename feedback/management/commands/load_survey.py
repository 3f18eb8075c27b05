from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from feedback.services import survey_load, survey_read


class Command(BaseCommand):
    help = (
        "Load (or update) a satisfaction survey and its questions from a YAML file. "
        "Idempotent: a second run with the same file changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="e.g. feedback/data/survey_2023.yaml")

    def handle(self, *args, path: Path, **options) -> None:
        try:
            result = survey_load(data=survey_read(path))
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{path}: {result.questions} questions, {result.changed} rows written.")
        )
