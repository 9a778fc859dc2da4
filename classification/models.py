"""Model versions, their predictions, reviewers' decisions and background jobs."""

import uuid

import numpy as np
from django.conf import settings
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce


class ModelVersion(models.Model):
    """One trained classifier: an artifact in storage plus what describes it."""

    class Status(models.TextChoices):
        READY = "ready", "Ready"
        # Runs beside the active version on new uploads without acting.
        SHADOW = "shadow", "Shadow (compared, not acting)"
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
    serving = models.JSONField(
        default=dict,
        blank=True,
        help_text="The runtime that serves this version, its exported file and "
        "checksum, and how the export compared with PyTorch; or why PyTorch serves it.",
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
            ),
            models.UniqueConstraint(
                fields=["status"],
                condition=Q(status="shadow"),
                name="one_shadow_model_version",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ReviewReason(models.TextChoices):
    """Why a photo waits for a person (Prediction.review_reason).

    Stored when the photo is sent to review; the words a person reads are
    derived from it (classification.selectors.review_reason_text).
    """

    LOW_CONFIDENCE = "low_confidence", "Below the category's threshold"
    FAILED = "failed", "Classification failed"
    DISAGREEMENT = "disagreement", "Disagrees with the merchant's category"
    OUTLIER = "outlier", "Not like the product's other photos"
    AUDIT = "audit", "Audit sample"


class Prediction(models.Model):
    """What one model version said about one image."""

    class Status(models.TextChoices):
        AUTO_ACCEPTED = "auto_accepted", "Accepted automatically"
        NEEDS_REVIEW = "needs_review", "Waiting for review"
        ACCEPTED = "accepted", "Accepted by a reviewer"
        CORRECTED = "corrected", "Corrected by a reviewer"
        FAILED = "failed", "Failed"
        UNUSABLE = "unusable", "Unusable photo (a reviewer's decision)"
        # A shadow version's prediction: never current, never acts.
        SHADOW = "shadow", "Shadow (did not act)"

    # A version's prediction of these is replaced when it classifies the image
    # as the active version: a failure, or what it said in shadow.
    NOT_DONE = (Status.FAILED, Status.SHADOW)

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
    # Why it waits for review; empty when it does not.
    review_reason = models.CharField(
        max_length=32, choices=ReviewReason.choices, blank=True, default=""
    )
    error = models.TextField(blank=True)
    is_current = models.BooleanField(
        default=True, help_text="The image's latest prediction."
    )
    audit = models.BooleanField(
        default=False,
        help_text="Accepted automatically, then drawn at random for a reviewer "
        "to check: measures the precision of automatic decisions.",
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
            # The review queue in its order (most uncertain first, a failure
            # before any margin): pages and counts read this small index only.
            # Coalesce rather than NULLS FIRST, which SQLite indexes do not take.
            models.Index(
                Coalesce("margin", Value(-1.0)),
                F("created_at"),
                F("id"),
                condition=Q(is_current=True, status__in=["needs_review", "failed"]),
                name="prediction_review_queue",
            ),
            # The staff dashboard reads a period of predictions from the index
            # alone (index-only scans on PostgreSQL): by date, by status and
            # date, and the failures (no confidence). See dashboard/selectors/.
            models.Index(
                fields=[
                    "created_at",
                    "status",
                    "confidence",
                    "latency_ms",
                    "category",
                    "model_version",
                    "image",
                ],
                name="prediction_dashboard_period",
            ),
            models.Index(
                fields=[
                    "status",
                    "created_at",
                    "is_current",
                    "confidence",
                    "category",
                    "model_version",
                    "image",
                    "id",
                ],
                name="prediction_dashboard_status",
            ),
            models.Index(
                fields=["created_at", "id"],
                condition=Q(confidence__isnull=True),
                name="prediction_dashboard_failed",
            ),
        ]

    def __str__(self) -> str:
        return f"Prediction {self.pk} for image {self.image_id}"

    @property
    def embedding_vector(self) -> np.ndarray | None:
        if self.embedding is None:
            return None
        return np.frombuffer(bytes(self.embedding), dtype=np.float32)


class DecisionManager(models.Manager):
    """Reviews that stand: an undone decision is history only (Review.all_objects)."""

    def get_queryset(self):
        return super().get_queryset().filter(undone_at__isnull=True)


class HistoryManager(models.Manager):
    """Every review, undone decisions included."""


class Review(models.Model):
    """A reviewer's decision on a prediction; an accept or a correction becomes
    the photo's training label.

    ``before`` and ``after`` hold the product's state around the decision (its
    category and who set it, its photos' statuses and their current
    predictions' statuses and reasons), so that undoing restores ``before``
    exactly, and only while the product is still as the decision left it.
    """

    class Decision(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        CORRECTED = "corrected", "Corrected"
        SKIPPED = "skipped", "Skipped"
        UNUSABLE = "unusable", "Unusable photo"

    class UnusableReason(models.TextChoices):
        NOT_A_PRODUCT = "not_a_product", "Not a product"
        SEVERAL_PRODUCTS = "several_products", "Several products"
        TOO_BLURRY = "too_blurry", "Too blurry"
        WRONG_PHOTO = "wrong_photo", "Wrong photo"

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
    # The product's category just before this decision, so the merchant can be
    # told what a reviewer changed.
    previous_category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(blank=True)
    unusable_reason = models.CharField(
        max_length=32, choices=UnusableReason.choices, blank=True
    )
    # The reviewer chose the product's category explicitly with this decision
    # (otherwise the decision labels the photo only).
    sets_product_category = models.BooleanField(default=False)
    # The decisions made together (one bulk action); a single decision has its
    # own. Null for decisions made before batches were recorded.
    batch = models.UUIDField(default=uuid.uuid4, null=True, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DecisionManager()
    all_objects = HistoryManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        base_manager_name = "all_objects"
        indexes = [
            models.Index(fields=["reviewer", "-created_at"], name="review_history"),
            models.Index(fields=["created_at"]),
            models.Index(fields=["decision", "created_at"]),
            models.Index(fields=["reviewer", "decision"]),
            # The staff dashboard: decisions by day, and each correction's
            # category, from the index alone.
            models.Index(
                fields=["created_at", "decision", "prediction", "final_category"],
                name="review_dashboard_period",
            ),
            models.Index(
                fields=["prediction", "final_category"],
                condition=Q(decision="corrected"),
                name="review_dashboard_corrections",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_decision_display()} by {self.reviewer} on {self.prediction_id}"
        )


class ReviewItem(Prediction):
    """A prediction as the review queue shows it (the admin's queue and its rights).

    A proxy, so the Reviewers group can be given the right to work the queue
    (``view_reviewitem``, ``change_reviewitem``) and nothing else.
    """

    class Meta:
        proxy = True
        verbose_name = "review item"
        verbose_name_plural = "review queue"


class NearDuplicate(models.Model):
    """A photo that is the same picture as, or very close to, an earlier one.

    Both photos belong to the same merchant and to different products; found after
    classification by perceptual hash or by embedding similarity.
    """

    class Method(models.TextChoices):
        PHASH = "phash", "Same picture"
        EMBEDDING = "embedding", "Very similar picture"

    image = models.ForeignKey(
        "catalog.ProductImage", on_delete=models.CASCADE, related_name="near_duplicates"
    )
    duplicate_of = models.ForeignKey(
        "catalog.ProductImage", on_delete=models.CASCADE, related_name="+"
    )
    method = models.CharField(max_length=16, choices=Method.choices)
    # Hamming distance of the hashes, or cosine similarity of the embeddings.
    score = models.FloatField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["image", "duplicate_of"], name="one_near_duplicate_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"Image {self.image_id} is like image {self.duplicate_of_id}"


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


class ClassificationRequest(models.Model):
    """A classification still owed to an image: the outbox the dispatcher reads.

    Written in the transaction that stores the photo, so that an upload that
    committed always leaves its intent behind, whatever the broker's state; the
    dispatcher (on commit, and the periodic upkeep) hands it to the broker, and
    the task removes it once the image has an outcome. A transient failure keeps
    it, due again later; see classification.services.dispatch.
    """

    image = models.OneToOneField(
        "catalog.ProductImage",
        on_delete=models.CASCADE,
        related_name="classification_request",
    )
    dispatches = models.PositiveIntegerField(
        default=0, help_text="Times handed to the broker."
    )
    due_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]

    def __str__(self) -> str:
        return f"classification of image {self.image_id} ({self.dispatches})"


class WorkerHeartbeat(models.Model):
    """When a worker last ran the periodic upkeep: health's sign of life."""

    hostname = models.CharField(max_length=255, unique=True)
    seen_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.hostname} at {self.seen_at:%Y-%m-%d %H:%M:%S}"
