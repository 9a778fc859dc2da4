"""Classify the catalog's images again with the active model version."""

import json

from django.core.management.base import BaseCommand
from django.db import transaction

from classification.models import Job
from classification.services.reclassification import reclassify_job_start


class Command(BaseCommand):
    help = (
        "Start a re-classification job with the active version: --unseen (the "
        "default) takes only images it has not classified, --all every image. "
        "With a broker the job runs on the workers; without one, here."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--all", action="store_true", help="every image")
        which.add_argument(
            "--unseen", action="store_true", help="only images it has not seen"
        )

    def handle(self, *args, **options):
        with transaction.atomic():
            job = reclassify_job_start(only_unseen=not options["all"], user=None)
        job = Job.objects.get(pk=job.pk)
        self.stdout.write(f"Job {job.pk}: {job.get_status_display()}. {job.message}")
        self.stdout.write(
            json.dumps({"job_id": job.pk, "status": job.status, **job.result})
        )
