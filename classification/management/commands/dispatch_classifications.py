from django.core.management.base import BaseCommand

from classification.services.dispatch import requests_dispatch


class Command(BaseCommand):
    help = (
        "Queue the classifications owed that are due: new ones the broker "
        "refused, and those sent before that came to no outcome (the upkeep's "
        "dispatcher, for cron when no beat runs)."
    )

    def handle(self, *args, **options):
        outcome = requests_dispatch()
        self.stdout.write(
            f"Queued {outcome.sent}, postponed {outcome.postponed}, "
            f"gave up on {outcome.given_up}."
            + (" The broker did not answer." if outcome.broker_down else "")
        )
        if outcome.broker_down:
            raise SystemExit(3)
