"""Versions are exported to ONNX Runtime when registered, checked against
PyTorch, and served from the export only while it is the file that was checked."""

import hashlib
import uuid

import numpy as np
import pytest
import torch
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from classification.ml.artifacts import artifact_from_bytes
from classification.ml.efficientnet import linear_artifact
from classification.ml.inference import Classifier
from classification.models import ModelVersion
from classification.services.versions import (
    classifier_for,
    model_version_ensure_default,
    model_version_register,
)
from tests.images import photo

pytestmark = pytest.mark.django_db
CLASSES = ["apparel", "footwear", "eyewear"]


def fresh_artifact():
    """A linear head no earlier test has registered (its own checksum)."""
    generator = torch.Generator().manual_seed(uuid.uuid4().int % 2**31)
    return linear_artifact(
        classes=CLASSES,
        weight=torch.randn(3, 1280, generator=generator) * 0.05,
        bias=torch.zeros(3),
    )


@pytest.fixture
def photos():
    return [photo(name) for name in ("coffee", "chelsea", "astronaut")]


def test_the_default_version_is_served_by_its_checked_export(media_storage, photos):
    version = model_version_ensure_default()
    serving = version.serving
    assert serving["runtime"] == "onnxruntime"
    assert serving["photos"] == "generated probe images"
    assert serving["check"]["agrees"] is True
    assert serving["check"]["top1_agreement"] == 1.0
    assert serving["check"]["max_probability_difference"] < 1e-4
    with default_storage.open(serving["file"], "rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == serving["checksum"]

    served = classifier_for(version)
    assert served.runtime == "onnxruntime"
    with default_storage.open(version.artifact.name, "rb") as stored:
        eager = Classifier(artifact_from_bytes(stored.read(), sha256=version.checksum))
    for left, right in zip(served.predict(photos), eager.predict(photos), strict=True):
        assert left.top_k[0][0] == right.top_k[0][0]
        assert abs(left.top_k[0][1] - right.top_k[0][1]) < 1e-4


def test_the_check_runs_on_the_validation_photos_given(media_storage, photos):
    version = model_version_register(
        name="with-validation", artifact=fresh_artifact(), check_photos=photos
    )
    version.refresh_from_db()
    assert version.serving["photos"] == "validation photos"
    assert version.serving["check"]["photos"] == 3
    assert version.serving["runtime"] == "onnxruntime"


def test_an_altered_export_file_falls_back_to_pytorch_and_says_so(
    media_storage, photos
):
    version = model_version_register(name="rotten", artifact=fresh_artifact())
    key = version.serving["file"]
    with default_storage.open(key, "rb") as stored:
        data = bytearray(stored.read())
    data[len(data) // 2] ^= 0xFF  # one flipped byte in the stored file
    default_storage.delete(key)
    default_storage.save(key, ContentFile(bytes(data)))

    classifier = classifier_for(version)
    assert classifier.runtime == "pytorch"
    version.refresh_from_db()
    assert version.serving["runtime"] == "pytorch"
    assert "does not match its checksum" in version.serving["reason"]
    results = classifier.predict(photos)
    assert [len(r.embedding) for r in results] == [1280] * 3
    # The next load asks nothing of the bad file: the version is PyTorch's now.
    assert classifier_for(ModelVersion.objects.get(pk=version.pk)).runtime == "pytorch"


def test_a_missing_export_file_falls_back_to_pytorch(media_storage, photos):
    version = model_version_register(name="lost", artifact=fresh_artifact())
    default_storage.delete(version.serving["file"])
    assert classifier_for(version).runtime == "pytorch"
    version.refresh_from_db()
    assert "is missing" in version.serving["reason"]


def test_a_version_registered_before_exports_is_exported_on_first_use(
    media_storage, photos
):
    version = model_version_register(name="older", artifact=fresh_artifact())
    ModelVersion.objects.filter(pk=version.pk).update(serving={})
    version.refresh_from_db()
    assert classifier_for(version).runtime == "onnxruntime"
    version.refresh_from_db()
    assert version.serving["check"]["agrees"] is True
    assert np.isfinite(version.serving["check"]["max_probability_difference"])
