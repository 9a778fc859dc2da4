"""Training jobs read only regular files inside VITRINE_TRAINING_DATA_ROOT.

Every sample a job would read is checked, not only the folder it names: a CSV
row naming a file elsewhere, a symlinked file or folder in the tree, are refused
with one message that names no path, so an answer never tells which files exist
outside the folder. The worker checks again right before it reads.
"""

import shutil
import tempfile
from pathlib import Path

import pytest
from django.urls import reverse

from classification.ml.data import (
    ConfinedOpener,
    OutsideDataRoot,
    csv_manifest,
    image_folder,
)
from classification.models import Job, ModelVersion
from classification.services.training import TrainingError
from classification.services.training.jobs import training_job_start
from tests.api.conftest import assert_error, token_client
from tests.classification.synthetic import shape_image, shapes_folder

REFUSED = "outside the training data folder or symlinks"


@pytest.fixture
def elsewhere():
    """A folder outside the training data root, holding one real image."""
    folder = Path(tempfile.mkdtemp(prefix="vitrine-elsewhere-"))
    shape_image("red-circles", 99).save(folder / "x.png", "PNG")
    yield folder
    shutil.rmtree(folder)


@pytest.fixture
def staff_api(staff_user):
    return token_client(staff_user)


@pytest.fixture
def photos(tmp_path):
    """An ImageFolder of one class inside the training data root."""
    return shapes_folder(tmp_path / "photos", classes=("red-circles",), per_class=4)


def _csv(tmp_path: Path, photos: Path, extra: list[str]) -> Path:
    rows = ["file,kind"]
    rows += [f"{p.relative_to(photos)},{p.parent.name}" for p in photos.rglob("*.png")]
    rows += [f"{name},red-circles" for name in extra]
    labels = tmp_path / "labels.csv"
    labels.write_text("\n".join(rows) + "\n")
    return labels


def _csv_params(photos: Path, labels: Path) -> dict:
    return {
        "source": "csv",
        "data": str(photos),
        "labels": str(labels),
        "image_column": "file",
        "label_column": "kind",
    }


def test_a_manifest_row_naming_an_absolute_path_elsewhere_is_refused(
    tmp_path, photos, elsewhere, staff_user
):
    # One that exists and one that does not: the same answer for both.
    labels = _csv(tmp_path, photos, [str(elsewhere / "x.png"), "/nowhere/y.png"])
    with pytest.raises(TrainingError) as refused:
        training_job_start(params=_csv_params(photos, labels), user=staff_user)
    message = str(refused.value)
    assert message.startswith(f"2 files or folders are {REFUSED}")
    assert str(elsewhere) not in message and "nowhere" not in message
    assert not Job.objects.exists()


def test_a_manifest_row_climbing_out_with_dot_dot_is_refused(
    tmp_path, photos, elsewhere, staff_user
):
    climb = "../" * len(photos.parts) + str(elsewhere / "x.png").lstrip("/")
    assert (photos / climb).resolve() == (elsewhere / "x.png").resolve()
    labels = _csv(tmp_path, photos, [climb])
    with pytest.raises(TrainingError, match=f"1 file or folder is {REFUSED}"):
        training_job_start(params=_csv_params(photos, labels), user=staff_user)
    assert not Job.objects.exists()


def test_a_manifest_row_inside_the_root_but_through_a_symlink_is_refused(
    tmp_path, photos, elsewhere, staff_user
):
    (photos / "linked").symlink_to(elsewhere)
    labels = _csv(tmp_path, photos, ["linked/x.png"])
    with pytest.raises(TrainingError, match=REFUSED):
        training_job_start(params=_csv_params(photos, labels), user=staff_user)


def test_a_symlinked_labels_file_is_refused(tmp_path, photos, staff_user):
    labels = _csv(tmp_path, photos, [])
    (tmp_path / "link.csv").symlink_to(labels)
    with pytest.raises(TrainingError, match="inside the training data folder"):
        training_job_start(
            params=_csv_params(photos, tmp_path / "link.csv"), user=staff_user
        )


def test_a_symlinked_file_in_an_image_folder_is_refused(photos, elsewhere, staff_user):
    (photos / "red-circles" / "borrowed.png").symlink_to(elsewhere / "x.png")
    with pytest.raises(TrainingError, match=f"1 file or folder is {REFUSED}"):
        training_job_start(
            params={"source": "folder", "data": str(photos)}, user=staff_user
        )
    assert not Job.objects.exists()


