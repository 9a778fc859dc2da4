"""Train a model version from labelled data and register it; training jobs.

A training is described by a plain ``params`` dict, the same for the
``train_model`` command, the admin's form, the API and the Celery task::

    {"source": "catalog" | "folder" | "csv" | "fashion_mnist",
     "data": DIR,                # folder, csv and fashion_mnist
     "val_data": DIR,            # folder, optional
     "labels": FILE, "image_column": C, "label_column": C,   # csv
     "name": str, "mode": "head" | "finetune", "seed": int, "epochs": int,
     "create_categories": bool, "activate": bool, "target_precision": float,
     "class_balanced": bool}     # weigh classes by inverse frequency (default no)

Labels become categories by slug (``slugify(label)``) or by name; unknown ones are
created when ``create_categories`` is true and refused otherwise, before any
training starts. The model's classes are category slugs, as predictions expect.

Torch is imported lazily so web processes stay light.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from catalog.models import Category, CategorySource, ProductImage
from catalog.services import category_create
from classification.models import Job, ModelVersion, Prediction, Review
from classification.services.versions import (
    model_version_activate,
    model_version_register,
)
from config.errors import InvalidInput

logger = logging.getLogger(__name__)

SOURCES = ("catalog", "folder", "csv", "fashion_mnist")
MODES = ("head", "finetune")
# Split of a single labelled set: the rest trains.
VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
# Fashion-MNIST keeps its official test set; this many training images are held
# out (stratified) for calibration and thresholds.
FASHION_VAL_SIZE = 5000
# Bounds of the integer parameters: a seed is 32 bits for NumPy, and epochs
# beyond this many would hold a training worker until its time limit.
MAX_SEED = 2**32 - 1
MAX_EPOCHS = 1000
# Job progress is written at most this often, so a fast loop does not turn into
# a stream of UPDATEs.
PROGRESS_INTERVAL_SECONDS = 2.0

Progress = Callable[[float, str], None]


class TrainingError(InvalidInput):
    """The training cannot run as asked; the message says why."""

    field = "params"


@dataclass
class _Prepared:
    """A labelled set ready for the ML package, with what describes it."""

    samples: list
    slugs: list[str]  # one per class, in the classes' order
    names: dict[str, str]  # slug -> category name for categories to create
    split: dict[str, list[int]]
    description: dict[str, Any]
    split_ids: dict[str, list]  # what each split holds, stored with the version
    cached: dict[int, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def training_params_clean(params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` with defaults filled in; raise TrainingError if invalid."""
    if not isinstance(params, dict):
        raise TrainingError("params must be an object")
    allowed = {
        "source",
        "data",
        "val_data",
        "labels",
        "image_column",
        "label_column",
        "name",
        "mode",
        "seed",
        "epochs",
        "create_categories",
        "activate",
        "target_precision",
        "class_balanced",
    }
    unknown = set(params) - allowed
    if unknown:
        raise TrainingError(f"unknown parameters: {', '.join(sorted(unknown))}")
    clean = {
        "source": params.get("source", "catalog"),
        "mode": params.get("mode", "head"),
        "seed": params.get("seed", 0),
        "create_categories": params.get("create_categories", False),
        "activate": params.get("activate", False),
        "target_precision": params.get("target_precision", 0.97),
        "class_balanced": params.get("class_balanced", False),
    }
    for key in ("create_categories", "activate", "class_balanced"):
        # JSON from the API: the string "false" must not mean yes.
        if not isinstance(clean[key], bool):
            raise TrainingError(f"{key} must be true or false")
    if clean["source"] not in SOURCES:
        raise TrainingError(f"source must be one of {', '.join(SOURCES)}")
    if clean["mode"] not in MODES:
        raise TrainingError(f"mode must be one of {', '.join(MODES)}")
    for key in ("seed", "epochs"):
        value = params.get(key, clean.get(key))
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise TrainingError(f"{key} must be a non-negative integer")
        clean[key] = value
    if clean.get("epochs") == 0:
        raise TrainingError("epochs must be at least 1")
    if clean.get("epochs", 0) > MAX_EPOCHS:
        raise TrainingError(f"epochs must be at most {MAX_EPOCHS}")
    if clean["seed"] > MAX_SEED:
        raise TrainingError(f"seed must be at most {MAX_SEED}")
    target = clean["target_precision"]
    if not isinstance(target, int | float) or not 0.5 <= target < 1:
        raise TrainingError("target_precision must be between 0.5 and 1")
    for key in ("data", "val_data", "labels", "image_column", "label_column", "name"):
        value = params.get(key)
        if value not in (None, ""):
            if not isinstance(value, str):
                raise TrainingError(f"{key} must be a string")
            if "\x00" in value:
                raise TrainingError(f"{key} must not contain NUL characters")
            clean[key] = value.strip()
    source = clean["source"]
    if source != "catalog" and not clean.get("data"):
        raise TrainingError(f"a {source} training needs data (a folder)")
    if source == "csv":
        for key in ("labels", "image_column", "label_column"):
            if not clean.get(key):
                raise TrainingError(f"a csv training needs {key}")
    if clean.get("val_data") and source != "folder":
        raise TrainingError("val_data goes with a folder source")
    if source == "fashion_mnist" and clean["mode"] == "finetune":
        raise TrainingError("Fashion-MNIST trains its own network; mode must be head")
    name = clean.get("name")
    if name and ModelVersion.objects.filter(name=name).exists():
        raise TrainingError(f"a model version named {name!r} exists already")
    return clean


