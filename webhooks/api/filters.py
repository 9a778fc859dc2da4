"""Query filters for the webhook list."""

from config.filters import BooleanFilter, StrictFilterSet
from webhooks.models import Webhook


class WebhookFilter(StrictFilterSet):
    active = BooleanFilter()

    class Meta:
        model = Webhook
        fields = ["active"]
