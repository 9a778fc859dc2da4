"""Classify a folder of image files with the active version (nightly batch jobs).

Nothing is stored in the catalog: results are plain data for the caller to write
out. Torch is imported lazily so web processes stay light.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from classification.models import ModelVersion
from classification.services.versions import (
    classifier_for,
    model_version_ensure_default,
)

# Images decoded and classified together; bounds the decoded photos in memory.
FOLDER_CHUNK = 32


@dataclass(frozen=True)
class FileResult:
    path: Path
    top_k: list[tuple[str, float]] = field(default_factory=list)
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


def folder_images(root: Path) -> tuple[list[Path], list[Path]]:
    """Return (image files, other files) under ``root``, sorted, without hidden ones."""
    from classification.ml.data import EXTENSIONS

    images, others = [], []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or any(
            p.startswith(".") for p in path.relative_to(root).parts
        ):
            continue
        (images if path.name.lower().endswith(EXTENSIONS) else others).append(path)
    return images, others


def folder_classify(
    *,
    paths: list[Path],
    version: ModelVersion | None = None,
    top_k: int = 3,
    progress: Callable[[int], None] | None = None,
) -> Iterator[FileResult]:
    """Yield one result per path, in order: its top-k labels, or why it failed.

    A file that cannot be read or decoded is a failed result, never an exception.
    """
    from classification.ml.data import UnreadableImage, open_rgb

    version = version or model_version_ensure_default()
    classifier = classifier_for(version)
    for start in range(0, len(paths), FOLDER_CHUNK):
        chunk = paths[start : start + FOLDER_CHUNK]
        decoded, results = [], {}
        for path in chunk:
            try:
                decoded.append((path, open_rgb(path)))
            except UnreadableImage as error:
                results[path] = FileResult(path, error=str(error))
        predictions = classifier.predict([image for _, image in decoded], top_k=top_k)
        for (path, _), prediction in zip(decoded, predictions, strict=True):
            results[path] = FileResult(path, top_k=prediction.top_k)
        for path in chunk:
            yield results[path]
        if progress is not None:
            progress(len(chunk))
