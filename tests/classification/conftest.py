"""Fixtures of the classification tests."""

from tests.classification.training_fixtures import (  # noqa: F401
    shape_categories,
    shapes_artifact,
    shapes_dir,
    shapes_version,
)
