"""Make a model version the active one."""

from django.core.management.base import BaseCommand, CommandError

from classification.management.commands.evaluate_model import version_from_option
from classification.services.versions import (
    ActivationNeedsConfirm,
    model_version_activate_confirmed,
)


class Command(BaseCommand):
    help = (
        "Activate a model version (by id or name); workers switch on their next "
        "task. When its comparison with the active version warns (a category in "
        "use it cannot predict, a lower accuracy, little agreement in shadow), "
        "refuse unless --confirm."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="version id or name")
        parser.add_argument(
            "--confirm",
            action="store_true",
            help="activate even when the comparison with the active version warns",
        )

    def handle(self, *args, **options):
        try:
            version = model_version_activate_confirmed(
                version=version_from_option(options["version"]),
                confirm=options["confirm"],
            )
        except ActivationNeedsConfirm as error:
            raise CommandError(f"{error.message} (--confirm)") from error
        self.stdout.write(f"{version.name} (id {version.pk}) is active.")
