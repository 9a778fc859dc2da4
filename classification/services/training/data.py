"""The data a training reads: sources listed, labelled and split.

Sources: the catalog (stored images with trusted labels), an ImageFolder, a
folder of images with a CSV manifest, and Fashion-MNIST's IDX files.

Training jobs come from the admin and the API, so what they read is confined
to VITRINE_TRAINING_DATA_ROOT: ``training_data_confine`` checks every sample
when the job is asked for (the refusal names no path, so an answer never tells
which files exist elsewhere), and the listing checks again in the worker right
before reading, as the tree may change meanwhile. Symlinks are refused, never
followed. The ``train_model`` command passes no root and reads what its
operator names.
"""

import dataclasses
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage

from catalog.models import Category, ProductImage
from classification.models import ModelVersion, Prediction
from classification.services.training import TrainingError
from classification.services.training.labels import catalog_labels, labels_to_slugs
from classification.services.training.params import TrainingParams

# Split of a single labelled set: the rest trains.
VAL_FRACTION = 0.15
TEST_FRACTION = 0.15
_SPLIT_DESCRIPTION = (
    f"stratified per class: {1 - VAL_FRACTION - TEST_FRACTION:.0%} train, "
    f"{VAL_FRACTION:.0%} val, {TEST_FRACTION:.0%} test"
)


@dataclass
class PreparedData:
    """A labelled set ready for the ML package, with what describes it."""

    samples: list
    slugs: list[str]  # one per class, in the classes' order
    names: dict[str, str]  # slug -> category name for categories to create
    split: dict[str, list[int]]
    description: dict[str, Any]
    split_ids: dict[str, list]  # what each split holds, stored with the version
    cached: dict[int, Any] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def training_data_root() -> Path:
    """The folder that training jobs (admin, API) may read, resolved."""
    return Path(settings.VITRINE_TRAINING_DATA_ROOT).resolve()


def training_data_confine(*, params: TrainingParams, root: Path) -> TrainingParams:
    """Return ``params`` with its paths resolved, once every file it names and
    every sample it lists is a regular file inside ``root``, reached without
    symlinks; raise TrainingError otherwise.
    """
    from classification.ml.fashion_data import fashion_mnist_check
    from classification.ml.paths import DataError, OutsideDataRoot, confine

    found = {}
    for key in ("data", "val_data", "labels"):
        value = getattr(params, key)
        if value:
            try:
                found[key] = confine(value, root=root, folder=key != "labels")
            except OutsideDataRoot as error:
                raise TrainingError(
                    f"{key} must be a path inside the training data folder ({root}), "
                    "without symlinks",
                    param=key,
                ) from error
    for key, path in found.items():
        if path is None:
            kind = "file" if key == "labels" else "folder"
            raise TrainingError(f"{getattr(params, key)} is not a {kind}", param=key)
    params = dataclasses.replace(
        params, **{key: str(path) for key, path in found.items()}
    )
    if params.source != "catalog":
        # Every sample is listed now, so a job naming files outside the root is
        # refused at once; the worker checks again before it reads.
        try:
            if params.source == "fashion_mnist":
                fashion_mnist_check(params.data, confine_to=root)
            else:
                training_data_list(params=params, data_root=root)
        except DataError as error:
            raise TrainingError(str(error), param="data") from error
    return params


def training_data_list(*, params: TrainingParams, data_root: Path | None):
    """List a folder or csv source: (training set, validation set or None)."""
    from classification.ml.data import csv_manifest, image_folder

    if params.source == "folder":
        data = image_folder(params.data, confine_to=data_root)
    else:
        data = csv_manifest(
            params.data,
            params.labels,
            image_column=params.image_column,
            label_column=params.label_column,
            confine_to=data_root,
        )
    val = None
    if params.val_data:
        val = image_folder(params.val_data, confine_to=data_root)
    return data, val


def training_data_prepare(
    *, params: TrainingParams, data_root: Path | None = None
) -> PreparedData:
    """List, label and split the catalog, a folder or a csv source."""
    from classification.ml.data import Sample, stratified_split

    if params.source == "catalog":
        return _prepare_catalog(params)
    data, val = training_data_list(params=params, data_root=data_root)
    mapping, names = labels_to_slugs(data.classes)
    samples = [Sample(s.source, mapping[s.label], s.opener) for s in data.samples]
    description = dict(data.description)
    root = Path(params.data).resolve()
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
            _indices(val_labels), val_fraction=0.5, test_fraction=0.0, seed=params.seed
        )
        split = {
            "train": list(range(offset)),
            # The validation folder is halved: one half calibrates and stops
            # early, the other is the test that the metrics report.
            "val": [offset + i for i in halves["val"]],
            "test": [offset + i for i in halves["train"]],
        }
        description["val_data"] = str(Path(params.val_data).resolve())
        description["split"] = "train: data; val and test: val_data halved per class"
        skipped = data.skipped + val.skipped
    else:
        split = stratified_split(
            _indices([s.label for s in samples]),
            val_fraction=VAL_FRACTION,
            test_fraction=TEST_FRACTION,
            seed=params.seed,
        )
        description["split"] = _SPLIT_DESCRIPTION
        skipped = data.skipped
    slugs = sorted({s.label for s in samples})
    split_ids = {
        name: [_relative(samples[i].source, root) for i in indices]
        for name, indices in split.items()
    }
    return PreparedData(
        samples, slugs, names, split, description, split_ids, {}, skipped
    )


@contextmanager
def fashion_mnist_staged(
    *, source: Path, data_root: Path | None
) -> Iterator[tuple[str, list[str]]]:
    """Copy Fashion-MNIST's files into a temporary folder, in the layout
    torchvision reads; yield (that folder, the class names)."""
    from classification.ml.fashion_data import (
        fashion_mnist_load,
        fashion_mnist_prepare,
    )

    with tempfile.TemporaryDirectory(prefix="vitrine-fmnist-") as root:
        fashion_mnist_prepare(source, root, confine_to=data_root)
        _, _, names = fashion_mnist_load(root, train=False)
        yield root, names


def _indices(labels: list[str]) -> list[int]:
    index = {name: i for i, name in enumerate(sorted(set(labels)))}
    return [index[label] for label in labels]


def _relative(path: str, root: Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return path


def _storage_opener(key: str):
    from classification.ml.data import UnreadableImage, open_rgb

    try:
        with default_storage.open(key, "rb") as stored:
            data = stored.read()
    except FileNotFoundError as error:
        raise UnreadableImage("the stored file is missing") from error
    return open_rgb(data)


def _prepare_catalog(params: TrainingParams) -> PreparedData:
    from classification.ml.data import Sample, stratified_split

    labels = catalog_labels()
    if not labels:
        raise TrainingError(
            "the catalog has no labelled photos yet (reviewed, or categorised by "
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
            "the catalog's labelled photos cover fewer than two categories"
        )
    samples = [
        Sample(images[i], categories[labels[i]], opener=_storage_opener)
        for i in image_ids
    ]
    split = stratified_split(
        _indices([s.label for s in samples]),
        val_fraction=VAL_FRACTION,
        test_fraction=TEST_FRACTION,
        seed=params.seed,
    )
    cached = {} if params.mode == "finetune" else _cached_embeddings(image_ids)
    return PreparedData(
        samples,
        slugs,
        {},
        split,
        {
            "source": "catalog",
            "images": len(samples),
            "labels": "reviewer decisions, then merchant-set categories",
            "split": _SPLIT_DESCRIPTION,
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
