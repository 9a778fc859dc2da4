"""Writes for model versions: register, activate, roll back, and load for
inference. Re-classifying the catalog with a version is ``reclassification``'s.

With ``predictions``, the only code that joins the plain-PyTorch package
``classification.ml`` to the ORM and storage. Torch is imported lazily so web
processes stay light.
"""

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Category
from catalog.services import category_thresholds_set
from classification.models import ModelVersion
from classification.rollout import activation_comparison
from config.errors import Conflict

logger = logging.getLogger(__name__)

DEFAULT_VERSION_NAME = "imagenet-taxonomy-v1"


class NothingToRollBack(Conflict):
    """No version other than the active one was ever active."""


class ActivationNeedsConfirm(Conflict):
    """Activating the version would change things a person should see first."""

    code = "confirmation_required"


def model_version_activate_confirmed(
    *, version: ModelVersion, confirm: bool, user=None
) -> ModelVersion:
    """Activate ``version``, unless its comparison with the active version
    warns and ``confirm`` is false: then raise ActivationNeedsConfirm with the
    comparison (``classification.rollout.activation_comparison``) as details."""
    if not confirm:
        comparison = activation_comparison(version=version)
        if comparison["warnings"]:
            raise ActivationNeedsConfirm(
                " ".join(comparison["warnings"]) + " Confirm to activate anyway.",
                details={"comparison": comparison},
            )
    return model_version_activate(version=version, user=user)


