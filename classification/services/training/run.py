"""Train a model version as ``TrainingParams`` describe, and register it.

``model_train`` is what the ``train_model`` command calls directly and a
training job calls on the worker: prepare the data, check its categories,
train (features and a head, fine-tuning, or Fashion-MNIST's own network),
describe the run, register the version and, if asked, activate it.
"""

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog.services import category_create
from classification.models import ModelVersion
from classification.services.training import TrainingError
from classification.services.training.data import (
    fashion_mnist_staged,
    training_data_prepare,
)
from classification.services.training.labels import (
    labels_to_slugs,
    training_categories_resolve,
)
from classification.services.training.params import TrainingParams
from classification.services.versions import (
    model_version_activate,
    model_version_register,
)

logger = logging.getLogger(__name__)

# Fashion-MNIST keeps its official test set; this many training images are held
# out (stratified) for calibration and thresholds.
FASHION_VAL_SIZE = 5000

Progress = Callable[[float, str], None]


def model_train(
    *,
    params: Mapping[str, Any],
    user=None,
    progress: Progress | None = None,
    data_root: Path | None = None,
    checkpoint: Path | None = None,
) -> ModelVersion:
    """Train a model version as ``params`` describe and register it.

    ``params`` is the input as the command, the API or a stored job gives it;
    it is checked here (``TrainingParams.from_input``), also for a job, as a
    name may have been taken since the job was queued. The version is not
    active unless ``params["activate"]`` is true. Raise TrainingError (or the
    ML package's DataError, a ValueError) for data that cannot be trained
    on. With ``data_root`` (training jobs), every file read must be a regular
    file inside that folder, reached without symlinks; the ``train_model``
    command passes none and reads what its operator names. With
    ``checkpoint``, the training saves its state there after each epoch and
    resumes from a checkpoint an interrupted run left.
    """
    clean = TrainingParams.from_input(params)
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    if clean.source == "fashion_mnist":
        return _train_fashion_mnist(
            clean,
            user=user,
            progress=report,
            started=started,
            data_root=data_root,
            checkpoint=checkpoint,
        )
    report(0.0, "Listing the training data.")
    prepared = training_data_prepare(params=clean, data_root=data_root)
    categories = training_categories_resolve(
        slugs=prepared.slugs, names=prepared.names, create=clean.create_categories
    )
    from classification.ml.heads import HeadConfig
    from classification.ml.training import train_classifier

    config = HeadConfig(
        mode=clean.mode,
        target_precision=clean.target_precision,
        class_balanced=clean.class_balanced,
    )
    if clean.epochs:
        config.epochs = clean.epochs
        config.max_steps = max(config.max_steps, clean.epochs)
    result = train_classifier(
        prepared.samples,
        prepared.slugs,
        prepared.split,
        config=config,
        seed=clean.seed,
        cached=prepared.cached,
        progress=lambda f, m: report(0.02 + 0.95 * f, m),
        threads=settings.VITRINE_TRAINING_THREADS,
        checkpoint=checkpoint,
    )
    skipped = prepared.skipped + [
        (e["source"], e["reason"]) for e in result.metrics["skipped"]["examples"]
    ]
    result.metrics["skipped"] = {
        "count": len(prepared.skipped) + result.metrics["skipped"]["count"],
        "examples": [{"source": s, "reason": r} for s, r in skipped[:50]],
    }
    training = {
        "source": prepared.description,
        "mode": clean.mode,
        "backbone": "efficientnet_lite0 (ImageNet)"
        + (", last blocks fine-tuned" if clean.mode == "finetune" else ", frozen"),
        "seed": clean.seed,
        "split": {
            "method": prepared.description.get("split", "stratified per class"),
            "counts": {k: len(v) for k, v in prepared.split.items()},
            "items": prepared.split_ids,
        },
        "hyperparameters": config.as_dict(),
        "history": result.history[-50:],
        "features_reused": len(prepared.cached),
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    version = _register(
        clean,
        artifact=result.artifact,
        metrics=result.metrics,
        training=training,
        categories=categories,
        user=user,
        check_photos=_validation_photos(prepared),
    )
    report(1.0, f"Registered {version.name}.")
    return version


def _train_fashion_mnist(
    clean: TrainingParams,
    *,
    user,
    progress: Progress,
    started: float,
    data_root: Path | None,
    checkpoint: Path | None,
) -> ModelVersion:
    from classification.ml.fashion import FashionConfig, fashion_artifact
    from classification.ml.fashion_training import fashion_mnist_train

    source = Path(clean.data)
    if not source.is_dir():
        raise TrainingError(f"{source} is not a folder")
    progress(0.0, "Reading Fashion-MNIST.")
    config = FashionConfig()
    if clean.epochs:
        config.epochs = clean.epochs
    with fashion_mnist_staged(source=source, data_root=data_root) as (root, names):
        mapping, new_names = labels_to_slugs(names)
        slugs = [mapping[n] for n in names]
        # Refuse unknown categories before minutes of training, not after.
        categories = training_categories_resolve(
            slugs=slugs, names=new_names, create=clean.create_categories
        )
        result = fashion_mnist_train(
            root,
            config=config,
            seed=clean.seed,
            val_size=FASHION_VAL_SIZE,
            target_precision=clean.target_precision,
            progress=lambda f, m: progress(0.02 + 0.93 * f, m),
            threads=settings.VITRINE_TRAINING_THREADS,
            checkpoint=checkpoint,
        )
    metrics = result.metrics
    metrics["skipped"] = {"count": 0, "examples": []}
    metrics["train_count"] = result.split["counts"]["train"]
    artifact = fashion_artifact(
        model=result.model,
        classes=slugs,
        config=result.config,
        temperature=result.temperature,
    )
    training = {
        "source": {"source": "fashion_mnist", "path": str(source.resolve())},
        "mode": "from scratch",
        "seed": clean.seed,
        "split": {
            "method": result.split["method"],
            "counts": result.split["counts"],
            "items": {"val": result.split["val_indices"]},
        },
        "hyperparameters": result.config.as_dict(),
        "history": result.history,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    version = _register(
        clean,
        artifact=artifact,
        metrics=metrics,
        training=training,
        categories=categories,
        user=user,
    )
    progress(1.0, f"Registered {version.name}.")
    return version


def _register(
    clean: TrainingParams,
    *,
    artifact: dict,
    metrics: dict,
    training: dict,
    categories: dict[str, tuple[str, bool]],
    user,
    check_photos=None,
) -> ModelVersion:
    with transaction.atomic():
        for slug, (name, exists) in categories.items():
            if not exists:
                category_create(name=name, slug=slug)
        version = model_version_register(
            name=clean.name or _default_name(clean.source),
            artifact=artifact,
            metrics=metrics,
            training=training,
            created_by=user if getattr(user, "pk", None) else None,
            check_photos=check_photos,
        )
        if clean.activate:
            version = model_version_activate(version=version)
    logger.info(
        "registered %s: accuracy %s on %s",
        version.name,
        metrics.get("accuracy"),
        metrics.get("measured_on"),
    )
    return version


# The serving export is checked on this many validation photos: about 3 s.
CHECK_PHOTOS = 64


def _validation_photos(prepared) -> list:
    """Up to CHECK_PHOTOS readable validation photos, to check the export on."""
    from classification.ml.data import UnreadableImage

    photos = []
    for index in prepared.split.get("val", [])[: CHECK_PHOTOS * 2]:
        try:
            photos.append(prepared.samples[index].open())
        except UnreadableImage:
            continue
        if len(photos) == CHECK_PHOTOS:
            break
    return photos


def _default_name(source: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{source.replace('_', '-')}-{stamp}"
    suffix = 1
    while ModelVersion.objects.filter(name=name).exists():
        suffix += 1
        name = f"{source.replace('_', '-')}-{stamp}-{suffix}"
    return name
