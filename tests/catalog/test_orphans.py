"""Stored objects no image names (an upload whose request died before its row
committed) are listed, and removed past the grace period; never an object a
committed image or an upload in flight still needs."""

import os
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from catalog.models import image_storage_keys
from catalog.services import image_upload
from catalog.services.orphans import storage_orphans, storage_orphans_remove
from catalog.tasks import remove_storage_orphans
from tests.catalog.factories import ProductFactory, upload
from tests.catalog.test_storage_races import finished, in_thread
from tests.images import noise_png
from tests.services import missing

HOUR = 3600


def left_behind(merchant_id: int, seed: int, *, age: float) -> list[str]:
    """The objects an upload writes before its row commits, ``age`` seconds old."""
    import hashlib

    data = noise_png(seed)
    keys = image_storage_keys(
        merchant_id=merchant_id,
        sha256=hashlib.sha256(data).hexdigest(),
        extension="png",
    )
    for key in keys:
        default_storage.save(key, ContentFile(data))
        then = time.time() - age
        os.utime(default_storage.path(key), (then, then))
    return list(keys)


@pytest.fixture
def stored(merchant):
    """A committed image, old, and objects left by two uploads that died."""
    image, _ = image_upload(
        product=ProductFactory(merchant=merchant),
        upload=upload(noise_png(1), "kept.png"),
        user=None,
    )
    for key in (image.file.name, image.thumbnail.name):
        then = time.time() - 2 * HOUR
        os.utime(default_storage.path(key), (then, then))
    return {
        "image": image,
        "old": left_behind(merchant.pk, 2, age=2 * HOUR),
        "fresh": left_behind(merchant.pk, 3, age=60),
    }


@pytest.mark.django_db
def test_the_command_lists_orphans_past_the_grace_period_and_keeps_them(
    stored, capsys, settings
):
    settings.VITRINE_ORPHAN_GRACE_SECONDS = HOUR
    call_command("storage_orphans")

    out = capsys.readouterr().out
    listed = sorted(line.split()[-1] for line in out.splitlines()[:-1])
    assert listed == sorted(stored["old"])
    assert out.splitlines()[-1] == "2 orphans (--remove deletes them)."
    assert all(default_storage.exists(key) for key in stored["old"])


@pytest.mark.django_db
def test_the_command_removes_them_on_demand(stored, capsys):
    call_command("storage_orphans", "--older-than", str(HOUR), "--remove")

    assert capsys.readouterr().out.splitlines()[-1] == "Removed 2 of 2 orphans."
    image = stored["image"]
    assert not any(default_storage.exists(key) for key in stored["old"])
    assert all(default_storage.exists(key) for key in stored["fresh"])
    assert default_storage.exists(image.file.name)
    assert default_storage.exists(image.thumbnail.name)


@pytest.mark.django_db
def test_the_upkeep_removes_orphans_past_the_grace_period(stored, settings):
    settings.VITRINE_ORPHAN_GRACE_SECONDS = HOUR
    assert remove_storage_orphans.apply().get() == 2
    assert remove_storage_orphans.apply().get() == 0
    left = {o.key for o in storage_orphans(older_than_seconds=0)}
    assert left == set(stored["fresh"]), "the fresh ones wait for their grace"


@pytest.mark.django_db
def test_a_negative_grace_period_is_refused(db):
    with pytest.raises(CommandError, match="zero or more seconds"):
        call_command("storage_orphans", "--older-than", "-1")


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_an_upload_in_flight_keeps_its_objects(merchant, monkeypatch):
    """Its objects are written, its row not yet committed, when the sweep runs
    with no grace at all: the sweep waits for the upload's lock, then sees the
    row."""
    if connection.vendor != "postgresql":
        missing("PostgreSQL", "DATABASE_URL does not point at PostgreSQL")
    product = ProductFactory(merchant=merchant)
    with transaction.atomic():
        image, created = image_upload(
            product=product, upload=upload(noise_png(7), "late.png"), user=None
        )
        assert created
        outcome = {}

        def sweep():  # on a connection of its own: the row is not visible yet
            outcome["listed"] = storage_orphans(older_than_seconds=-60)
            outcome["removed"] = storage_orphans_remove(orphans=outcome["listed"])

        sweeper = in_thread(sweep)
        sweeper.join(timeout=1)
        assert sweeper.is_alive(), "the sweep waits for the upload's lock"
    finished(sweeper)

    listed = {o.key for o in outcome["listed"]}
    assert listed == {image.file.name, image.thumbnail.name}
    assert outcome["removed"] == 0
    assert default_storage.exists(image.file.name)
    assert default_storage.exists(image.thumbnail.name)
