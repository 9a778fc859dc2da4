"""Stored photos and thumbnails that no image row names: orphans.

An upload writes its objects before its row commits (images.images_store), so a
web process killed between the two leaves objects no row will ever name. They
are removed once older than ``VITRINE_ORPHAN_GRACE_SECONDS`` (by the upkeep,
or ``manage.py storage_orphans --remove``), each one under the lock an upload
of the same bytes holds until it commits: an upload in flight has either
committed its row by the time the check looks, or writes its object again
after. Only keys shaped as photo and thumbnail keys are ever touched.
"""

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from catalog.models import ProductImage
from catalog.services.images import _lock_bytes, key_in_use

logger = logging.getLogger(__name__)

PREFIXES = ("images", "thumbnails")
# images/<merchant id>/<sha256[:2]>/<sha256>.<ext>; keys stored before keys
# named the merchant lack the merchant's folder.
PHOTO_KEY = re.compile(
    r"^(?:images|thumbnails)/(?:(?P<merchant>\d+)/)?[0-9a-f]{2}/"
    r"(?P<sha256>[0-9a-f]{64})\.[a-z0-9]+$"
)
CHUNK = 500


@dataclass(frozen=True)
class StoredObject:
    key: str
    modified: datetime


def _listing() -> Iterator[StoredObject]:
    """Every object under the photo prefixes, with its modification time."""
    bucket = getattr(default_storage, "bucket", None)
    if bucket is not None:  # S3: one listing carries each object's time
        location = default_storage.location.strip("/")
        for prefix in PREFIXES:
            full = f"{location}/{prefix}/" if location else f"{prefix}/"
            for obj in bucket.objects.filter(Prefix=full):
                key = obj.key[len(location) + 1 :] if location else obj.key
                yield StoredObject(key, obj.last_modified)
        return
    for prefix in PREFIXES:
        yield from _walk(prefix)


def _walk(folder: str) -> Iterator[StoredObject]:
    try:
        folders, files = default_storage.listdir(folder)
    except FileNotFoundError:
        return
    for name in files:
        key = f"{folder}/{name}"
        yield StoredObject(key, default_storage.get_modified_time(key))
    for name in folders:
        yield from _walk(f"{folder}/{name}")


def storage_orphans(*, older_than_seconds: int | None = None) -> list[StoredObject]:
    """The photo and thumbnail objects no image names, stored longer ago than
    ``older_than_seconds`` (default: VITRINE_ORPHAN_GRACE_SECONDS)."""
    grace = older_than_seconds
    if grace is None:
        grace = settings.VITRINE_ORPHAN_GRACE_SECONDS
    cutoff = timezone.now() - timedelta(seconds=grace)
    old = [o for o in _listing() if o.modified < cutoff and PHOTO_KEY.match(o.key)]
    named = set()
    for start in range(0, len(old), CHUNK):
        keys = [o.key for o in old[start : start + CHUNK]]
        named.update(
            ProductImage.objects.filter(file__in=keys).values_list("file", flat=True)
        )
        named.update(
            ProductImage.objects.filter(thumbnail__in=keys).values_list(
                "thumbnail", flat=True
            )
        )
    return [o for o in old if o.key not in named]


def storage_orphans_remove(*, orphans: list[StoredObject]) -> int:
    """Delete the orphans that no image names still (checked again under each
    one's lock); return how many were deleted."""
    removed = 0
    for orphan in orphans:
        match = PHOTO_KEY.match(orphan.key)
        if match is None:
            continue
        with transaction.atomic():
            if match["merchant"]:
                _lock_bytes(merchant_id=int(match["merchant"]), sha256=match["sha256"])
            if key_in_use(orphan.key):
                continue  # an upload of these bytes committed meanwhile
            default_storage.delete(orphan.key)
            removed += 1
    if removed:
        logger.info("removed %s stored object(s) no image names", removed)
    return removed
