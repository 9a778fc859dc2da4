"""Activate again the version that was active before the current one."""

from django.core.management.base import BaseCommand, CommandError

from classification.services.versions import NothingToRollBack, model_version_rollback


class Command(BaseCommand):
    help = "Roll back to the previously active model version."

    def handle(self, *args, **options):
        try:
            version = model_version_rollback(user=None)
        except NothingToRollBack as error:
            raise CommandError(str(error)) from error
        self.stdout.write(f"Rolled back: {version.name} (id {version.pk}) is active.")
