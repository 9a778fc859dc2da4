"""Labelled image sets for training: folders, CSV manifests, Fashion-MNIST, splits.

A data set here is a list of :class:`Sample` (where to read an image, and its label
name) plus the sorted class names. Images are not opened when a set is listed:
unreadable files are found, skipped and counted when their features are computed
(see ``classification.ml.training``), so one bad file never stops a training.
"""

import csv
import gzip
import io
import shutil
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from torchvision.datasets import FashionMNIST
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes

from catalog.images import to_rgb

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
# Extensions we read besides torchvision's list (HEIC is opened by pillow-heif when
# it is installed, as the catalog does).
EXTENSIONS = tuple(sorted({*IMG_EXTENSIONS, ".heic", ".heif"}))


class DataError(ValueError):
    """A data set cannot be read as asked (missing folder, no labels...)."""


class UnreadableImage(ValueError):
    """One image could not be decoded; the message says why."""


@dataclass(frozen=True)
class Sample:
    """One labelled image: ``source`` is a path, or a key that ``opener`` reads."""

    source: str
    label: str
    opener: Callable[[str], Image.Image] | None = field(default=None, compare=False)

    def open(self) -> Image.Image:
        """Return the image as RGB, or raise UnreadableImage."""
        if self.opener is not None:
            return self.opener(self.source)
        return open_rgb(self.source)


@dataclass
class LabelledSet:
    """Samples, their class names (sorted) and what was skipped while listing."""

    samples: list[Sample]
    classes: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    description: dict = field(default_factory=dict)

    def labels(self) -> np.ndarray:
        """Return the class index of every sample."""
        index = {name: i for i, name in enumerate(self.classes)}
        return np.array([index[s.label] for s in self.samples], dtype=np.int64)


