from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Membership, Merchant, User
from accounts.services import merchant_create
from classification.services.versions import model_version_ensure_default

DEMO_MERCHANT = "Demo Shop"
DEMO_USERNAME = "demo"
DEMO_PASSWORD = "vitrine-demo"  # local use only: refused outside local mode
DEMO_STAFF = "staff"


class Command(BaseCommand):
    help = (
        "Create (or reset) the local demo merchant and a staff account, and print "
        "their logins. Runs only in local mode (DJANGO_DEBUG=true), as `make run` does."
    )

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo is for local use only: run it with DJANGO_DEBUG=true."
            )
        user = User.objects.filter(username=DEMO_USERNAME).first()
        if user is None:
            merchant_create(
                name=DEMO_MERCHANT,
                username=DEMO_USERNAME,
                email="demo@example.com",
                password=DEMO_PASSWORD,
            )
        else:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            if not Membership.objects.filter(user=user).exists():
                merchant, _ = Merchant.objects.get_or_create(
                    slug="demo-shop", defaults={"name": DEMO_MERCHANT}
                )
                Membership.objects.create(
                    user=user, merchant=merchant, role=Membership.Role.OWNER
                )
        staff, _ = User.objects.get_or_create(
            username=DEMO_STAFF, defaults={"is_staff": True, "is_superuser": True}
        )
        staff.set_password(DEMO_PASSWORD)
        staff.save(update_fields=["password"])

        version = model_version_ensure_default()
        self.stdout.write(
            self.style.SUCCESS(
                "\nLocal demo logins (for this machine only):\n"
                f"  merchant  {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                f"  staff     {DEMO_STAFF} / {DEMO_PASSWORD}   (admin at /admin/)\n"
                f"Active model version: {version.name}\n"
            )
        )
