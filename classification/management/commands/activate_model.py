"""Make a model version the active one."""

from django.core.management.base import BaseCommand

from classification.management.commands.evaluate_model import version_from_option
from classification.services.versions import model_version_activate


class Command(BaseCommand):
    help = (
        "Activate a model version (by id or name); workers switch on their next task."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="version id or name")

    def handle(self, *args, **options):
        version = model_version_activate(
            version=version_from_option(options["version"])
        )
        self.stdout.write(f"{version.name} (id {version.pk}) is active.")
