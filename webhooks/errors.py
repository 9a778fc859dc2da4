"""The webhooks app's errors, shared by its services, deliveries and address checks."""

from config.errors import InvalidInput


class WebhookError(InvalidInput):
    """A webhook could not be written as asked."""


class DeliveryFailed(Exception):
    """A delivery attempt failed; ``permanent`` ones are not worth retrying."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
