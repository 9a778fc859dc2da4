"""Training model versions: from folders, CSV files and the catalog; jobs."""

import dataclasses
import shutil

import pytest

from catalog.models import Category, CategorySource
from classification.models import Job, ModelVersion, Prediction, Review
from classification.services.intake import image_upload
from classification.services.training import TrainingError
from classification.services.training.jobs import training_job_start
from classification.services.training.labels import catalog_labels
from classification.services.training.params import TrainingParams
from classification.services.training.run import model_train
from classification.services.versions import (
    model_version_activate,
    model_version_ensure_default,
    model_version_rollback,
)
from tests.catalog.factories import ProductFactory, upload
from tests.classification.synthetic import shape_image, shapes_folder
from tests.images import encode


def test_the_whole_lifecycle_train_activate_predict_roll_back(
    shapes_dir, merchant, staff_user, django_capture_on_commit_callbacks
):
    default = model_version_ensure_default()
    version = model_train(
        params={"source": "folder", "data": str(shapes_dir), "create_categories": True},
        user=staff_user,
    )
    assert version.status == ModelVersion.Status.READY
    assert version.created_by == staff_user
    assert version.classes == ["blue-squares", "green-triangles", "red-circles"]
    assert version.metrics["accuracy"] >= 0.99
    assert version.metrics["measured_on"] == "test"
    assert set(version.training["split"]["counts"]) == {"train", "val", "test"}
    assert version.training["hyperparameters"]["mode"] == "head"
    assert version.training["hyperparameters"]["class_balanced"] is False
    assert version.training["training_seconds"] > 0
    assert Category.objects.filter(slug="red-circles").exists()

    model_version_activate(version=version)
    product = ProductFactory(merchant=merchant)
    with django_capture_on_commit_callbacks(execute=True):
        image, _ = image_upload(
            product=product,
            upload=upload(encode(shape_image("blue-squares", 777), "PNG"), "s.png"),
            user=None,
        )
    prediction = Prediction.objects.get(image=image, is_current=True)
    assert prediction.model_version == version
    assert prediction.category.slug == "blue-squares"
    assert prediction.top_k[0]["category"] == "blue-squares"

    assert model_version_rollback(user=staff_user) == default
    version.refresh_from_db()
    default.refresh_from_db()
    assert default.status == ModelVersion.Status.ACTIVE
    assert version.status == ModelVersion.Status.RETIRED


def test_unknown_categories_are_refused_before_training(shapes_dir, db):
    with pytest.raises(TrainingError, match="unknown categories: blue-squares"):
        model_train(params={"source": "folder", "data": str(shapes_dir)})
    assert not ModelVersion.objects.exclude(name="imagenet-taxonomy-v1").exists()


def test_a_csv_manifest_trains_with_existing_categories_by_name(
    tmp_path, shape_categories
):
    folder = tmp_path / "photos"
    shapes_folder(folder, per_class=5)
    rows = ["file,kind"]
    for path in sorted(folder.rglob("*.png")):
        # Category names, not slugs: "Red Circles" is the red-circles category.
        rows.append(
            f"{path.relative_to(folder)},{path.parent.name.replace('-', ' ').title()}"
        )
    rows.append("missing.png,Red Circles")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")
    version = model_train(
        params={
            "source": "csv",
            "data": str(folder),
            "labels": str(tmp_path / "labels.csv"),
            "image_column": "file",
            "label_column": "kind",
            "name": "from-csv",
        }
    )
    assert version.name == "from-csv"
    assert version.classes == sorted(shape_categories)
    assert version.metrics["skipped"]["count"] == 1
    assert version.metrics["skipped"]["examples"][0]["reason"] == "file not found"


def test_a_validation_folder_is_halved_into_validation_and_test(
    tmp_path, shape_categories
):
    train, val = tmp_path / "train", tmp_path / "val"
    shapes_folder(train, per_class=5, seed=1)
    shapes_folder(val, per_class=4, seed=2)
    version = model_train(
        params={"source": "folder", "data": str(train), "val_data": str(val), "seed": 3}
    )
    assert version.training["split"]["counts"] == {"train": 15, "val": 6, "test": 6}
    assert all(
        name.startswith(("red-", "blue-", "green-"))
        for name in version.training["split"]["items"]["train"]
    )


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"source": "nowhere"}, "source must be one of"),
        ({"source": "folder"}, "needs data"),
        ({"source": "csv", "data": "/tmp"}, "needs labels"),
        ({"mode": "everything"}, "mode must be one of"),
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"epochs": 0}, "epochs must be at least 1"),
        ({"colour": "red"}, "unknown parameters: colour"),
        ({"target_precision": 1.5}, "target_precision"),
        ({"activate": "false"}, "activate must be true or false"),
        ({"class_balanced": "yes"}, "class_balanced must be true or false"),
    ],
)
def test_invalid_training_parameters_are_refused(params, message, db):
    with pytest.raises(TrainingError, match=message):
        TrainingParams.from_input(params)


def test_training_parameters_fill_in_defaults_and_store_only_what_is_set(db):
    params = TrainingParams.from_input({"source": "folder", "data": " photos "})
    assert (params.mode, params.seed, params.epochs) == ("head", 0, None)
    assert params.target_precision == 0.97
    assert params.as_dict() == {
        "source": "folder",
        "data": "photos",
        "mode": "head",
        "seed": 0,
        "create_categories": False,
        "activate": False,
        "target_precision": 0.97,
        "class_balanced": False,
    }
    assert TrainingParams.from_input(params.as_dict()) == params
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed = 1


