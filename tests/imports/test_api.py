"""The import API: an asynchronous job with progress and a CSV report."""

import csv
import io

import pytest
from django.urls import reverse

from catalog.models import ProductImage
from classification.models import Prediction
from imports.models import ImportJob
from imports.services import import_job_run
from tests.api.conftest import token_client
from tests.images import photo_jpeg, solid_jpeg
from tests.imports.archives import as_upload, catalog_zip

pytestmark = pytest.mark.django_db
URL = "/api/v1/imports/"


def _zip():
    rows = [
        ["A-1", "Cup", "", "", "", "cup.jpg"],
        ["A-2", '=HYPERLINK("x")', "", "", "nowhere", ""],
        ["A-3", "Lost", "", "", "", "lost.jpg"],
    ]
    return catalog_zip(rows, {"cup.jpg": solid_jpeg()})


def test_an_upload_answers_a_queued_job_and_then_its_progress_and_report(
    merchant_api, merchant
):
    response = merchant_api.post(
        URL, {"file": as_upload(_zip(), "shop.zip")}, format="multipart"
    )

    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["source"], body["rows_total"]) == ("queued", "zip", 3)
    assert body["original_name"] == "shop.zip"
    import_job_run(job_id=body["id"])

    job = merchant_api.get(f"{URL}{body['id']}/").json()
    assert (job["status"], job["progress"], job["failures"]) == ("succeeded", 1.0, 2)
    assert (job["products_created"], job["images_created"]) == (2, 1)
    report = merchant_api.get(job["report_url"])
    assert report.status_code == 200
    assert report["Content-Type"].startswith("text/csv")
    assert "attachment" in report["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(report.content.decode())))
    assert [(line["row"], line["sku"], line["code"]) for line in lines] == [
        ("2", "A-2", "unknown_category"),
        ("3", "A-3", "not_in_archive"),
    ]
    assert merchant_api.get(URL).json()["results"][0]["id"] == body["id"]


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"not a catalog at all", "x.csv", 400, "csv_invalid"),
        (b"PK\x03\x04 broken", "x.zip", 400, "csv_invalid"),
    ],
)
def test_a_bad_file_answers_an_error_with_a_code_and_stores_nothing(
    merchant_api, data, name, status, code
):
    response = merchant_api.post(
        URL, {"file": as_upload(data, name)}, format="multipart"
    )

    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert not ImportJob.objects.exists()


def test_a_traversal_zip_answers_400_unsafe_name(merchant_api):
    data = catalog_zip([["A", "A", "", "", "", "../a.jpg"]], {"../a.jpg": solid_jpeg()})
    response = merchant_api.post(
        URL, {"file": as_upload(data, "x.zip")}, format="multipart"
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "unsafe_name"


def test_a_file_over_the_limit_answers_413(merchant_api, settings):
    settings.VITRINE_IMPORT_MAX_FILE_BYTES = 100
    response = merchant_api.post(
        URL, {"file": as_upload(_zip(), "x.zip")}, format="multipart"
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


def test_no_file_answers_400(merchant_api):
    response = merchant_api.post(URL, {}, format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()["error"]["details"]


def test_another_merchants_import_is_not_found(merchant_api, other_membership):
    other_api = token_client(other_membership.user)
    job_id = merchant_api.post(
        URL, {"file": as_upload(_zip(), "x.zip")}, format="multipart"
    ).json()["id"]

    assert other_api.get(f"{URL}{job_id}/").status_code == 404
    assert other_api.get(f"{URL}{job_id}/report/").status_code == 404
    assert other_api.get(URL).json()["results"] == []


def test_the_worker_imports_and_classifies_each_photo_through_intake(
    merchant_api, django_capture_on_commit_callbacks
):
    data = catalog_zip(
        [["COFFEE", "Coffee", "", "", "", "coffee.jpg"]],
        {"coffee.jpg": photo_jpeg("coffee")},
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_api.post(
            URL, {"file": as_upload(data, "x.zip")}, format="multipart"
        )

    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportJob.Status.SUCCEEDED
    image = ProductImage.objects.get()
    assert Prediction.objects.filter(image=image).exists()
    assert reverse("api:import-report", kwargs={"pk": job.pk}).endswith("/report/")


def test_a_file_streamed_to_disk_by_the_upload_is_imported(merchant_api, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # every upload goes to a temporary file
    response = merchant_api.post(
        URL, {"file": as_upload(_zip(), "big.zip")}, format="multipart"
    )
    assert response.status_code == 202, response.content

    job = import_job_run(job_id=response.json()["id"])
    assert (job.status, job.products_created, job.images_created) == ("succeeded", 2, 1)
