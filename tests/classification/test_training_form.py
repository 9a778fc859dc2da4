"""The admin's training form: the fields of each source with human labels,
errors beside their field, and a preview of the data before training."""

import pytest
from django.urls import reverse

from classification.models import Job
from tests.images import noise_png

URL = "admin:classification_modelversion_train"


@pytest.fixture
def photo_folder(tmp_path):
    """An ImageFolder: a known category by name, an unknown label, a broken file."""
    root = tmp_path / "shop-photos"
    for label, count in (("Footwear", 3), ("Kitchen & Drinkware", 2), ("gizmos", 2)):
        (root / label).mkdir(parents=True)
        for i in range(count):
            (root / label / f"{i}.png").write_bytes(noise_png(i))
    (root / "Footwear" / "broken.jpg").write_bytes(b"\xff\xd8 not really a JPEG")
    return root


def post(client, **fields):
    data = {"seed": 0, "target_precision": 0.97, "mode": "head", **fields}
    return client.post(reverse(URL), data)


def test_each_field_says_which_sources_it_belongs_to_with_human_labels(
    admin_client,
):
    page = admin_client.get(reverse(URL)).content.decode()
    assert 'class="form-row field-labels" data-sources="csv"' in page
    assert 'class="form-row field-val_data" data-sources="folder"' in page
    assert 'data-sources="folder csv fashion_mnist"' in page  # the data folder
    assert "Reviewed catalog photos" in page
    assert ">Column with the photo&#x27;s file name:</label>" in page
    assert "image_column:" not in page
    assert 'name="preview" value="Preview the data"' in page
    assert "js/training_form.js" in page


def test_the_preview_counts_photos_per_category_and_finds_problems(
    admin_client, photo_folder
):
    response = post(admin_client, source="folder", data=str(photo_folder), preview="")
    assert response.status_code == 200
    preview = response.context["preview"]
    counts = {c.label: (c.name, c.exists, c.images) for c in preview.categories}
    assert counts == {
        "Footwear": ("Footwear", True, 4),
        "Kitchen & Drinkware": ("Kitchen & Drinkware", True, 2),
        "gizmos": ("gizmos", False, 2),
    }
    assert preview.unknown_labels == ["gizmos"]
    assert preview.unreadable_count == 1
    assert preview.unreadable[0][0] == "Footwear/broken.jpg"
    page = " ".join(response.content.decode().split())
    assert "1 label name no category" in page
    assert "<code>Footwear/broken.jpg</code>" in page
    assert "8 photos in 3 categories" in page
    assert not Job.objects.exists(), "a preview starts nothing"


def test_with_create_categories_unknown_labels_are_no_problem(
    admin_client, photo_folder
):
    response = post(
        admin_client,
        source="folder",
        data=str(photo_folder),
        create_categories="on",
        preview="",
    )
    preview = response.context["preview"]
    assert preview.unknown_labels == ["gizmos"]
    assert preview.problems == []


def test_the_catalog_with_nothing_labelled_says_so_in_the_preview(admin_client):
    response = post(admin_client, source="catalog", preview="")
    assert response.status_code == 200
    assert "no labelled photos yet" in response.context["preview"].problems[0]


def test_a_missing_field_of_the_source_is_an_error_beside_that_field(
    admin_client, photo_folder
):
    response = post(
        admin_client, source="csv", data=str(photo_folder), image_column="file"
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {"labels": ["a csv training needs labels"]}
    page = response.content.decode()
    row = page.split('class="form-row field-labels errors"', 1)[1].split("form-row", 1)
    assert "a csv training needs labels" in row[0]
    assert not Job.objects.exists()


def test_a_folder_outside_the_training_data_is_an_error_beside_the_data_field(
    admin_client,
):
    response = post(admin_client, source="folder", data="/etc", preview="")
    form = response.context["form"]
    assert list(form.errors) == ["data"]
    assert "inside the training data folder" in form.errors["data"][0]


def test_fields_of_another_source_are_not_sent_to_the_training(
    admin_client, photo_folder, django_capture_on_commit_callbacks
):
    response = post(
        admin_client,
        source="folder",
        data=str(photo_folder),
        labels="left over from csv.csv",  # hidden once the source changed
        image_column="file",
        create_categories="on",
    )
    assert response.status_code == 302, response.context["form"].errors
    job = Job.objects.get(kind=Job.Kind.TRAIN)
    assert "labels" not in job.params
    assert "image_column" not in job.params


def test_the_api_previews_the_data_with_the_same_service(admin_client, photo_folder):
    response = admin_client.post(
        "/api/v1/models/train/preview/",
        {"params": {"source": "folder", "data": str(photo_folder)}},
        content_type="application/json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["images"] == 8
    assert body["unknown_labels"] == ["gizmos"]
    assert body["unreadable"] == [["Footwear/broken.jpg", body["unreadable"][0][1]]]
    assert not Job.objects.exists()


def test_the_api_preview_refuses_a_folder_outside_the_training_data(admin_client):
    response = admin_client.post(
        "/api/v1/models/train/preview/",
        {"params": {"source": "folder", "data": "/etc"}},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert "inside the training data folder" in error["details"]["params"][0]
