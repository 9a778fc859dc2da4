"""Importing a CSV whose photos are URLs: fetched from a loopback server the
test starts, within size and time limits, never to a private address."""

import socket

import pytest

from catalog.models import Product, ProductImage
from imports.errors import RowFailed
from imports.fetch import photo_fetch
from imports.models import ImportJob
from imports.services import import_job_create, import_job_run
from tests.imports.archives import as_upload, catalog_csv
from tests.imports.conftest import PHOTOS, PhotoHandler

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_connections_but_loopback(monkeypatch):
    """Fail the test at once if anything connects anywhere but 127.0.0.1."""
    connect = socket.socket.connect

    def guarded(self, address):
        if isinstance(address, tuple) and address[0] != "127.0.0.1":
            raise AssertionError(f"connected to {address}")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def test_a_url_csv_imports_its_photos(merchant, merchant_user, photo_server):
    data = catalog_csv(
        [
            ["CUP-1", "Cup", "", "3", "", f"{photo_server}/red.jpg"],
            [
                "CUP-2",
                "Cup two",
                "",
                "",
                "",
                f"{photo_server}/noise.png ; {photo_server}/to-red",
            ],
        ]
    )
    job = import_job_create(
        merchant=merchant, user=merchant_user, file=as_upload(data, "c.csv")
    )
    job = import_job_run(job_id=job.pk)

    assert job.source == ImportJob.Source.CSV
    assert job.status == ImportJob.Status.SUCCEEDED
    assert job.report == []
    # The redirect led to red.jpg's bytes, already stored for CUP-1: CUP-2 gets
    # the photo too, and the bytes are stored once.
    assert (job.products_created, job.images_created, job.images_existing) == (2, 3, 0)
    cup, cup_two = Product.objects.get(sku="CUP-1"), Product.objects.get(sku="CUP-2")
    assert sorted(cup_two.images.values_list("original_name", flat=True)) == [
        "noise.png",
        "red.jpg",
    ]
    assert cup.images.get().file.name in cup_two.images.values_list("file", flat=True)

    again = import_job_run(
        job_id=import_job_create(
            merchant=merchant, user=merchant_user, file=as_upload(data, "c.csv")
        ).pk
    )
    assert (again.products_created, again.images_created) == (0, 0)
    assert ProductImage.objects.count() == 3
    assert len(set(ProductImage.objects.values_list("file", flat=True))) == 2


def test_a_photo_name_that_is_not_a_url_is_reported(merchant, merchant_user):
    data = catalog_csv([["A", "A", "", "", "", "photo.jpg"]])
    job = import_job_create(
        merchant=merchant, user=merchant_user, file=as_upload(data, "c.csv")
    )
    job = import_job_run(job_id=job.pk)

    assert [e["code"] for e in job.report] == ["not_a_url"]
    assert Product.objects.filter(sku="A").exists()


def test_the_fetched_bytes_are_the_servers(photo_server):
    assert photo_fetch(url=f"{photo_server}/red.jpg") == PHOTOS["/red.jpg"]


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/huge-declared", "file_too_large"),
        ("/huge-streamed", "file_too_large"),
        ("/slow", "fetch_timeout"),
        ("/missing", "fetch_failed"),
        ("/loop", "too_many_redirects"),
    ],
)
def test_an_oversize_slow_or_failing_url_is_refused(settings, photo_server, path, code):
    settings.VITRINE_UPLOAD_MAX_BYTES = 1_000_000
    settings.VITRINE_IMPORT_FETCH_TIMEOUT = 1.0
    with pytest.raises(RowFailed) as failed:
        photo_fetch(url=f"{photo_server}{path}")
    assert failed.value.code == code


@pytest.mark.parametrize("path", ["/to-private", "/to-metadata"])
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    photo_server, no_connections_but_loopback, path
):
    with pytest.raises(RowFailed, match="private or local address") as failed:
        photo_fetch(url=f"{photo_server}{path}")
    assert failed.value.code == "address_refused"
    assert PhotoHandler.requests == [path]


def test_loopback_itself_is_refused_unless_its_network_is_allowed(
    settings, photo_server, no_connections_but_loopback
):
    settings.VITRINE_IMPORT_FETCH_ALLOW_NETWORKS = []
    with pytest.raises(RowFailed, match="private or local address"):
        photo_fetch(url=f"{photo_server}/red.jpg")
    assert PhotoHandler.requests == []


def test_a_url_import_reports_the_refused_fetch_and_keeps_the_rest(
    merchant, merchant_user, photo_server
):
    data = catalog_csv(
        [
            ["A", "A", "", "", "", f"{photo_server}/to-private|{photo_server}/red.jpg"],
            ["B", "B", "", "", "", f"{photo_server}/missing"],
        ]
    )
    job = import_job_create(
        merchant=merchant, user=merchant_user, file=as_upload(data, "c.csv")
    )
    job = import_job_run(job_id=job.pk)

    assert [(e["sku"], e["code"]) for e in job.report] == [
        ("A", "address_refused"),
        ("B", "fetch_failed"),
    ]
    assert (job.products_created, job.images_created, job.images_failed) == (2, 1, 2)
