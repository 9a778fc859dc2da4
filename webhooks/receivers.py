"""Webhook events for what classification announces (classification.signals).

Connected once, when the app registry is ready (webhooks.apps); each receiver
writes the event's deliveries in the sender's transaction.
"""

from django.dispatch import receiver

from classification.signals import image_classified, images_reviewed
from webhooks import services


@receiver(image_classified, dispatch_uid="webhooks.classified")
def image_classified_emit(sender, *, prediction, **kwargs) -> None:
    services.image_classified(prediction=prediction)


@receiver(images_reviewed, dispatch_uid="webhooks.reviewed")
def images_reviewed_emit(sender, *, reviews, **kwargs) -> None:
    services.images_reviewed(reviews=reviews)
