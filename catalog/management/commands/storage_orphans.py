from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.services.orphans import storage_orphans, storage_orphans_remove


class Command(BaseCommand):
    help = (
        "List the stored photos and thumbnails that no image names (left by an "
        "upload that never committed), older than the grace period; --remove "
        "deletes them. Safe to run from cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=settings.VITRINE_ORPHAN_GRACE_SECONDS,
            metavar="SECONDS",
            help="Only objects stored longer ago than this (default: "
            "VITRINE_ORPHAN_GRACE_SECONDS, %(default)s). Uploads write their "
            "object before their row commits: keep it above the longest upload.",
        )
        parser.add_argument(
            "--remove", action="store_true", help="Delete them (default: list)."
        )

    def handle(self, *args, older_than, remove, **options):
        if older_than < 0:
            raise CommandError("--older-than must be zero or more seconds.")
        orphans = storage_orphans(older_than_seconds=older_than)
        for orphan in orphans:
            self.stdout.write(f"{orphan.modified.isoformat()}  {orphan.key}")
        if remove:
            removed = storage_orphans_remove(orphans=orphans)
            self.stdout.write(f"Removed {removed} of {len(orphans)} orphans.")
        else:
            self.stdout.write(f"{len(orphans)} orphans (--remove deletes them).")
