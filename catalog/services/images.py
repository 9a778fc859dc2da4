"""Writes for product images: checked once, stored under per-merchant keys.

An upload is read and decoded once (image_prepare), then stored (images_store)
under a lock on its bytes, so that two uploads of one file, or an upload racing
a delete, never leave a row without its file or a file without its row.
"""

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from catalog.models import ImageStatus, Product, ProductImage, image_storage_keys
from imaging.decode import decode_image
from imaging.errors import ImageRejected
from imaging.resize import make_thumbnail, perceptual_hash, shrink

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PreparedImage:
    """An upload that passed every check, with what storing it needs.

    The decoded picture itself is not kept: its thumbnail and perceptual hash are
    made while it is decoded, once, so checking many files holds one in memory.
    """

    upload: UploadedFile
    sha256: str
    format: str
    extension: str
    width: int
    height: int
    byte_size: int
    thumbnail: bytes
    phash: str


def image_prepare(*, upload: UploadedFile) -> PreparedImage:
    """Read and decode ``upload`` once: raise ImageRejected for a file that is too
    large or not a usable image, else return what images_store needs."""
    data = _read_upload(upload)
    decoded = decode_image(
        data,
        max_pixels=settings.VITRINE_UPLOAD_MAX_PIXELS,
        max_decoded_bytes=settings.VITRINE_UPLOAD_MAX_DECODED_BYTES,
    )
    # One pass over the full picture: the thumbnail and the hash are made from
    # a copy a few times larger than the thumbnail.
    size = settings.VITRINE_THUMBNAIL_SIZE
    picture = decoded.image
    if max(picture.size) > 4 * size:
        scale = 4 * size / max(picture.size)
        picture = shrink(
            picture,
            (
                max(1, round(picture.width * scale)),
                max(1, round(picture.height * scale)),
            ),
        )
    return PreparedImage(
        upload=upload,
        sha256=hashlib.sha256(data).hexdigest(),
        format=decoded.format,
        extension=decoded.extension,
        width=decoded.width,
        height=decoded.height,
        byte_size=len(data),
        thumbnail=make_thumbnail(picture, size=size),
        phash=perceptual_hash(picture),
    )


def images_store(
    *, product: Product, prepared: Sequence[PreparedImage], user: User | None
) -> list[tuple[ProductImage, bool]]:
    """Store and register checked photos for ``product``, in one transaction.

    Return each image and whether it is new: bytes the merchant already stored
    return the image that has them. Nothing is classified here (see
    classification.services.intake.images_store).
    """
    merchant_id = product.merchant_id
    with transaction.atomic():
        # Taken in one order, so two requests sharing photos cannot deadlock.
        for sha256 in sorted({p.sha256 for p in prepared}):
            _lock_bytes(merchant_id=merchant_id, sha256=sha256)
        return [_image_store(product=product, prepared=p, user=user) for p in prepared]


def image_upload(
    *, product: Product, upload: UploadedFile, user: User | None
) -> tuple[ProductImage, bool]:
    """Check, store and register one uploaded photo for ``product``.

    Return the image and whether it is new (see images_store). Raise
    ImageRejected for a file that is too large or not a usable image; nothing is
    stored then.
    """
    prepared = image_prepare(upload=upload)
    return images_store(product=product, prepared=[prepared], user=user)[0]


def _image_store(
    *, product: Product, prepared: PreparedImage, user: User | None
) -> tuple[ProductImage, bool]:
    # Runs under _lock_bytes. The row lock waits for a delete of the same bytes
    # in flight: once it commits, the row is gone and the bytes are stored anew.
    existing = _image_for_bytes(
        merchant_id=product.merchant_id, sha256=prepared.sha256, lock=True
    )
    if existing:
        return existing, False
    data = _read_upload(prepared.upload)
    if hashlib.sha256(data).hexdigest() != prepared.sha256:
        raise ImageRejected(
            "corrupt_image", "The file changed while it was being uploaded."
        )
    key, thumb_key = image_storage_keys(
        merchant_id=product.merchant_id,
        sha256=prepared.sha256,
        extension=prepared.extension,
    )
    _store(key, data)
    _store(thumb_key, prepared.thumbnail)
    image = ProductImage(
        product=product,
        merchant_id=product.merchant_id,
        file=key,
        thumbnail=thumb_key,
        sha256=prepared.sha256,
        phash=prepared.phash,
        width=prepared.width,
        height=prepared.height,
        format=prepared.format,
        byte_size=prepared.byte_size,
        original_name=(prepared.upload.name or "")[:255],
        uploaded_by=user,
        status=ImageStatus.PENDING,
    )
    try:
        with transaction.atomic():
            image.save()
    except IntegrityError:
        # Only a writer that skipped the lock can get here; its row has the
        # same keys, so the files just written are its files too.
        existing = _image_for_bytes(
            merchant_id=product.merchant_id, sha256=prepared.sha256
        )
        if existing:
            return existing, False
        raise
    logger.info("image %s stored for product %s (%s)", image.pk, product.pk, key)
    return image, True


