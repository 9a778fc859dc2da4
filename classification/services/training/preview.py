"""What a training would read, shown before it starts: images per category,
labels that name no category, files that cannot be read.

The admin's training form and ``POST /api/v1/models/train/preview/`` show it, so
that a wrong folder, a misspelt label or a folder of broken files shows in
seconds rather than after minutes of training. Paths are confined as a job's
are (``training_data_confine``). Images are opened, as training opens them, up
to ``PREVIEW_OPEN_LIMIT``; beyond that the preview says how many it opened.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from catalog.models import Category
from classification.services.training import TrainingError
from classification.services.training.data import (
    _prepare_catalog,
    fashion_mnist_staged,
    training_data_confine,
    training_data_list,
)
from classification.services.training.labels import labels_to_slugs
from classification.services.training.params import TrainingParams

# Opening an image costs 5-20 ms: a preview of 1,000 takes seconds.
PREVIEW_OPEN_LIMIT = 1000
# Unreadable or skipped files named one by one; the rest are counted.
LISTED = 20


@dataclass(frozen=True)
class CategoryCount:
    label: str  # as the data names it
    slug: str
    name: str  # the category's name, or the label for one to create
    exists: bool
    images: int


@dataclass(frozen=True)
class TrainingPreview:
    source: str
    images: int
    categories: list[CategoryCount]
    unknown_labels: list[str]
    opened: int  # images opened to look for unreadable ones
    unreadable: list[tuple[str, str]]  # (file, reason), the first LISTED
    unreadable_count: int
    skipped: list[tuple[str, str]] = field(default_factory=list)  # while listing
    skipped_count: int = 0
    problems: list[str] = field(default_factory=list)  # what would stop it

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def training_preview(*, params: Mapping, data_root: Path) -> TrainingPreview:
    """Check ``params`` as a job would and describe the data it would read.

    Raise TrainingError for parameters a job would refuse (a path outside the
    training data folder, a missing field); what the data itself lacks (unknown
    labels, fewer than two categories) is listed in ``problems``.
    """
    checked = training_data_confine(
        params=TrainingParams.from_input(params), root=data_root
    )
    if checked.source == "catalog":
        return _preview_catalog(checked)
    if checked.source == "fashion_mnist":
        return _preview_fashion_mnist(checked, data_root)
    from classification.ml.paths import DataError

    try:
        data, val = training_data_list(params=checked, data_root=data_root)
    except DataError as error:  # the tree changed since the check just made
        raise TrainingError(str(error), param="data") from error
    samples = data.samples + (val.samples if val is not None else [])
    skipped = data.skipped + (val.skipped if val is not None else [])
    counts = Counter(s.label for s in samples)
    return _preview(
        checked,
        counts=counts,
        samples=samples,
        skipped=skipped,
        root=Path(checked.data),
    )


def _preview(params, *, counts: Counter, samples, skipped, root) -> TrainingPreview:
    from classification.ml.data import UnreadableImage

    mapping, _ = labels_to_slugs(sorted(counts))
    names = dict(
        Category.objects.filter(slug__in=mapping.values()).values_list("slug", "name")
    )
    categories = [
        CategoryCount(
            label=label,
            slug=slug,
            name=names.get(slug, label),
            exists=slug in names,
            images=counts[label],
        )
        for label, slug in mapping.items()
    ]
    unknown = [c.label for c in categories if not c.exists]
    unreadable = []
    opened = samples[:PREVIEW_OPEN_LIMIT]
    for sample in opened:
        try:
            sample.open()
        except UnreadableImage as error:
            unreadable.append((_shown(sample.source, root), str(error)))
    problems = []
    if unknown and not params.create_categories:
        problems.append(
            f"{len(unknown)} label{'s' if len(unknown) != 1 else ''} name no "
            "category: create the categories first, or tick “Create unknown "
            "categories”."
        )
    if len(categories) < 2:
        problems.append("A model needs photos of two categories at least.")
    if unreadable and len(unreadable) == len(opened):
        problems.append("None of the files opened could be read.")
    return TrainingPreview(
        source=params.source,
        images=sum(counts.values()),
        categories=categories,
        unknown_labels=unknown,
        opened=len(opened),
        unreadable=unreadable[:LISTED],
        unreadable_count=len(unreadable),
        skipped=[(_shown(f, root), why) for f, why in skipped[:LISTED]],
        skipped_count=len(skipped),
        problems=problems,
    )


def _preview_catalog(params: TrainingParams) -> TrainingPreview:
    try:
        prepared = _prepare_catalog(params)
    except TrainingError as error:
        return TrainingPreview(
            source="catalog",
            images=0,
            categories=[],
            unknown_labels=[],
            opened=0,
            unreadable=[],
            unreadable_count=0,
            problems=[str(error)],
        )
    counts = Counter(s.label for s in prepared.samples)
    return _preview(
        params, counts=counts, samples=prepared.samples, skipped=[], root=None
    )


def _preview_fashion_mnist(params: TrainingParams, data_root: Path) -> TrainingPreview:
    from classification.ml.fashion_data import fashion_mnist_load
    from classification.ml.paths import DataError

    try:
        with fashion_mnist_staged(source=Path(params.data), data_root=data_root) as (
            root,
            names,
        ):
            _, labels, _ = fashion_mnist_load(root, train=True)
    except DataError as error:
        raise TrainingError(str(error), param="data") from error
    per_class = Counter(int(label) for label in labels)
    counts = Counter({name: per_class[index] for index, name in enumerate(names)})
    return _preview(params, counts=counts, samples=[], skipped=[], root=None)


def _shown(path: str, root: Path | None) -> str:
    """A file's name relative to the data folder (a catalog key as it is)."""
    if root is None:
        return path
    try:
        return str(Path(path).resolve().relative_to(root.resolve()))
    except ValueError:
        return Path(path).name
