import getpass
import sys

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import MerchantError, merchant_create


class Command(BaseCommand):
    help = "Create a merchant with its first user (the owner)."

    def add_arguments(self, parser):
        parser.add_argument("name", help="The merchant's display name.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--email", required=True)
        parser.add_argument(
            "--password", help="The owner's password; asked for when omitted."
        )

    def handle(self, *args, name, username, email, password, **options):
        if password is None:
            if not sys.stdin.isatty():
                raise CommandError("Give --password, or run in a terminal to type one.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords did not match.")
        try:
            validate_password(password)
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from error
        try:
            merchant, user = merchant_create(
                name=name, username=username, email=email, password=password
            )
        except MerchantError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Created merchant {merchant.name!r} (id {merchant.pk}) "
                f"with owner {user.username!r}."
            )
        )
