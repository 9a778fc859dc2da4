"""A trained tiny model, shared by the training, versions and command tests.

Training with the real backbone takes seconds, so it happens once per session;
each test registers the artifact in its own database.
"""

from pathlib import Path

import pytest

from tests.classification.synthetic import SHAPES, shapes_folder


@pytest.fixture(scope="session")
def shapes_dir(tmp_path_factory) -> Path:
    """An ImageFolder of three shape classes, eight images each."""
    return shapes_folder(tmp_path_factory.mktemp("shapes"), per_class=8)


@pytest.fixture(scope="session")
def shapes_artifact(shapes_dir):
    """(artifact, metrics) of a head trained on ``shapes_dir``."""
    from classification.ml.data import image_folder, stratified_split
    from classification.ml.training import train_classifier

    data = image_folder(shapes_dir)
    split = stratified_split(data.labels(), seed=0)
    result = train_classifier(data.samples, data.classes, split, seed=0)
    return result.artifact, result.metrics


@pytest.fixture
def shape_categories(db):
    from catalog.models import Category

    return {
        slug: Category.objects.get_or_create(
            slug=slug, defaults={"name": slug.replace("-", " ").title()}
        )[0]
        for slug in SHAPES
    }


@pytest.fixture
def shapes_version(shapes_artifact, shape_categories):
    """A registered (not active) version trained on the shapes."""
    from classification.services.versions import model_version_register

    artifact, metrics = shapes_artifact
    return model_version_register(
        name="shapes-v1", artifact=artifact, metrics=metrics, training={"mode": "head"}
    )
