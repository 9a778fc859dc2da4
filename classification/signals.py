"""What classification announces, for the apps above it to act on.

Webhooks stand above classification (they read classification's selectors to
build their payloads), so classification cannot call them without a circle.
It sends these signals instead, synchronously and inside the transaction that
wrote the change, and webhooks connects its receivers when it is installed
(webhooks.receivers): an event's deliveries are then written in that same
transaction, so they exist exactly when their cause was committed.

A signal fits here because telling the outside world is a side effect that
classification's own flow neither waits for nor reads back. The main flow
(classify what was uploaded, reassess after a category change) is an explicit
call, classification.services.intake.
"""

from django.dispatch import Signal

# A prediction was stored (not a failure). Sent with ``prediction``: the
# Prediction, with its image, category and model version loaded.
image_classified = Signal()

# Reviewers decided predictions (accepted or corrected; skips are not sent).
# Sent with ``reviews``: the Review rows, one per decision.
images_reviewed = Signal()
