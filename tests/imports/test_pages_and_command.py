"""The import pages (upload, then a live job page) and manage.py import_catalog."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import Product
from imports.models import ImportJob
from imports.services import import_job_run
from tests.images import solid_jpeg
from tests.imports.archives import as_upload, catalog_zip

pytestmark = pytest.mark.django_db


def _zip():
    return catalog_zip(
        [["S-1", "Stool", "", "20", "", "stool.jpg"], ["S-2", "", "", "", "", ""]],
        {"stool.jpg": solid_jpeg()},
    )


def test_the_page_starts_an_import_and_answers_its_job_for_the_script(
    merchant_client,
):
    response = merchant_client.post(
        reverse("imports:import-list"),
        {"file": as_upload(_zip(), "shop.zip")},
        HTTP_ACCEPT="application/json",
    )

    assert response.status_code == 202
    job = ImportJob.objects.get()
    assert response.json() == {
        "ok": True,
        "id": job.pk,
        "url": reverse("imports:import-detail", args=[job.pk]),
    }
    import_job_run(job_id=job.pk)
    page = merchant_client.get(response.json()["url"])
    assert page.status_code == 200
    assert b"A new product needs a name." in page.content
    assert reverse("api:import-detail", args=[job.pk]).encode() in page.content
    report = merchant_client.get(reverse("imports:import-report", args=[job.pk]))
    assert report.content.decode().splitlines()[1].startswith("2,S-2,,name_missing,")
    listing = merchant_client.get(reverse("imports:import-list"))
    assert b"shop.zip" in listing.content


def test_a_plain_form_redirects_to_the_job_and_a_refused_file_says_why(
    merchant_client,
):
    ok = merchant_client.post(
        reverse("imports:import-list"), {"file": as_upload(_zip(), "shop.zip")}
    )
    assert ok.status_code == 302
    assert ok.url == reverse("imports:import-detail", args=[ImportJob.objects.get().pk])

    refused = merchant_client.post(
        reverse("imports:import-list"), {"file": as_upload(b"sku\nA\n", "x.csv")}
    )
    assert refused.status_code == 400
    assert b"The CSV has no name column" in refused.content
    missing = merchant_client.post(
        reverse("imports:import-list"), {}, HTTP_ACCEPT="application/json"
    )
    assert missing.status_code == 400
    assert missing.json()["code"] == "no_file"


def test_another_merchants_job_page_is_not_found(merchant_client, other_client):
    merchant_client.post(
        reverse("imports:import-list"), {"file": as_upload(_zip(), "shop.zip")}
    )
    job = ImportJob.objects.get()
    assert (
        other_client.get(reverse("imports:import-detail", args=[job.pk])).status_code
        == 404
    )
    assert (
        other_client.get(reverse("imports:import-report", args=[job.pk])).status_code
        == 404
    )


def test_the_command_imports_and_prints_the_counts(merchant, tmp_path, capsys):
    path = tmp_path / "shop.zip"
    path.write_bytes(_zip())
    report = tmp_path / "report.csv"

    call_command(
        "import_catalog",
        str(path),
        "--merchant",
        merchant.slug,
        "--report",
        str(report),
    )

    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (summary["status"], summary["products_created"], summary["failures"]) == (
        "succeeded",
        1,
        1,
    )
    assert "name_missing" in report.read_text()
    call_command("import_catalog", str(path), "--merchant", str(merchant.pk))
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (again["products_created"], again["images_created"]) == (0, 0)
    assert Product.objects.count() == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.zip", "--merchant", "{slug}"], "No such file"),
        (["{zip}", "--merchant", "nobody"], "No merchant 'nobody'"),
        (["{csv}", "--merchant", "{slug}"], "bad.csv: The CSV has no name column"),
        (["{zip}", "--merchant", "{slug}", "--user", "ghost"], "No user 'ghost'"),
    ],
)
def test_the_command_refuses_bad_input_in_one_line(merchant, tmp_path, args, message):
    (tmp_path / "shop.zip").write_bytes(_zip())
    (tmp_path / "bad.csv").write_bytes(b"sku,title\nA,B\n")
    values = {
        "slug": merchant.slug,
        "zip": str(tmp_path / "shop.zip"),
        "csv": str(tmp_path / "bad.csv"),
    }
    with pytest.raises(CommandError) as refused:
        call_command("import_catalog", *[a.format(**values) for a in args])
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not ImportJob.objects.exists()
