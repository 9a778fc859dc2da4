from django.conf import settings
from django.core.management.base import BaseCommand

from classification.services.dispatch import images_requeue_stuck


class Command(BaseCommand):
    help = (
        "Queue again the images left waiting or being classified for too long "
        "(for example after a worker host was lost). Safe to run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.VITRINE_STUCK_AFTER_SECONDS,
            metavar="SECONDS",
            help="Only images whose status has not changed for this long "
            "(default: VITRINE_STUCK_AFTER_SECONDS, %(default)s).",
        )

    def handle(self, *args, older_than, **options):
        if older_than < 0:
            self.stderr.write("--older-than must be zero or more seconds.")
            raise SystemExit(2)
        count = images_requeue_stuck(older_than_seconds=older_than)
        self.stdout.write(f"Queued {count} photo{'s' if count != 1 else ''} again.")