def test_a_name_already_taken_is_refused(shapes_version):
    with pytest.raises(TrainingError, match="exists already"):
        TrainingParams.from_input({"name": shapes_version.name})


def test_a_training_job_runs_on_commit_and_records_its_version(
    shapes_dir, staff_user, shape_categories, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        job = training_job_start(
            params={"source": "folder", "data": str(shapes_dir), "activate": True},
            user=staff_user,
        )
    job.refresh_from_db()
    assert job.kind == Job.Kind.TRAIN
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert job.progress == 1.0
    assert job.model_version.status == ModelVersion.Status.ACTIVE
    assert job.result["version_id"] == job.model_version.pk
    assert job.result["accuracy"] >= 0.99
    assert job.started_at and job.finished_at

    # Running the task again for the same job changes nothing.
    from classification.tasks import train_model_task

    train_model_task.apply(args=[job.pk])
    assert ModelVersion.objects.filter(pk__gt=job.model_version.pk).count() == 0


def test_a_training_job_that_fails_records_the_reason(
    tmp_path, staff_user, shape_categories, django_capture_on_commit_callbacks
):
    folder = shapes_folder(tmp_path / "gone", per_class=2)
    with django_capture_on_commit_callbacks() as callbacks:
        job = training_job_start(
            params={"source": "folder", "data": str(folder)}, user=staff_user
        )
    shutil.rmtree(folder)  # the data disappears before a worker picks the job up
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert "is not a folder" in job.message
    assert job.finished_at is not None


def test_starting_a_job_with_a_missing_folder_is_refused_at_once(staff_user, db):
    with pytest.raises(TrainingError, match="is not a folder"):
        training_job_start(
            params={"source": "folder", "data": "nonexistent/photos"}, user=staff_user
        )
    assert not Job.objects.exists()


@pytest.fixture
def catalog_images(merchant, shape_categories, staff_user):
    """Six stored shape photos per category, labelled by their merchant."""
    images = {}
    for c, (slug, category) in enumerate(shape_categories.items()):
        for i in range(6):
            product = ProductFactory(
                merchant=merchant,
                category=category,
                category_source=CategorySource.MERCHANT,
            )
            image, _ = image_upload(
                product=product,
                upload=upload(
                    encode(shape_image(slug, 300 + 10 * c + i), "PNG"), "p.png"
                ),
                user=staff_user,
            )
            images.setdefault(slug, []).append(image)
    return images


def test_catalog_labels_prefer_a_reviewers_correction_to_the_merchant(
    catalog_images, shapes_version, shape_categories, staff_user
):
    image = catalog_images["red-circles"][0]
    prediction = Prediction.objects.create(
        image=image,
        model_version=shapes_version,
        category=shape_categories["red-circles"],
        status=Prediction.Status.CORRECTED,
    )
    Review.objects.create(
        prediction=prediction,
        reviewer=staff_user,
        decision=Review.Decision.CORRECTED,
        final_category=shape_categories["blue-squares"],
    )
    unlabelled = ProductFactory(merchant=image.merchant)  # no category: not a label
    image_upload(
        product=unlabelled,
        upload=upload(encode(shape_image("red-circles", 1), "PNG"), "u.png"),
        user=None,
    )
    labels = catalog_labels()
    assert labels[image.pk] == shape_categories["blue-squares"].pk
    assert len(labels) == 18


def test_training_from_the_catalog_reuses_stored_embeddings(
    catalog_images, shapes_version
):
    import numpy as np

    from classification.ml.backbone import EMBEDDING_DIM

    default = model_version_ensure_default()
    image = catalog_images["green-triangles"][0]
    Prediction.objects.create(
        image=image,
        model_version=default,
        status=Prediction.Status.NEEDS_REVIEW,
        embedding=np.full(EMBEDDING_DIM, 0.5, dtype=np.float32).tobytes(),
    )
    version = model_train(params={"source": "catalog", "seed": 1})
    assert version.training["features_reused"] == 1
    assert version.training["source"]["images"] == 18
    every = [i for ids in version.training["split"]["items"].values() for i in ids]
    assert sorted(every) == sorted(
        i.pk for imgs in catalog_images.values() for i in imgs
    )
    assert version.metrics["accuracy"] >= 0.8


def test_an_empty_catalog_cannot_train(db):
    with pytest.raises(TrainingError, match="no labelled photos"):
        model_train(params={"source": "catalog"})


def test_the_same_seed_trains_the_same_artifact(shapes_dir, shape_categories):
    params = {"source": "folder", "data": str(shapes_dir), "seed": 5}
    first = model_train(params={**params, "name": "first"})
    second = model_train(params={**params, "name": "second"})
    other = model_train(params={**params, "name": "other", "seed": 6})
    assert first.checksum == second.checksum
    assert first.training["split"] == second.training["split"]
    assert other.training["split"] != first.training["split"]


@pytest.mark.parametrize("key", ["data", "labels"])
def test_a_training_job_cannot_read_outside_the_training_data_folder(
    staff_user, training_data_root, key
):
    from classification.models import Job
    from classification.services.training import TrainingError
    from classification.services.training.jobs import training_job_start

    params = {
        "source": "csv",
        "data": "shapes",
        "labels": "labels.csv",
        "image_column": "id",
        "label_column": "label",
        key: "/etc",
    }
    with pytest.raises(TrainingError, match="inside the training data folder"):
        training_job_start(params=params, user=staff_user)
    params[key] = "../../../etc"
    with pytest.raises(TrainingError, match="inside the training data folder"):
        training_job_start(params=params, user=staff_user)
    assert not Job.objects.exists()
