from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from indicators.services import report_load, report_read


class Command(BaseCommand):
    help = (
        "Load (or update) a report edition from its data file. Idempotent: a second run "
        "with the same file changes nothing; publication status set by staff is kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="e.g. indicators/data/report_2023.yaml")

    def handle(self, *args, path: Path, **options) -> None:
        try:
            result = report_load(data=report_read(path))
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"{path}: {result.changed} rows written."))
        self.stdout.write(result.summary())
