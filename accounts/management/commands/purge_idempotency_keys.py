from django.core.management.base import BaseCommand

from accounts.services import idempotency_records_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than 24 hours."

    def handle(self, *args, **options):
        deleted = idempotency_records_purge()
        self.stdout.write(f"Deleted {deleted} idempotency records.")
