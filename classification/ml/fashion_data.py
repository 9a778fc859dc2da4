"""Fashion-MNIST's files: staged where torchvision reads them, checked, loaded."""

import gzip
import shutil
from pathlib import Path

from torchvision.datasets import FashionMNIST

from classification.ml.paths import (
    DataError,
    OutsideDataRoot,
    confine,
    confined_folder,
)

FASHION_MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def fashion_mnist_prepare(
    source: str | Path, root: str | Path, *, confine_to: Path | None = None
) -> Path:
    """Put Fashion-MNIST's IDX files where torchvision reads them; return ``root``.

    ``source`` holds the four standard files, gzipped or not; they are unpacked
    into ``<root>/FashionMNIST/raw/`` (once: an unpacked file is kept). With
    ``confine_to``, they are read only as regular files inside that folder.
    """
    if confine_to is not None:
        fashion_mnist_check(source, confine_to=confine_to)
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


def fashion_mnist_check(source: str | Path, *, confine_to: Path) -> None:
    """Raise OutsideDataRoot if Fashion-MNIST's files in ``source`` lie outside
    ``confine_to`` or are symlinks, DataError if ``source`` is no folder there."""
    folder = confined_folder(source, confine_to)
    refused = 0
    for name in FASHION_MNIST_FILES:
        for candidate in (name, f"{name}.gz"):
            try:
                confine(folder / candidate, root=confine_to)
            except OutsideDataRoot:
                refused += 1
    if refused:
        raise OutsideDataRoot(refused)


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
