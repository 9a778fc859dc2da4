"""The model lifecycle commands: train, evaluate, activate, roll back,
re-classify and classify a folder."""

import csv
import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from classification.models import Job, ModelVersion
from classification.services.versions import model_version_ensure_default
from tests.classification.synthetic import shape_image, shapes_folder


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def train(*args: str) -> tuple[dict, ModelVersion]:
    """Run train_model without its progress bar; return its summary and the
    version it registered."""
    out, _ = run("train_model", *args, "--no-progress")
    summary = last_json(out)
    return summary, ModelVersion.objects.get(pk=summary["version_id"])


def test_train_model_ends_its_output_with_a_json_summary(shapes_dir, db):
    summary, version = train(
        "--data",
        str(shapes_dir),
        "--create-categories",
        "--name",
        "shapes-cmd",
        "--seed",
        "2",
        "--activate",
        "--class-balanced",
    )
    assert version.name == "shapes-cmd"
    assert version.status == ModelVersion.Status.ACTIVE
    assert summary["accuracy"] == version.metrics["accuracy"] >= 0.99
    assert summary["metrics"]["test"]["confusion_matrix"]
    assert summary["split"] == version.training["split"]["counts"]
    assert version.training["hyperparameters"]["class_balanced"] is True


def test_train_model_refuses_unknown_categories_and_missing_folders(
    shapes_dir, tmp_path, db
):
    with pytest.raises(CommandError, match="unknown categories"):
        run("train_model", "--data", str(shapes_dir), "--no-progress")
    with pytest.raises(CommandError, match="is not a folder"):
        run("train_model", "--data", str(tmp_path / "nowhere"), "--no-progress")
    with pytest.raises(CommandError, match="--labels needs"):
        run("train_model", "--data", str(tmp_path), "--labels", "x.csv")


def test_train_model_counts_unreadable_images_and_goes_on(tmp_path, shape_categories):
    folder = shapes_folder(tmp_path / "data", per_class=5)
    (folder / "red-circles" / "torn.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short")
    out, err = run("train_model", "--data", str(folder), "--seed", "1")
    summary = last_json(out)
    assert summary["skipped"] == 1
    # The progress bar goes to stderr, stdout keeps the summary last.
    assert "100%" in err and "Registered" in err


def test_evaluate_model_writes_metrics_with_accuracy(shapes_version, tmp_path):
    folder = shapes_folder(tmp_path / "eval", per_class=3, seed=7)
    (folder / "unknown-things").mkdir()
    shape_image("red-circles", 1).save(folder / "unknown-things" / "x.png")
    target = tmp_path / "metrics.json"
    out, _ = run(
        "evaluate_model",
        "--version",
        str(shapes_version.pk),
        "--data",
        str(folder),
        "--json",
        str(target),
        "--save",
        "--no-progress",
    )
    written = json.loads(target.read_text())
    assert written["accuracy"] == last_json(out)["accuracy"] == 1.0
    assert written["count"] == 9
    assert written["unknown_classes"] == ["unknown-things"]
    assert written["per_class"]["red-circles"]["support"] == 3
    shapes_version.refresh_from_db()
    assert shapes_version.metrics["evaluations"][-1]["accuracy"] == 1.0


def test_evaluate_model_of_an_unknown_version_fails(db, tmp_path):
    with pytest.raises(CommandError, match="No model version"):
        run("evaluate_model", "--version", "404", "--data", str(tmp_path))


def test_activate_and_roll_back_commands(shapes_version):
    default = model_version_ensure_default()
    out, _ = run("activate_model", shapes_version.name)
    assert "is active" in out
    shapes_version.refresh_from_db()
    assert shapes_version.status == ModelVersion.Status.ACTIVE
    out, _ = run("rollback_model")
    default.refresh_from_db()
    assert default.status == ModelVersion.Status.ACTIVE
    with pytest.raises(CommandError, match="No model version"):
        run("activate_model", "nope")


def test_rollback_model_without_history_fails(db):
    model_version_ensure_default()
    with pytest.raises(CommandError, match="nothing to roll back"):
        run("rollback_model")


def test_reclassify_command_runs_a_job_and_prints_its_counts(shapes_version):
    out, _ = run("reclassify", "--all")
    summary = last_json(out)
    job = Job.objects.get(pk=summary["job_id"])
    assert job.kind == Job.Kind.RECLASSIFY
    assert job.params == {"only_unseen": False}
    assert summary["total"] == 0


