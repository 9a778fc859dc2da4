"""Model versions, their predictions, reviewers' decisions and background jobs."""

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import Q


class ModelVersion(models.Model):
    """One trained classifier: an artifact in storage plus what describes it."""

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        ACTIVE = "active", "Active"
        RETIRED = "retired", "Retired"

    name = models.CharField(max_length=120, unique=True)
    architecture = models.CharField(max_length=64)
    classes = models.JSONField(help_text="Category slugs, in the head's output order.")
    artifact = models.FileField(max_length=255)
    checksum = models.CharField("SHA-256", max_length=64)
    preprocessing = models.JSONField(default=dict)
    metrics = models.JSONField(default=dict, blank=True)
    training = models.JSONField(
        default=dict,
        blank=True,
        help_text="Training data, split, hyper-parameters and training time.",
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.READY
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="active"),
                name="one_active_model_version",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Prediction(models.Model):
    """What one model version said about one image."""

    class Status(models.TextChoices):
        AUTO_ACCEPTED = "auto_accepted", "Accepted automatically"
        NEEDS_REVIEW = "needs_review", "Waiting for review"
        ACCEPTED = "accepted", "Accepted by a reviewer"
        CORRECTED = "corrected", "Corrected by a reviewer"
        FAILED = "failed", "Failed"

    image = models.ForeignKey(
        "catalog.ProductImage", on_delete=models.CASCADE, related_name="predictions"
    )
    model_version = models.ForeignKey(
        ModelVersion, on_delete=models.PROTECT, related_name="predictions"
    )
    category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predictions",
    )
    confidence = models.FloatField(null=True, blank=True)
    # Top-1 minus top-2 probability: small means the model hesitated.
    margin = models.FloatField(null=True, blank=True)
    top_k = models.JSONField(
        default=list, help_text='[{"category": slug, "probability": p}, ...]'
    )
    embedding = models.BinaryField(null=True, blank=True, editable=False)
    latency_ms = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    error = models.TextField(blank=True)
    is_current = models.BooleanField(
        default=True, help_text="The image's latest prediction."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "model_version"], name="one_prediction_per_version"
            ),
            models.UniqueConstraint(
                fields=["image"],
                condition=Q(is_current=True),
                name="one_current_prediction_per_image",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "is_current", "margin"]),
            models.Index(fields=["created_at"]),
            models.Index(fields=["model_version", "category"]),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} for image {self.image_id}"

    @property
    def embedding_vector(self) -> np.ndarray | None:
        if self.embedding is None:
            return None
        return np.frombuffer(bytes(self.embedding), dtype=np.float32)


class Review(models.Model):
    """A reviewer's decision on a prediction; it becomes a training label."""

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        CORRECTED = "corrected", "Corrected"
        SKIPPED = "skipped", "Skipped"

    prediction = models.ForeignKey(
        Prediction, on_delete=models.CASCADE, related_name="reviews"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL
    )
    decision = models.CharField(max_length=16, choices=Decision.choices)
    final_category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.SET_NULL
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return (
            f"{self.get_decision_display()} by {self.reviewer} on {self.prediction_id}"
        )


class Job(models.Model):
    """A background job a person started (training, re-classification)."""

    class Kind(models.TextChoices):
        TRAIN = "train", "Training"
        RECLASSIFY = "reclassify", "Re-classification"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.FloatField(default=0.0, help_text="From 0 to 1.")
    message = models.TextField(blank=True)
    params = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    model_version = models.ForeignKey(
        ModelVersion, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk} ({self.status})"
