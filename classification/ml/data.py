"""Labelled image sets for training: folders, CSV manifests, splits.

A data set here is a list of :class:`Sample` (where to read an image, and its label
name) plus the sorted class names. Images are not opened when a set is listed:
unreadable files are found, skipped and counted when their features are computed
(see ``classification.ml.training``), so one bad file never stops a training.

Given ``confine_to`` (a resolved folder), a set is read only from regular files
inside that folder; the checks are ``classification.ml.paths``'.
"""

import csv
import io
import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from torchvision.datasets.folder import IMG_EXTENSIONS, find_classes

from classification.ml.paths import (
    DataError,
    OutsideDataRoot,
    confine,
    confined_folder,
    open_nofollow,
)
from imaging.decode import decode_image
from imaging.errors import ImageRejected

# Extensions we read besides torchvision's list (HEIC is opened by pillow-heif,
# which imaging.decode registers for uploads too).
EXTENSIONS = tuple(sorted({*IMG_EXTENSIONS, ".heic", ".heif"}))
# A training image may be as large as Pillow reads without calling it a
# decompression bomb; uploads have their own, smaller limits.
MAX_PIXELS = 2 * Image.MAX_IMAGE_PIXELS


class UnreadableImage(ImageRejected):
    """One image could not be opened or decoded; the message says why in a few
    words (a training's skipped examples show it), ``code`` names the reason:
    ``cannot_open``, or the code imaging's decode gave."""

    def __init__(self, message: str, *, code: str = "cannot_open") -> None:
        super().__init__(code, message)


@dataclass(frozen=True)
class ConfinedOpener:
    """Open a sample's file only if it is still a regular file inside ``root``.

    Checked again right before reading, and opened with ``O_NOFOLLOW``: a tree
    that changed after the job was checked (a file swapped for a symlink) stops
    the training with OutsideDataRoot instead of reading elsewhere.
    """

    root: Path

    def __call__(self, source: str) -> Image.Image:
        path = confine(source, root=self.root)
        if path is None:
            raise UnreadableImage("cannot open: not a regular file, or missing")
        try:
            stream = open_nofollow(path)
        except OutsideDataRoot:
            raise
        except DataError as error:
            raise UnreadableImage(str(error)) from error
        return open_rgb(stream)


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

    @classmethod
    def listed(
        cls, samples: list[Sample], skipped: list, description: dict, *, none: str
    ) -> "LabelledSet":
        """The set of ``samples``, whose classes are the labels they carry; a
        DataError saying ``none`` when there are no samples."""
        if not samples:
            raise DataError(none)
        return cls(samples, sorted({s.label for s in samples}), skipped, description)

    def labels(self) -> np.ndarray:
        """Return the class index of every sample."""
        index = {name: i for i, name in enumerate(self.classes)}
        return np.array([index[s.label] for s in self.samples], dtype=np.int64)


def open_rgb(
    source: str | Path | bytes | io.BufferedIOBase, *, max_pixels: int = MAX_PIXELS
) -> Image.Image:
    """Decode a path, bytes or an open binary file (closed here) into an upright
    8-bit RGB image (white under alpha), as an upload is decoded, in any format
    Pillow reads."""
    try:
        if isinstance(source, bytes):
            stream = io.BytesIO(source)
        elif hasattr(source, "read"):
            stream = source
        else:
            stream = open(source, "rb")  # noqa: SIM115
    except OSError as error:
        raise UnreadableImage(f"cannot open: {error.strerror or error}") from error
    try:
        with stream:
            return decode_image(stream, max_pixels=max_pixels, formats=None).image
    except ImageRejected as error:
        if error.code == "not_an_image":
            reason = "not an image"
        else:
            # Pillow's own words where it gave some (a truncated file, a bomb).
            reason = f"damaged image: {error.__cause__ or error.message}"
        raise UnreadableImage(reason, code=error.code) from error


def _is_image_name(name: str) -> bool:
    return name.lower().endswith(EXTENSIONS)


def image_folder(root: str | Path, *, confine_to: Path | None = None) -> LabelledSet:
    """List an ImageFolder layout: one sub-folder per class, images inside.

    Files whose names are not image names are skipped and counted; hidden files
    (``.DS_Store``) are ignored. With ``confine_to``, symlinks in the tree are
    refused (OutsideDataRoot) rather than followed.
    """
    if confine_to is not None:
        return _image_folder_confined(root, confine_to)
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
    return _folder_set(root, samples, skipped)