def training_job_start(*, params: dict, user) -> Job:
    """Check ``params`` and queue a training job on the training queue.

    Raise TrainingError for invalid parameters; nothing is queued
    then. The task starts once the current transaction commits.
    """
    from classification.ml.data import (
        DataError,
        OutsideDataRoot,
        confine,
        fashion_mnist_check,
    )
    from classification.tasks import train_model_task

    clean = training_params_clean(params)
    # Jobs come from the admin and the API: their files must sit under the
    # configured root, so a request cannot make a worker read the server at large.
    root = training_data_root()
    found = {}
    for key in ("data", "val_data", "labels"):
        if clean.get(key):
            try:
                found[key] = confine(clean[key], root=root, folder=key != "labels")
            except OutsideDataRoot as error:
                raise TrainingError(
                    f"{key} must be a path inside the training data folder ({root}), "
                    "without symlinks"
                ) from error
    for key, path in found.items():
        if path is None:
            kind = "file" if key == "labels" else "folder"
            raise TrainingError(f"{clean[key]} is not a {kind}")
        clean[key] = str(path)
    if clean["source"] != "catalog":
        # Every sample is listed now, so a job naming files outside the root is
        # refused at once; the worker checks again before it reads, as the tree
        # may change meanwhile.
        try:
            if clean["source"] == "fashion_mnist":
                fashion_mnist_check(clean["data"], confine_to=root)
            else:
                _list_data(clean, root)
        except DataError as error:
            raise TrainingError(str(error)) from error
    job = Job.objects.create(
        kind=Job.Kind.TRAIN,
        params=clean,
        created_by=user if getattr(user, "pk", None) else None,
        message="Waiting for a training worker.",
    )
    job_id = job.pk
    transaction.on_commit(lambda: train_model_task.delay(job_id))
    return job


def training_data_root() -> Path:
    """The folder that training jobs (admin, API) may read, resolved."""
    return Path(settings.VITRINE_TRAINING_DATA_ROOT).resolve()