@pytest.fixture
def folder_of_photos(tmp_path):
    folder = tmp_path / "incoming"
    (folder / "sub").mkdir(parents=True)
    shape_image("red-circles", 11).save(folder / "a.png")
    shape_image("blue-squares", 12).save(folder / "sub" / "b.png")
    (folder / "broken.jpg").write_bytes(b"not a photo")
    (folder / "readme.txt").write_text("ignored")
    return folder


def test_classify_folder_writes_a_row_per_image_and_a_summary(
    shapes_version, folder_of_photos, tmp_path
):
    out_csv, summary_json = tmp_path / "out.csv", tmp_path / "summary.json"
    with pytest.raises(SystemExit) as exit_info:
        run(
            "classify_folder",
            str(folder_of_photos),
            "--csv",
            str(out_csv),
            "--json",
            str(summary_json),
            "--version",
            str(shapes_version.pk),
            "--sort-into",
            str(tmp_path / "sorted"),
            "--no-progress",
        )
    # One of three images failed: above the default 5 % allowed.
    assert exit_info.value.code == 3
    rows = {r["path"]: r for r in csv.DictReader(out_csv.open())}
    assert set(rows) == {"a.png", "broken.jpg", "sub/b.png"}
    assert rows["a.png"]["label"] == "red-circles"
    assert rows["a.png"]["top3"].startswith("red-circles:")
    assert len(rows["a.png"]["top3"].split(";")) == 3
    assert rows["sub/b.png"]["label"] == "blue-squares"
    assert rows["broken.jpg"]["status"] == "failed"
    assert rows["broken.jpg"]["error"]
    summary = json.loads(summary_json.read_text())
    assert summary["total"] == 3 and summary["failed"] == 1
    assert summary["failure_rate"] == pytest.approx(1 / 3, abs=1e-4)
    assert summary["per_category"] == {"blue-squares": 1, "red-circles": 1}
    assert summary["ignored_files"] == 1
    assert (tmp_path / "sorted" / "red-circles" / "a.png").exists()
    assert (tmp_path / "sorted" / "_failed" / "broken.jpg").exists()


def test_classify_folder_exits_zero_when_failures_are_within_the_limit(
    shapes_version, folder_of_photos, tmp_path
):
    out, _ = run(
        "classify_folder",
        str(folder_of_photos),
        "--csv",
        str(tmp_path / "out.csv"),
        "--version",
        shapes_version.name,
        "--max-failure-rate",
        "0.5",
        "--no-progress",
    )
    assert last_json(out)["classified"] == 2


def test_classify_folder_refuses_a_missing_folder(db, tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        run("classify_folder", str(tmp_path / "nope"), "--csv", str(tmp_path / "o.csv"))


def test_train_model_from_fashion_mnist_files(tmp_path, db):
    from tests.classification.ml.test_data import _write_idx

    rng = np.random.default_rng(0)
    labels = (np.arange(60) % 10).astype(np.uint8)
    images = rng.integers(0, 256, (60, 28, 28), dtype=np.uint8)
    _write_idx(tmp_path, "train", images, labels)
    _write_idx(tmp_path, "t10k", images[:20], labels[:20])
    with pytest.raises(CommandError, match="unknown categories: T-shirt/top"):
        run("train_model", "--fashion-mnist", str(tmp_path), "--no-progress")
    summary, version = train(
        "--fashion-mnist", str(tmp_path), "--create-categories", "--epochs", "1"
    )
    assert version.architecture == "fashion_cnn"
    assert version.classes[:2] == ["t-shirttop", "trouser"]
    assert summary["split"] == {"train": 50, "val": 10, "test": 20}
    assert summary["measured_on"] == "test"
    # The registered artifact loads and classifies a grayscale picture.
    from PIL import Image

    from classification.services.versions import classifier_for

    result = classifier_for(version).predict([Image.fromarray(images[0], "L")])[0]
    assert result.top_k[0][0] in version.classes


def test_activate_model_refuses_a_version_that_cannot_predict_a_category_in_use(
    shapes_version,
):
    from catalog.models import Category
    from tests.catalog.factories import ProductFactory

    model_version_ensure_default()
    ProductFactory(category=Category.objects.get(slug="apparel"))
    with pytest.raises(CommandError, match=r"cannot predict 1 categories.*--confirm"):
        run("activate_model", shapes_version.name)
    shapes_version.refresh_from_db()
    assert shapes_version.status == ModelVersion.Status.READY
    out, _ = run("activate_model", shapes_version.name, "--confirm")
    assert "is active" in out
