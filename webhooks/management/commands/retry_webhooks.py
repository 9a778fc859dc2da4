from django.core.management.base import BaseCommand, CommandError

from webhooks.deliveries import DeliveryFailed, deliveries_due_claim, delivery_attempt
from webhooks.models import Delivery

# Claimed at a time: few enough that each is attempted well within its lease.
BATCH = 10


class Command(BaseCommand):
    help = (
        "Attempt, in this process, the webhook deliveries whose retry is due (what "
        "beat's retry-webhook-deliveries does). For installs without a broker: "
        "run it from cron, every minute."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit",
            type=int,
            default=1000,
            help="Attempt at most this many deliveries (default %(default)s).",
        )

    def handle(self, *args, limit, **options):
        if limit < 1:
            raise CommandError("--limit must be at least 1.")
        attempted = delivered = 0
        while attempted < limit:
            due = deliveries_due_claim(limit=min(BATCH, limit - attempted))
            if not due:
                break
            for delivery_id, attempts in due:
                attempted += 1
                try:
                    delivery = delivery_attempt(
                        delivery_id=delivery_id, attempts=attempts
                    )
                except DeliveryFailed:
                    continue
                if delivery and delivery.status == Delivery.Status.SUCCEEDED:
                    delivered += 1
        noun = "delivery" if attempted == 1 else "deliveries"
        self.stdout.write(f"{attempted} {noun} attempted: {delivered} delivered.")