def model_version_register(
    *,
    name: str,
    artifact: dict,
    metrics: dict | None = None,
    training: dict | None = None,
    created_by=None,
    check_photos=None,
) -> ModelVersion:
    """Store an artifact (written once, under its checksum) and record a version.

    The version is exported for serving and checked against PyTorch on
    ``check_photos`` (its validation photos; generated probes without them), see
    :func:`model_version_export`.
    """
    from classification.ml.artifacts import artifact_to_bytes

    data = artifact_to_bytes(artifact)
    checksum = hashlib.sha256(data).hexdigest()
    key = f"models/{checksum}.pt"
    if not default_storage.exists(key):
        default_storage.save(key, ContentFile(data))
    version = ModelVersion.objects.create(
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
    return model_version_export(version=version, artifact=artifact, photos=check_photos)


def model_version_export(
    *, version: ModelVersion, artifact: dict | None = None, photos=None
) -> ModelVersion:
    """Export ``version`` to ONNX, check it against PyTorch, record what serves it.

    The export is stored once under its own checksum; ``version.serving`` names
    the file and the checksum, and keeps the check (top-1 agreement and largest
    probability difference on the photos). A version whose export fails or
    disagrees is served by PyTorch, and ``serving["reason"]`` says why.
    """
    from classification.ml.artifacts import artifact_from_bytes
    from classification.ml.runtime import export_checked, probe_images

    if artifact is None:
        artifact = artifact_from_bytes(
            _stored_read(version.artifact.name), sha256=version.checksum
        )
    photos = list(photos or [])
    model, record = export_checked(
        artifact,
        photos or probe_images(),
        threads=settings.VITRINE_INFERENCE_THREADS,
    )
    record["photos"] = "validation photos" if photos else "generated probe images"
    if model is not None:
        checksum = hashlib.sha256(model).hexdigest()
        key = f"models/{checksum}.onnx"
        if not default_storage.exists(key):
            default_storage.save(key, ContentFile(model))
        record.update(file=key, checksum=checksum)
    else:
        logger.warning("%s is served by PyTorch: %s", version, record["reason"])
    version.serving = record
    version.save(update_fields=["serving"])
    return version


def _stored_read(name: str) -> bytes:
    with default_storage.open(name, "rb") as stored:
        return stored.read()


@transaction.atomic
def model_version_activate(*, version: ModelVersion, user=None) -> ModelVersion:
    """Make ``version`` the only active one; workers switch on their next task.

    Calibrated thresholds travel with the version (see _thresholds_apply).
    Activating the active version changes nothing.
    """
    if (
        ModelVersion.objects.select_for_update()
        .filter(pk=version.pk, status=ModelVersion.Status.ACTIVE)
        .exists()
    ):
        version.refresh_from_db()
        return version
    outgoing = list(
        ModelVersion.objects.select_for_update()
        .filter(status=ModelVersion.Status.ACTIVE)
        .exclude(pk=version.pk)
    )
    ModelVersion.objects.filter(pk__in=[v.pk for v in outgoing]).update(
        status=ModelVersion.Status.RETIRED
    )
    version.status = ModelVersion.Status.ACTIVE
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_at"])
    _thresholds_apply(
        version=version, outgoing=outgoing[0] if outgoing else None, user=user
    )
    return version


def _calibrated_thresholds(version: ModelVersion | None) -> dict[str, float]:
    per_class = ((version.metrics or {}) if version else {}).get("thresholds", {})
    return {
        slug: min(max(float(entry["threshold"]), 0.0), 1.0)
        for slug, entry in per_class.get("per_class", {}).items()
        if isinstance(entry, dict) and entry.get("threshold") is not None
    }


def _thresholds_apply(
    *, version: ModelVersion, outgoing: ModelVersion | None, user=None
) -> None:
    """Set the categories' auto-accept thresholds for the newly active version.

    ``Category.auto_accept_threshold`` is the live value predictions are judged
    by, and staff may edit it. A version trained here carries per-category
    thresholds chosen on its validation split for the target precision
    (``metrics["thresholds"]``): activating it copies them onto its categories
    (with VITRINE_APPLY_CALIBRATED_THRESHOLDS, on by default). The values staff
    had set before any calibrated version took over are kept in the version's
    ``training["replaced_thresholds"]`` and handed from one calibrated version to
    the next; they come back for categories the new version has no calibrated
    value for, and for all of them when a version without calibration (the
    ImageNet default) is activated, so a roll-back restores what staff had set.
    """
    if not settings.VITRINE_APPLY_CALIBRATED_THRESHOLDS:
        return
    calibrated = _calibrated_thresholds(version)
    handed_over = (
        dict((outgoing.training or {}).get("replaced_thresholds", {}))
        if _calibrated_thresholds(outgoing)
        else {}
    )
    if calibrated:
        current = dict(
            Category.objects.filter(slug__in=calibrated).values_list(
                "slug", "auto_accept_threshold"
            )
        )
        baseline = {
            **{s: t for s, t in current.items() if s not in handed_over},
            **handed_over,
        }
        version.training = {**(version.training or {}), "replaced_thresholds": baseline}
        version.save(update_fields=["training"])
        targets = {
            **{s: t for s, t in baseline.items() if s not in calibrated},
            **calibrated,
        }
    else:
        targets = handed_over
    changed = category_thresholds_set(
        thresholds={
            category: targets[category.slug]
            for category in Category.objects.filter(slug__in=targets)
        },
        user=user,
        reason=f"activated model version {version.name}",
    )
    if changed:
        logger.info(
            "%s: auto-accept thresholds set for %s categories", version, len(changed)
        )


def model_version_rollback(*, user=None) -> ModelVersion:
    """Activate again the version that was active before the current one.

    Raise NothingToRollBack when no other version was ever active.
    """
    with transaction.atomic():
        current = (
            ModelVersion.objects.select_for_update()
            .filter(status=ModelVersion.Status.ACTIVE)
            .first()
        )
        previous = (
            ModelVersion.objects.filter(activated_at__isnull=False)
            .exclude(pk=getattr(current, "pk", None))
            .order_by("-activated_at", "-pk")
            .first()
        )
        if previous is None:
            raise NothingToRollBack(
                "No earlier version was active; nothing to roll back to."
            )
        version = model_version_activate(version=previous, user=user)
    logger.info(
        "rolled back from %s to %s (by %s)", current, version, user or "a command"
    )
    return version


def model_version_ensure_default() -> ModelVersion:
    """Return the active version, registering the ImageNet-mapped one if none is.

    The default version maps the pretrained backbone's ImageNet classes onto the
    default taxonomy, so a new install sorts real photos before any training.
    """
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if active:
        return active
    from classification.ml.efficientnet import default_artifact
    from classification.ml.imagenet_map import TAXONOMY_IMAGENET_CLASSES

    existing = set(Category.objects.values_list("slug", flat=True))
    slugs = [slug for slug in TAXONOMY_IMAGENET_CLASSES if slug in existing]
    if not slugs:
        raise ImproperlyConfigured(
            "No category of the default taxonomy exists, so the default model has "
            "nothing to predict: run `manage.py migrate`, or train and activate a "
            "model for your own categories."
        )
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


# While a process loads a model (seconds, once per process and version), the
# product pages say so: through the cache, which web and worker processes share
# when CACHE_URL names one (`make run` gives them a file cache).
MODEL_LOADING_KEY = "classification:model-loading"
MODEL_LOADING_TIMEOUT = 300


@contextmanager
def model_loading(version: ModelVersion) -> Iterator[None]:
    """Say, for the duration of the block, that ``version`` is being loaded."""
    cache.set(MODEL_LOADING_KEY, version.name, timeout=MODEL_LOADING_TIMEOUT)
    try:
        yield
    finally:
        cache.delete(MODEL_LOADING_KEY)


def model_loading_now() -> str | None:
    """The name of the version some process is loading now, if any."""
    return cache.get(MODEL_LOADING_KEY)


def classifier_for(version: ModelVersion):
    """Return the loaded classifier of ``version``, cached once per process.

    It runs in ONNX Runtime when the version's export passed its check, else in
    PyTorch. A version registered before exports existed is exported now, once.
    """
    # Several worker processes on one host must not each take every core: the
    # settings divide this host's CPUs between them.
    import torch

    from classification.ml.registry import get_classifier, loaded_keys
    from classification.ml.runtime import ONNXRUNTIME

    threads = settings.VITRINE_INFERENCE_THREADS
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    if not version.serving:
        version = model_version_export(version=version)
    served = version.serving.get("runtime") == ONNXRUNTIME

    def classifier():
        return get_classifier(
            str(version.pk),
            lambda: _stored_read(version.artifact.name),
            version.checksum,
            load_served=(lambda: _served_read(version)) if served else None,
            served_sha256=version.serving.get("checksum", ""),
            threads=threads,
        )

    if str(version.pk) in loaded_keys():
        return classifier()
    with model_loading(version):
        return classifier()


def _served_read(version: ModelVersion) -> bytes | None:
    """Return the version's verified ONNX export, or None to serve PyTorch.

    A missing or altered file is not served: the version falls back to PyTorch
    and its ``serving`` record says so.
    """
    serving = version.serving
    try:
        data = _stored_read(serving["file"])
    except FileNotFoundError:
        problem = f"the exported file {serving['file']} is missing"
    else:
        if hashlib.sha256(data).hexdigest() == serving["checksum"]:
            return data
        problem = f"the exported file {serving['file']} does not match its checksum"
    reason = f"Served by PyTorch: {problem}."
    logger.error("%s: %s", version, reason)
    version.serving = {**serving, "runtime": "pytorch", "reason": reason}
    ModelVersion.objects.filter(pk=version.pk).update(serving=version.serving)
    return None
