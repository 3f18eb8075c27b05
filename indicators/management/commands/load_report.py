from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from indicators.loader import report_load, report_read
from indicators.models import Edition


class Command(BaseCommand):
    help = (
        "Load (or update) a report edition from its data file. Idempotent: a second run "
        "with the same file changes nothing; publication status set by staff is kept."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path, help="e.g. indicators/data/report_2023.yaml")
        parser.add_argument(
            "--new-only",
            action="store_true",
            help=(
                "Load only when the edition is not in the database yet. Start-up scripts use "
                "this so that a deploy never overwrites what staff edited in the admin."
            ),
        )

    def handle(self, *args, path: Path, new_only: bool, **options) -> None:
        try:
            data = report_read(path)
            year = int(data["edition"]["year"])
            if new_only and Edition.objects.filter(year=year).exists():
                self.stdout.write(f"Edition {year} is loaded already; {path} not applied (--new-only).")
                return
            result = report_load(data=data)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        self.stdout.write(self.style.SUCCESS(f"{path}: {result.changed} rows written."))
        self.stdout.write(result.summary())
