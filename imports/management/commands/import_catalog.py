"""Import a catalog file (a ZIP of photos with a CSV, or a CSV of photo URLs)
for a merchant, as the page and the API do; print the job's counts as JSON."""

import json
import sys
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Merchant, User
from config.errors import VitrineError
from imports import services
from imports.api.serializers import ImportJobSerializer
from imports.selectors import import_report_csv


class Command(BaseCommand):
    help = (
        "Import products and photos from a ZIP (photos with one CSV) or a CSV whose "
        "image column holds URLs. Runs here unless --queue; re-running creates "
        "nothing twice."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the ZIP or CSV file")
        parser.add_argument("--merchant", required=True, help="merchant slug or id")
        parser.add_argument(
            "--user", help="username recorded as the photos' uploader (optional)"
        )
        parser.add_argument(
            "--queue",
            action="store_true",
            help="hand the job to the worker and return at once",
        )
        parser.add_argument(
            "--report", help="also write the report of failed rows to this CSV file"
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        merchant = _merchant(options["merchant"])
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"No user {options['user']!r}.")
        try:
            with path.open("rb") as stream:
                job = services.import_job_create(
                    merchant=merchant, user=user, file=File(stream, name=path.name)
                )
            if not options["queue"]:
                job = services.import_job_run(job_id=job.pk, progress=self._progress)
        except VitrineError as error:
            raise CommandError(f"{path.name}: {error.message}") from error
        if options["report"]:
            Path(options["report"]).write_text(import_report_csv(job=job))
        summary = dict(ImportJobSerializer(job).data)
        summary.pop("report_url")
        self.stdout.write(json.dumps(summary, default=str))

    def _progress(self, job) -> None:
        sys.stderr.write(f"\r{job.rows_done}/{job.rows_total} rows")
        if job.finished:
            sys.stderr.write("\n")


def _merchant(value: str) -> Merchant:
    merchant = Merchant.objects.filter(slug=value).first()
    if merchant is None and value.isdigit():
        merchant = Merchant.objects.filter(pk=int(value)).first()
    if merchant is None:
        raise CommandError(f"No merchant {value!r} (give its slug or id).")
    return merchant