def _folder_set(root: Path, samples: list[Sample], skipped: list) -> LabelledSet:
    return LabelledSet.listed(
        samples,
        skipped,
        {"source": "folder", "path": str(root.resolve())},
        none=f"{root} holds no images",
    )


def _image_folder_confined(root: str | Path, confine_to: Path) -> LabelledSet:
    folder = confined_folder(root, confine_to)
    opener = ConfinedOpener(confine_to)
    classes, refused = [], 0
    for entry in os.scandir(folder):
        if entry.is_symlink():
            refused += not entry.name.startswith(".")
        elif entry.is_dir(follow_symlinks=False):
            classes.append(entry.name)
    if not classes and not refused:
        raise DataError(f"{folder} has no class sub-folders")
    samples, skipped = [], []
    for name in sorted(classes):
        paths = []
        # followlinks=False: a symlinked folder is listed, never entered.
        for parent, folders, files in os.walk(folder / name):
            base = Path(parent)
            links = {n for n in folders + files if (base / n).is_symlink()}
            refused += sum(not n.startswith(".") for n in links)
            folders[:] = [f for f in folders if f not in links]
            paths += [base / f for f in files if f not in links]
        for path in sorted(paths):
            if path.name.startswith(".") or not path.is_file():
                continue  # hidden, or a FIFO or a device: never read
            if _is_image_name(path.name):
                samples.append(Sample(str(path), name, opener))
            else:
                skipped.append((str(path), "not an image file name"))
    if refused:
        raise OutsideDataRoot(refused)
    return _folder_set(folder, samples, skipped)


def csv_manifest(
    image_dir: str | Path,
    labels_file: str | Path,
    *,
    image_column: str,
    label_column: str,
    extension: str = ".jpg",
    confine_to: Path | None = None,
) -> LabelledSet:
    """List images named in a CSV file, with their labels from another column.

    A value in ``image_column`` without an extension gets ``extension`` (a
    ``labels.csv`` with numeric ids and ``images/<id>.jpg``). ``image_dir`` may hold
    the images directly or in an ``images/`` sub-folder. Rows without a label, or
    whose file is missing, are skipped and counted. With ``confine_to``, rows
    naming a file outside that folder or through a symlink are refused
    (OutsideDataRoot), before any file outside it is looked at.
    """
    if confine_to is None:
        image_dir, labels_file = Path(image_dir), Path(labels_file)
        if not image_dir.is_dir():
            raise DataError(f"{image_dir} is not a folder")
        if not labels_file.is_file():
            raise DataError(f"{labels_file} is not a file")
        opener = None

        def locate(path: Path) -> Path | None:
            return path if path.is_file() else None

        stream = labels_file.open("rb")
    else:
        image_dir = confined_folder(image_dir, confine_to)
        name = labels_file
        labels_file = confine(labels_file, root=confine_to)
        if labels_file is None:
            raise DataError(f"{name} is not a file")
        opener = ConfinedOpener(confine_to)

        def locate(path: Path) -> Path | None:
            return confine(path, root=confine_to)

        stream = open_nofollow(labels_file)
    folders = [image_dir, image_dir / "images"]
    samples, skipped, refused = [], [], 0
    with io.TextIOWrapper(stream, encoding="utf-8-sig", newline="") as text:
        reader = csv.DictReader(text)
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
            path, outside = None, False
            for folder in folders:
                try:
                    path = locate(folder / name)
                except OutsideDataRoot:
                    outside = True
                if path is not None:
                    break
            if path is None and outside:
                refused += 1
            elif path is None:
                skipped.append((name, "file not found"))
            else:
                samples.append(Sample(str(path), label, opener))
    if refused:
        raise OutsideDataRoot(refused)
    return LabelledSet.listed(
        samples,
        skipped,
        {
            "source": "csv",
            "path": str(image_dir.resolve()),
            "labels": str(labels_file.resolve()),
            "image_column": image_column,
            "label_column": label_column,
        },
        none=f"{labels_file} lists no image that could be found",
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