def open_rgb(source: str | Path | bytes) -> Image.Image:
    """Decode a path or bytes into an upright 8-bit RGB image (white under alpha)."""
    try:
        stream = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    except OSError as error:
        raise UnreadableImage(f"cannot open: {error.strerror or error}") from error
    try:
        with stream, Image.open(stream) as image:
            image.load()
            # exif_transpose returns a new image, detached from the file.
            return to_rgb(ImageOps.exif_transpose(image))
    except UnidentifiedImageError as error:
        raise UnreadableImage("not an image") from error
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise UnreadableImage(f"damaged image: {error}") from error


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def image_folder(root: str | Path) -> LabelledSet:
    """List an ImageFolder layout: one sub-folder per class, images inside.

    Files whose names are not image names are skipped and counted; hidden files
    (``.DS_Store``) are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"{root} is not a folder")
    try:
        classes, _ = find_classes(str(root))
    except FileNotFoundError as error:
        raise DataError(f"{root} has no class sub-folders") from error
    samples, skipped = [], []
    for name in classes:
        for path in sorted((root / name).rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            if _is_image_name(path.name):
                samples.append(Sample(str(path), name))
            else:
                skipped.append((str(path), "not an image file name"))
    classes = sorted({s.label for s in samples})
    if not samples:
        raise DataError(f"{root} holds no images")
    return LabelledSet(
        samples,
        classes,
        skipped,
        {"source": "folder", "path": str(root.resolve())},
    )


def csv_manifest(
    image_dir: str | Path,
    labels_file: str | Path,
    *,
    image_column: str,
    label_column: str,
    extension: str = ".jpg",
) -> LabelledSet:
    """List images named in a CSV file, with their labels from another column.

    A value in ``image_column`` without an extension gets ``extension`` (a
    ``labels.csv`` with numeric ids and ``images/<id>.jpg``). ``image_dir`` may hold
    the images directly or in an ``images/`` sub-folder. Rows without a label, or
    whose file is missing, are skipped and counted.
    """
    image_dir, labels_file = Path(image_dir), Path(labels_file)
    if not image_dir.is_dir():
        raise DataError(f"{image_dir} is not a folder")
    if not labels_file.is_file():
        raise DataError(f"{labels_file} is not a file")
    folders = [image_dir, image_dir / "images"]
    samples, skipped = [], []
    with labels_file.open(newline="", encoding="utf-8-sig") as stream:
        reader = csv.DictReader(stream)
        for column in (image_column, label_column):
            if column not in (reader.fieldnames or []):
                raise DataError(
                    f"{labels_file} has no column {column!r} "
                    f"(columns: {', '.join(reader.fieldnames or [])})"
                )
        for line, row in enumerate(reader, start=2):
            name = (row.get(image_column) or "").strip()
            label = (row.get(label_column) or "").strip()
            if not name:
                skipped.append((f"{labels_file}:{line}", "no image name"))
                continue
            if not label:
                skipped.append((name, "no label"))
                continue
            if not Path(name).suffix:
                name += extension
            path = next((f / name for f in folders if (f / name).is_file()), None)
            if path is None:
                skipped.append((name, "file not found"))
                continue
            samples.append(Sample(str(path), label))
    if not samples:
        raise DataError(f"{labels_file} lists no image that could be found")
    return LabelledSet(
        samples,
        sorted({s.label for s in samples}),
        skipped,
        {
            "source": "csv",
            "path": str(image_dir.resolve()),
            "labels": str(labels_file.resolve()),
            "image_column": image_column,
            "label_column": label_column,
        },
    )


def subset(data: LabelledSet, classes: Sequence[str]) -> LabelledSet:
    """Keep only the samples of ``classes`` (all of which must occur)."""
    wanted = set(classes)
    missing = wanted - set(data.classes)
    if missing:
        raise DataError(f"no samples for {', '.join(sorted(missing))}")
    return LabelledSet(
        [s for s in data.samples if s.label in wanted],
        sorted(wanted),
        list(data.skipped),
        {**data.description, "classes": sorted(wanted)},
    )


def stratified_split(
    labels: Sequence[int] | np.ndarray,
    *,
    val_fraction: float = 0.15,
    test_fraction: float = 0.15,
    seed: int = 0,
) -> dict[str, list[int]]:
    """Split sample indices per class into train, val and test, reproducibly.

    Each class is shuffled with ``seed`` and cut at the fractions (rounded, at
    least one image for a non-zero fraction when the class has three or more).
    A class with fewer images keeps them for training: a model cannot learn a
    class it never sees, and a one-image test says nothing.
    """
    if not 0 <= val_fraction < 1 or not 0 <= test_fraction < 1:
        raise ValueError("fractions must be in [0, 1)")
    if val_fraction + test_fraction >= 1:
        raise ValueError("val and test fractions leave nothing to train on")
    rng = np.random.default_rng(seed)
    by_class: dict[int, list[int]] = defaultdict(list)
    for index, label in enumerate(labels):
        by_class[int(label)].append(index)
    split: dict[str, list[int]] = {"train": [], "val": [], "test": []}
    for label in sorted(by_class):
        indices = np.array(by_class[label])
        rng.shuffle(indices)
        n = len(indices)
        n_val = n_test = 0
        if n >= 3:
            n_val = max(round(n * val_fraction), 1) if val_fraction else 0
            n_test = max(round(n * test_fraction), 1) if test_fraction else 0
        split["val"] += indices[:n_val].tolist()
        split["test"] += indices[n_val : n_val + n_test].tolist()
        split["train"] += indices[n_val + n_test :].tolist()
    return {name: sorted(indices) for name, indices in split.items()}


def fashion_mnist_prepare(source: str | Path, root: str | Path) -> Path:
    """Put Fashion-MNIST's IDX files where torchvision reads them; return ``root``.

    ``source`` holds the four standard files, gzipped or not; they are unpacked
    into ``<root>/FashionMNIST/raw/`` (once: an unpacked file is kept).
    """
    source, root = Path(source), Path(root)
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MNIST_FILES:
        target = raw / name
        if target.is_file():
            continue
        plain, packed = source / name, source / f"{name}.gz"
        partial = target.with_suffix(".partial")
        if packed.is_file():
            with gzip.open(packed, "rb") as src, partial.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        elif plain.is_file():
            shutil.copyfile(plain, partial)
        else:
            raise DataError(f"{source} has no {name}(.gz)")
        partial.replace(target)
    return root


def fashion_mnist_load(root: str | Path, *, train: bool) -> tuple:
    """Return (images uint8 (N, 28, 28), labels int64 (N,), class names).

    Read with torchvision's ``FashionMNIST`` from ``<root>/FashionMNIST/raw/``;
    nothing is downloaded.
    """
    try:
        dataset = FashionMNIST(str(root), train=train, download=False)
    except RuntimeError as error:
        raise DataError(f"Fashion-MNIST not found under {root}: {error}") from error
    return dataset.data, dataset.targets, list(dataset.classes)
