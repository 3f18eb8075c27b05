from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from feedback.loaders import survey_load, survey_read
from feedback.models import Survey


class Command(BaseCommand):
    help = (
        "Load (or update) a satisfaction survey and its questions from a YAML file. "
        "Idempotent: a second run with the same file changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="e.g. feedback/data/survey_2023.yaml")
        parser.add_argument(
            "--new-only",
            action="store_true",
            help="Load only when the survey is not in the database yet (start-up scripts): "
            "a deploy never overwrites what staff edited in the admin.",
        )

    def handle(self, *args, path: Path, new_only: bool, **options) -> None:
        try:
            data = survey_read(path)
            if new_only and Survey.objects.filter(edition__year=data["edition"], slug=data["slug"]).exists():
                self.stdout.write(f"Survey {data['slug']} is loaded already; {path} not applied.")
                return
            result = survey_load(data=data)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(
            self.style.SUCCESS(f"{path}: {result.questions} questions, {result.changed} rows written.")
        )