def _read_upload(upload: UploadedFile) -> bytes:
    max_bytes = settings.VITRINE_UPLOAD_MAX_BYTES
    too_large = ImageRejected(
        "file_too_large",
        f"The file is {(upload.size or 0) / 1048576:.1f} MB; the limit is "
        f"{max_bytes / 1048576:.0f} MB.",
    )
    if upload.size is not None and upload.size > max_bytes:
        raise too_large
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise too_large
    if not data:
        raise ImageRejected("empty_file", "The file is empty.")
    return data


def image_set_status(*, image: ProductImage, status: ImageStatus) -> None:
    now = timezone.now()
    ProductImage.objects.filter(pk=image.pk).update(
        status=status, status_changed_at=now
    )
    image.status, image.status_changed_at = status, now


def images_set_status(*, image_ids: Iterable[int], status: ImageStatus) -> None:
    """Set the status of many images in one query."""
    ProductImage.objects.filter(pk__in=list(image_ids)).update(
        status=status, status_changed_at=timezone.now()
    )


def image_delete(*, image: ProductImage) -> None:
    """Delete one image, and its stored files if no other image uses them."""
    stored = [(image.merchant_id, image.sha256, image.file.name, image.thumbnail.name)]
    image.delete()
    transaction.on_commit(lambda: files_release(stored))


def _image_for_bytes(
    *, merchant_id: int, sha256: str, lock: bool = False
) -> ProductImage | None:
    images = ProductImage.objects.select_related("product").filter(
        merchant_id=merchant_id, sha256=sha256
    )
    if lock:
        images = images.select_for_update(of=("self",))
    return images.first()


def _lock_bytes(*, merchant_id: int, sha256: str) -> None:
    """Hold, until the transaction ends, the lock that serialises storing and
    releasing one merchant's copy of some bytes.

    On PostgreSQL a transaction-level advisory lock on a 64-bit digest of the
    pair; SQLite needs none, as its transactions begin IMMEDIATE and so run one
    writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.sha256(f"image-bytes:{merchant_id}:{sha256}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)",
            [int.from_bytes(digest[:8], "big", signed=True)],
        )


def _store(key: str, data: bytes) -> None:
    # Written even when the key exists: the object may be the one a delete of
    # the same bytes removed a moment ago.
    default_storage.save(key, ContentFile(data))


def files_release(stored: Iterable[tuple[int, str, str, str]]) -> None:
    """Delete the stored files of deleted images that no image uses any more.

    Each check runs under the lock uploads of the same bytes hold until they
    commit, so an upload in flight either sees the row gone and writes the file
    again, or has committed its row before the check looks.
    """
    for merchant_id, sha256, *keys in stored:
        with transaction.atomic():
            _lock_bytes(merchant_id=merchant_id, sha256=sha256)
            for key in {k for k in keys if k}:
                if not key_in_use(key):
                    default_storage.delete(key)


def key_in_use(key: str) -> bool:
    """Does an image row name this stored object (its photo or thumbnail)?"""
    return (
        ProductImage.objects.filter(file=key).exists()
        or ProductImage.objects.filter(thumbnail=key).exists()
    )


def upload_read(*, upload: UploadedFile) -> bytes:
    """Read an upload's bytes within VITRINE_UPLOAD_MAX_BYTES, else ImageRejected."""
    return _read_upload(upload)
