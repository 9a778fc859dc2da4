"""Writes for model versions: register, activate, and load for inference.

With ``predictions``, the only code that joins the plain-PyTorch package
``classification.ml`` to the ORM and storage. Torch is imported lazily so web
processes stay light.
"""

import hashlib

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Category
from classification.models import ModelVersion

DEFAULT_VERSION_NAME = "imagenet-taxonomy-v1"


def model_version_register(
    *,
    name: str,
    artifact: dict,
    metrics: dict | None = None,
    training: dict | None = None,
    created_by=None,
) -> ModelVersion:
    """Store an artifact (written once, under its checksum) and record a version."""
    from classification.ml.inference import artifact_to_bytes

    data = artifact_to_bytes(artifact)
    checksum = hashlib.sha256(data).hexdigest()
    key = f"models/{checksum}.pt"
    if not default_storage.exists(key):
        default_storage.save(key, ContentFile(data))
    return ModelVersion.objects.create(
        name=name,
        architecture=artifact["architecture"],
        classes=list(artifact["classes"]),
        artifact=key,
        checksum=checksum,
        preprocessing=artifact["preprocessing"],
        metrics=metrics or {},
        training=training or {},
        created_by=created_by,
    )


@transaction.atomic
def model_version_activate(*, version: ModelVersion) -> ModelVersion:
    """Make ``version`` the only active one; workers switch on their next task."""
    ModelVersion.objects.select_for_update().filter(
        status=ModelVersion.Status.ACTIVE
    ).exclude(pk=version.pk).update(status=ModelVersion.Status.RETIRED)
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    return version


def model_version_ensure_default() -> ModelVersion:
    """Return the active version, registering the ImageNet-mapped one if none is.

    The default version maps the pretrained backbone's ImageNet classes onto the
    default taxonomy, so a new install sorts real photos before any training.
    """
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active:
        return active
    from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES
    from classification.ml.inference import default_artifact

    existing = set(Category.objects.values_list("slug", flat=True))
    slugs = [slug for slug in TAXONOMY_IMAGENET_CLASSES if slug in existing]
    version = ModelVersion.objects.filter(name=DEFAULT_VERSION_NAME).first()
    try:
        with transaction.atomic():
            if version is None:
                version = model_version_register(
                    name=DEFAULT_VERSION_NAME,
                    artifact=default_artifact(slugs),
                    training={"source": "ImageNet-1k classes mapped onto the taxonomy"},
                )
            return model_version_activate(version=version)
    except IntegrityError:
        # Another process registered or activated one at the same moment.
        return ModelVersion.objects.get(status=ModelVersion.Status.ACTIVE)


def classifier_for(version: ModelVersion):
    """Return the loaded classifier of ``version``, cached once per process."""
    from classification.ml.registry import get_classifier

    def load() -> bytes:
        with default_storage.open(version.artifact.name, "rb") as artifact:
            return artifact.read()

    return get_classifier(str(version.pk), load, version.checksum)