@pytest.mark.parametrize("where", ["class", "nested"])
def test_a_symlinked_folder_in_an_image_folder_is_refused(
    photos, elsewhere, staff_user, where
):
    link = photos / "blue-squares" if where == "class" else photos / "red-circles/sub"
    link.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(TrainingError, match=REFUSED) as refused:
        training_job_start(
            params={"source": "folder", "data": str(photos)}, user=staff_user
        )
    assert str(elsewhere) not in str(refused.value)


def test_the_train_command_reads_what_its_operator_names(photos, elsewhere):
    """manage.py train_model is not limited to the root: no confine_to there."""
    (photos / "red-circles" / "borrowed.png").symlink_to(elsewhere / "x.png")
    assert len(image_folder(photos).samples) == 5
    with pytest.raises(OutsideDataRoot):
        image_folder(photos, confine_to=photos.parent.resolve())


def test_the_api_answers_400_without_telling_which_paths_exist(
    tmp_path, photos, elsewhere, staff_api
):
    answers = []
    for outside in (str(elsewhere / "x.png"), str(elsewhere / "missing.png")):
        labels = _csv(tmp_path, photos, [outside])
        response = staff_api.post(
            "/api/v1/models/train/",
            {"params": _csv_params(photos, labels)},
            format="json",
        )
        error = assert_error(response, 400, "invalid")
        assert str(elsewhere) not in response.content.decode()
        answers.append(error)
    assert answers[0] == answers[1]
    assert not Job.objects.exists()


def test_the_api_refuses_a_nul_in_a_path(staff_api, db):
    response = staff_api.post(
        "/api/v1/models/train/",
        {"params": {"source": "folder", "data": "photos\u0000"}},
        format="json",
    )
    assert_error(response, 400, "invalid")


def test_the_admin_form_shows_the_refusal_without_paths(
    admin_client, photos, elsewhere
):
    (photos / "red-circles" / "borrowed.png").symlink_to(elsewhere / "x.png")
    response = admin_client.post(
        reverse("admin:classification_modelversion_train"),
        {
            "source": "folder",
            "data": str(photos),
            "mode": "head",
            "seed": 0,
            "target_precision": 0.97,
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert REFUSED in page
    assert str(elsewhere) not in page
    assert not Job.objects.exists()


def test_the_worker_refuses_a_tree_that_changed_after_the_check(
    photos, elsewhere, staff_user, shape_categories, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        job = training_job_start(
            params={"source": "folder", "data": str(photos), "create_categories": True},
            user=staff_user,
        )
    # Between the check and the worker, a photo becomes a link to elsewhere.
    victim = photos / "red-circles" / "000.png"
    victim.unlink()
    victim.symlink_to(elsewhere / "x.png")
    for callback in callbacks:
        callback()
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert REFUSED in job.message
    assert str(elsewhere) not in job.message
    assert not ModelVersion.objects.filter(name__startswith="folder-").exists()


def test_reading_a_sample_checks_again_right_before_opening(photos, elsewhere):
    root = photos.parent.resolve()
    listed = image_folder(photos, confine_to=root)
    sample = listed.samples[0]
    assert sample.open().mode == "RGB"
    path = Path(sample.source)
    path.unlink()
    path.symlink_to(elsewhere / "x.png")
    with pytest.raises(OutsideDataRoot):
        sample.open()
    parent = path.parent
    shutil.rmtree(parent)
    parent.symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(OutsideDataRoot):
        ConfinedOpener(root)(str(parent / "x.png"))


def test_missing_rows_inside_the_root_are_still_skipped_and_counted(tmp_path, photos):
    labels = _csv(tmp_path, photos, ["missing.png"])
    listed = csv_manifest(
        photos,
        labels,
        image_column="file",
        label_column="kind",
        confine_to=tmp_path.resolve(),
    )
    assert len(listed.samples) == 4
    assert listed.skipped == [("missing.png", "file not found")]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"epochs": 10**30}, "epochs must be at most 1000"),
        ({"seed": 2**32}, "seed must be at most"),
    ],
)
def test_numbers_no_training_can_use_are_refused(staff_api, params, message):
    response = staff_api.post(
        "/api/v1/models/train/",
        {"params": {"source": "catalog", **params}},
        format="json",
    )
    error = assert_error(response, 400, "invalid")
    assert message in str(error["details"])
    assert not Job.objects.exists()
