"""Measure a stored model version on a labelled folder.

Torch is imported lazily so web processes stay light.
"""

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from classification.models import ModelVersion
from classification.services.training.labels import labels_to_slugs
from classification.services.versions import classifier_for

logger = logging.getLogger(__name__)

# Images decoded and classified together: the classifier's own batch size is
# smaller; this only bounds how many decoded photos sit in memory.
EVALUATION_CHUNK = 64
# Evaluations kept in a version's metrics, newest last.
EVALUATIONS_KEPT = 10


def model_version_evaluate(
    *,
    version: ModelVersion,
    data_dir: str | Path,
    save: bool = False,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, Any]:
    """Classify every image of an ImageFolder and measure ``version`` on it.

    Sub-folders whose category the version does not know are left out and named
    in ``unknown_classes``; unreadable images are skipped and counted. Return the
    metrics of ``classification.ml.evaluation.classification_metrics`` plus
    those counts; with ``save``, also keep them in the version's metrics.
    """
    import numpy as np

    from classification.ml.data import UnreadableImage, image_folder
    from classification.ml.evaluation import classification_metrics

    report = progress or (lambda fraction, message: None)
    data = image_folder(data_dir)
    mapping, _ = labels_to_slugs(data.classes)
    index = {slug: i for i, slug in enumerate(version.classes)}
    unknown = sorted({label for label, slug in mapping.items() if slug not in index})
    samples = [s for s in data.samples if mapping[s.label] in index]
    classifier = classifier_for(version)
    probs, truth, skipped = [], [], list(data.skipped)
    for start in range(0, len(samples), EVALUATION_CHUNK):
        images, labels = [], []
        for sample in samples[start : start + EVALUATION_CHUNK]:
            try:
                images.append(sample.open())
            except UnreadableImage as error:
                skipped.append((sample.source, str(error)))
                continue
            labels.append(index[mapping[sample.label]])
        for result, label in zip(
            classifier.predict(images, top_k=len(version.classes)), labels, strict=True
        ):
            row = np.zeros(len(version.classes))
            for slug, p in result.top_k:
                row[index[slug]] = p
            probs.append(row)
            truth.append(label)
        done = min(start + EVALUATION_CHUNK, len(samples))
        report(done / max(len(samples), 1), f"{done}/{len(samples)} images")
    probs_array = np.stack(probs) if probs else np.zeros((0, len(version.classes)))
    metrics = classification_metrics(
        probs_array, np.array(truth, dtype=np.int64), version.classes
    )
    metrics.update(
        {
            "version_id": version.pk,
            "version": version.name,
            "data": str(Path(data_dir).resolve()),
            "unknown_classes": unknown,
            "unknown_class_images": len(data.samples) - len(samples),
            "skipped": {
                "count": len(skipped),
                "examples": [{"source": s, "reason": r} for s, r in skipped[:50]],
            },
            "evaluated_at": timezone.now().isoformat(),
        }
    )
    if save:
        _evaluation_store(version_id=version.pk, metrics=metrics)
    return metrics


@transaction.atomic
def _evaluation_store(*, version_id: int, metrics: dict[str, Any]) -> None:
    version = ModelVersion.objects.select_for_update().get(pk=version_id)
    stored = dict(version.metrics or {})
    kept = [*stored.get("evaluations", []), metrics][-EVALUATIONS_KEPT:]
    stored["evaluations"] = kept
    version.metrics = stored
    version.save(update_fields=["metrics"])