def training_job_run(*, job_id: int) -> Job | None:
    """Run a queued training job; record its version, or its failure and reason.

    Idempotent: a job that is not queued any more (running, finished) is left
    alone, so a duplicate delivery does not train twice.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != Job.Status.QUEUED:
            return job
        job.status = Job.Status.RUNNING
        job.started_at = timezone.now()
        job.message = "Starting."
        job.save(update_fields=["status", "started_at", "message"])
    progress = _job_progress(job.pk)
    try:
        version = model_train(
            params=job.params,
            user=job.created_by,
            progress=progress,
            data_root=training_data_root(),
        )
    except Exception as error:
        reason = str(error) or type(error).__name__
        if not isinstance(error, ValueError | OSError):
            reason = f"{type(error).__name__}: {reason}"
        Job.objects.filter(pk=job.pk).update(
            status=Job.Status.FAILED,
            message=reason[:2000],
            finished_at=timezone.now(),
        )
        logger.warning("training job %s failed: %s", job.pk, reason)
        if not isinstance(error, ValueError | OSError):
            raise
        job.refresh_from_db()
        return job
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        progress=1.0,
        message=f"Registered {version.name}.",
        model_version=version,
        result={
            "version_id": version.pk,
            "version": version.name,
            **_headline(version),
        },
        finished_at=timezone.now(),
    )
    job.refresh_from_db()
    return job


def _job_progress(job_id: int) -> Progress:
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - last[0] < PROGRESS_INTERVAL_SECONDS and fraction < 1:
            return
        last[0] = now
        Job.objects.filter(pk=job_id).update(
            progress=round(min(max(fraction, 0.0), 1.0), 4), message=message[:500]
        )

    return report


def _headline(version: ModelVersion) -> dict[str, Any]:
    metrics = version.metrics or {}
    return {
        key: metrics.get(key)
        for key in ("accuracy", "macro_f1", "top2_accuracy", "ece", "measured_on")
        if key in metrics
    }


def model_train(
    *,
    params: dict,
    user=None,
    progress: Progress | None = None,
    data_root: Path | None = None,
    checkpoint: Path | None = None,
) -> ModelVersion:
    """Train a model version as ``params`` describe and register it.

    The version is not active unless ``params["activate"]`` is true. Raise
    TrainingError (or the ML package's DataError, a ValueError) for data that
    cannot be trained on. With ``data_root`` (training jobs), every file read
    must be a regular file inside that folder, reached without symlinks; the
    ``train_model`` command passes none and reads what its operator names. With
    ``checkpoint``, the training saves its state there after each epoch and
    resumes from a checkpoint an interrupted run left.
    """
    clean = training_params_clean(params)
    report = progress or (lambda fraction, message: None)
    started = time.perf_counter()
    if clean["source"] == "fashion_mnist":
        return _train_fashion_mnist(
            clean,
            user=user,
            progress=report,
            started=started,
            data_root=data_root,
            checkpoint=checkpoint,
        )
    report(0.0, "Listing the training data.")
    prepared = _prepare(clean, data_root)
    categories = _resolve_categories(
        prepared.slugs, prepared.names, create=clean["create_categories"]
    )
    from classification.ml.heads import HeadConfig
    from classification.ml.training import train_classifier

    config = HeadConfig(
        mode=clean["mode"],
        target_precision=clean["target_precision"],
        class_balanced=clean["class_balanced"],
    )
    if clean.get("epochs"):
        config.epochs = clean["epochs"]
        config.max_steps = max(config.max_steps, clean["epochs"])
    result = train_classifier(
        prepared.samples,
        prepared.slugs,
        prepared.split,
        config=config,
        seed=clean["seed"],
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
        "mode": clean["mode"],
        "backbone": "efficientnet_lite0 (ImageNet)"
        + (", last blocks fine-tuned" if clean["mode"] == "finetune" else ", frozen"),
        "seed": clean["seed"],
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
        clean, result.artifact, result.metrics, training, categories, user
    )
    report(1.0, f"Registered {version.name}.")
    return version


def _register(clean, artifact, metrics, training, categories, user) -> ModelVersion:
    with transaction.atomic():
        for slug, (name, exists) in categories.items():
            if not exists:
                category_create(name=name, slug=slug)
        name = clean.get("name") or _default_name(clean["source"])
        version = model_version_register(
            name=name,
            artifact=artifact,
            metrics=metrics,
            training=training,
            created_by=user if getattr(user, "pk", None) else None,
        )
        if clean["activate"]:
            version = model_version_activate(version=version)
    logger.info(
        "registered %s: accuracy %s on %s",
        version.name,
        metrics.get("accuracy"),
        metrics.get("measured_on"),
    )
    return version


def _default_name(source: str) -> str:
    stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
    name = f"{source.replace('_', '-')}-{stamp}"
    suffix = 1
    while ModelVersion.objects.filter(name=name).exists():
        suffix += 1
        name = f"{source.replace('_', '-')}-{stamp}-{suffix}"
    return name


def _resolve_categories(
    slugs: list[str], names: dict[str, str], *, create: bool
) -> dict[str, tuple[str, bool]]:
    """Map each class slug to (category name, exists); refuse unknown ones."""
    existing = set(
        Category.objects.filter(slug__in=slugs).values_list("slug", flat=True)
    )
    unknown = [slug for slug in slugs if slug not in existing]
    if unknown and not create:
        listed = ", ".join(names.get(s, s) for s in unknown)
        raise TrainingError(
            f"unknown categories: {listed}. Create them first, or allow creating "
            "them (--create-categories)."
        )
    return {slug: (names.get(slug, slug), slug in existing) for slug in slugs}


def labels_to_slugs(labels: list[str]) -> tuple[dict[str, str], dict[str, str]]:
    """Map label names to category slugs: an existing category's slug when the
    label is its slug or its name (any case), else ``slugify(label)``.

    Return (label -> slug, slug -> name for new categories). Raise TrainingError
    when a label has no usable slug or two labels would share one.
    """
    by_name = {
        name.lower(): slug
        for slug, name in Category.objects.values_list("slug", "name")
    }
    by_slug = set(by_name.values())
    mapping, names = {}, {}
    for label in labels:
        if label in by_slug:
            slug = label
        elif label.lower() in by_name:
            slug = by_name[label.lower()]
        else:
            slug = slugify(label)
            if not slug:
                raise TrainingError(f"label {label!r} gives no usable category slug")
            names[slug] = label
        mapping[label] = slug
    clashes = {s for s in mapping.values() if list(mapping.values()).count(s) > 1}
    if clashes:
        raise TrainingError(
            "labels that name the same category: "
            + "; ".join(
                ", ".join(sorted(k for k, v in mapping.items() if v == s))
                for s in sorted(clashes)
            )
        )
    return mapping, names


def _list_data(clean: dict[str, Any], data_root: Path | None):
    """List a folder or csv source: (training set, validation set or None)."""
    from classification.ml.data import csv_manifest, image_folder

    if clean["source"] == "folder":
        data = image_folder(clean["data"], confine_to=data_root)
    else:
        data = csv_manifest(
            clean["data"],
            clean["labels"],
            image_column=clean["image_column"],
            label_column=clean["label_column"],
            confine_to=data_root,
        )
    val = None
    if clean.get("val_data"):
        val = image_folder(clean["val_data"], confine_to=data_root)
    return data, val


def _prepare(clean: dict[str, Any], data_root: Path | None = None) -> _Prepared:
    from classification.ml.data import Sample, stratified_split

    source, seed = clean["source"], clean["seed"]
    if source == "catalog":
        return _prepare_catalog(clean)
    data, val = _list_data(clean, data_root)
    mapping, names = labels_to_slugs(data.classes)
    samples = [Sample(s.source, mapping[s.label], s.opener) for s in data.samples]
    description = dict(data.description)
    root = Path(clean["data"]).resolve()
    if val is not None:
        val_mapping, val_names = labels_to_slugs(val.classes)
        extra = set(val_mapping.values()) - set(mapping.values())
        if extra:
            raise TrainingError(
                "val_data has classes the training data lacks: "
                + ", ".join(sorted(extra))
            )
        names.update(val_names)
        offset = len(samples)
        samples += [
            Sample(s.source, val_mapping[s.label], s.opener) for s in val.samples
        ]
        val_labels = [s.label for s in samples[offset:]]
        halves = stratified_split(
            _indices(val_labels), val_fraction=0.5, test_fraction=0.0, seed=seed
        )
        split = {
            "train": list(range(offset)),
            # The validation folder is halved: one half calibrates and stops
            # early, the other is the test that the metrics report.
            "val": [offset + i for i in halves["val"]],
            "test": [offset + i for i in halves["train"]],
        }
        description["val_data"] = str(Path(clean["val_data"]).resolve())
        description["split"] = "train: data; val and test: val_data halved per class"
        skipped = data.skipped + val.skipped
    else:
        split = stratified_split(
            _indices([s.label for s in samples]),
            val_fraction=VAL_FRACTION,
            test_fraction=TEST_FRACTION,
            seed=seed,
        )
        description["split"] = (
            f"stratified per class: {1 - VAL_FRACTION - TEST_FRACTION:.0%} train, "
            f"{VAL_FRACTION:.0%} val, {TEST_FRACTION:.0%} test"
        )
        skipped = data.skipped
    slugs = sorted({s.label for s in samples})
    split_ids = {
        name: [_relative(samples[i].source, root) for i in indices]
        for name, indices in split.items()
    }
    return _Prepared(samples, slugs, names, split, description, split_ids, {}, skipped)


def _indices(labels: list[str]) -> list[int]:
    index = {name: i for i, name in enumerate(sorted(set(labels)))}
    return [index[label] for label in labels]


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


def catalog_labels() -> dict[int, int]:
    """Map image id -> category id for every image with a trusted label.

    A reviewer's latest accept or correction of one of the image's predictions
    wins; otherwise the product's category counts when the merchant set it.
    """
    labels: dict[int, int] = {}
    for product_category, image_id in ProductImage.objects.filter(
        product__category_source=CategorySource.MERCHANT,
        product__category__isnull=False,
    ).values_list("product__category_id", "pk"):
        labels[image_id] = product_category
    decided = Prediction.objects.filter(
        status__in=[Prediction.Status.ACCEPTED, Prediction.Status.CORRECTED]
    ).exclude(reviews__isnull=False)
    # A decided prediction without a Review row (written by an import): its
    # product's category is the decision.
    for image_id, category_id in decided.filter(
        image__product__category__isnull=False
    ).values_list("image_id", "image__product__category_id"):
        labels[image_id] = category_id
    reviews = (
        Review.objects.filter(
            decision__in=[Review.Decision.ACCEPTED, Review.Decision.CORRECTED]
        )
        .order_by("created_at", "pk")
        .values_list(
            "prediction__image_id", "final_category_id", "prediction__category_id"
        )
    )
    for image_id, final_id, predicted_id in reviews:
        category_id = final_id or predicted_id
        if category_id:
            labels[image_id] = category_id
    return labels


def _storage_opener(key: str):
    from classification.ml.data import UnreadableImage, open_rgb

    try:
        with default_storage.open(key, "rb") as stored:
            data = stored.read()
    except FileNotFoundError as error:
        raise UnreadableImage("the stored file is missing") from error
    return open_rgb(data)


def _prepare_catalog(clean: dict[str, Any]) -> _Prepared:
    from classification.ml.data import Sample, stratified_split

    labels = catalog_labels()
    if not labels:
        raise TrainingError(
            "the catalog has no labelled images yet (reviewed, or categorised by "
            "their merchant)"
        )
    categories = dict(
        Category.objects.filter(pk__in=set(labels.values())).values_list("pk", "slug")
    )
    images = dict(ProductImage.objects.filter(pk__in=labels).values_list("pk", "file"))
    image_ids = sorted(i for i in labels if i in images and labels[i] in categories)
    slugs = sorted({categories[labels[i]] for i in image_ids})
    if len(slugs) < 2:
        raise TrainingError(
            "the catalog's labelled images cover fewer than two categories"
        )
    samples = [
        Sample(images[i], categories[labels[i]], opener=_storage_opener)
        for i in image_ids
    ]
    split = stratified_split(
        _indices([s.label for s in samples]),
        val_fraction=VAL_FRACTION,
        test_fraction=TEST_FRACTION,
        seed=clean["seed"],
    )
    cached = {} if clean["mode"] == "finetune" else _cached_embeddings(image_ids)
    return _Prepared(
        samples,
        slugs,
        {},
        split,
        {
            "source": "catalog",
            "images": len(samples),
            "labels": "reviewer decisions, then merchant-set categories",
            "split": f"stratified per class: {1 - VAL_FRACTION - TEST_FRACTION:.0%} "
            f"train, {VAL_FRACTION:.0%} val, {TEST_FRACTION:.0%} test",
        },
        {name: [image_ids[i] for i in idx] for name, idx in split.items()},
        cached,
    )


def _cached_embeddings(image_ids: list[int]) -> dict[int, Any]:
    """Map sample index -> stored embedding from the pretrained backbone.

    Only predictions of versions whose backbone is the untouched ImageNet one,
    with the default preprocessing, carry reusable features.
    """
    import numpy as np

    from classification.ml.backbone import EMBEDDING_DIM
    from classification.ml.presets import DEFAULT_PRESET

    reusable = [
        v.pk
        for v in ModelVersion.objects.filter(architecture="efficientnet_lite0")
        if v.preprocessing == DEFAULT_PRESET and v.training.get("mode") != "finetune"
    ]
    position = {image_id: i for i, image_id in enumerate(image_ids)}
    cached = {}
    rows = (
        Prediction.objects.filter(
            image_id__in=image_ids,
            model_version_id__in=reusable,
            embedding__isnull=False,
        )
        .order_by("-created_at")
        .values_list("image_id", "embedding")
        .iterator(chunk_size=500)
    )
    for image_id, embedding in rows:
        index = position[image_id]
        if index in cached:
            continue
        vector = np.frombuffer(bytes(embedding), dtype=np.float32)
        if vector.shape == (EMBEDDING_DIM,):
            cached[index] = vector
    return cached


def _train_fashion_mnist(
    clean: dict[str, Any],
    *,
    user,
    progress: Progress,
    started: float,
    data_root: Path | None,
    checkpoint: Path | None,
) -> ModelVersion:
    import tempfile

    from classification.ml.data import fashion_mnist_load, fashion_mnist_prepare
    from classification.ml.fashion import FashionConfig, fashion_artifact
    from classification.ml.fashion_training import fashion_mnist_train

    source = Path(clean["data"])
    if not source.is_dir():
        raise TrainingError(f"{source} is not a folder")
    progress(0.0, "Reading Fashion-MNIST.")
    config = FashionConfig()
    if clean.get("epochs"):
        config.epochs = clean["epochs"]
    with tempfile.TemporaryDirectory(prefix="vitrine-fmnist-") as root:
        fashion_mnist_prepare(source, root, confine_to=data_root)
        _, _, names = fashion_mnist_load(root, train=False)
        mapping, new_names = labels_to_slugs(names)
        slugs = [mapping[n] for n in names]
        # Refuse unknown categories before minutes of training, not after.
        categories = _resolve_categories(
            slugs, new_names, create=clean["create_categories"]
        )
        result = fashion_mnist_train(
            root,
            config=config,
            seed=clean["seed"],
            val_size=FASHION_VAL_SIZE,
            target_precision=clean["target_precision"],
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
        "seed": clean["seed"],
        "split": {
            "method": result.split["method"],
            "counts": result.split["counts"],
            "items": {"val": result.split["val_indices"]},
        },
        "hyperparameters": result.config.as_dict(),
        "history": result.history,
        "training_seconds": round(time.perf_counter() - started, 1),
    }
    version = _register(clean, artifact, metrics, training, categories, user)
    progress(1.0, f"Registered {version.name}.")
    return version
