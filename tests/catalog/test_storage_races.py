"""Deleting photos while the same bytes are being uploaded, on PostgreSQL with
two connections: no upload may end up pointing at a file that is gone."""

import threading
import time

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.urls import reverse

from catalog.models import ProductImage
from catalog.services import image_upload, product_delete
from tests.catalog.factories import ProductFactory, upload
from tests.images import noise_png
from tests.services import missing

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgresql(monkeypatch):
    if connection.vendor != "postgresql":
        missing("PostgreSQL", "DATABASE_URL does not point at PostgreSQL")
    # The race is about storage; queued classification is not run.
    monkeypatch.setattr(
        "classification.tasks.classify_image.delay", lambda image_id: None
    )


def in_thread(work) -> threading.Thread:
    """Run ``work`` on a database connection of its own."""
    errors = []

    def run():
        try:
            work()
        except Exception as error:  # reported by the test, not swallowed
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.errors = errors
    thread.start()
    return thread


def finished(thread: threading.Thread) -> None:
    thread.join(timeout=30)
    assert not thread.is_alive(), "the other connection is stuck"
    assert not thread.errors, thread.errors


def assert_downloadable(image: ProductImage, data: bytes) -> None:
    from django.test import Client

    user = image.merchant.memberships.get().user
    client = Client()
    client.force_login(user)
    response = client.get(reverse("catalog:image-file", args=[image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data


def test_a_merchant_deleting_a_photo_keeps_another_merchants_upload_in_flight():
    from tests.accounts.factories import MembershipFactory

    data = noise_png(40)
    a_product = ProductFactory(merchant=MembershipFactory().merchant)
    b_product = ProductFactory(merchant=MembershipFactory().merchant)
    image_upload(product=a_product, upload=upload(data, "a.png"), user=None)

    with transaction.atomic():
        # Merchant B's upload of the same bytes is stored but not committed...
        b_image, created = image_upload(
            product=b_product, upload=upload(data, "b.png"), user=None
        )
        assert created

        # ...when merchant A deletes its product, on another connection.
        def a_deletes():
            with transaction.atomic():
                product_delete(product=a_product)

        finished(in_thread(a_deletes))

    b_image.refresh_from_db()
    assert default_storage.exists(b_image.file.name)
    assert default_storage.exists(b_image.thumbnail.name)
    assert_downloadable(b_image, data)


def test_deleting_a_product_while_its_photo_is_uploaded_to_another_keeps_it():
    """One merchant: product X is being deleted (its transaction not yet
    committed) while the same bytes are uploaded to product Y."""
    from tests.accounts.factories import MembershipFactory

    merchant = MembershipFactory().merchant
    data = noise_png(41)
    x = ProductFactory(merchant=merchant, name="X")
    y = ProductFactory(merchant=merchant, name="Y")
    image_upload(product=x, upload=upload(data, "x.png"), user=None)
    deleted, commit = threading.Event(), threading.Event()
    outcome = {}

    def delete_x():
        with transaction.atomic():
            product_delete(product=x)
            deleted.set()
            assert commit.wait(timeout=20)

    def upload_to_y():
        outcome["image"], outcome["created"] = image_upload(
            product=y, upload=upload(data, "y.png"), user=None
        )

    deleter = in_thread(delete_x)
    assert deleted.wait(timeout=20)
    uploader = in_thread(upload_to_y)
    time.sleep(0.5)  # let the upload reach the rows the delete holds
    commit.set()
    finished(deleter)
    finished(uploader)

    assert outcome["created"] is True
    (image,) = ProductImage.objects.all()
    assert image.product_id == y.pk == outcome["image"].product_id
    assert default_storage.exists(image.file.name)
    assert default_storage.exists(image.thumbnail.name)
    assert_downloadable(image, data)
