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
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from catalog.models import ImageStatus, Product, ProductImage, image_storage_keys
from config.errors import InvalidInput, NotFound
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

    Return each image and whether it is new: bytes already on this product
    return its photo; bytes the merchant stored for another product return that
    product's photo, not attached here (image_share attaches it on request). A
    new photo goes after the product's others. Nothing is classified here (see
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
        merchant_id=product.merchant_id,
        sha256=prepared.sha256,
        lock=True,
        product_id=product.pk,
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
    image = _new_photo(
        product=product,
        user=user,
        described_by=prepared,
        file=key,
        thumbnail=thumb_key,
        original_name=(prepared.upload.name or "")[:255],
    )
    try:
        with transaction.atomic():
            image.save()
    except IntegrityError:
        # Only a writer that skipped the lock can get here; its row has the
        # same keys, so the files just written are its files too.
        existing = _image_for_bytes(
            merchant_id=product.merchant_id,
            sha256=prepared.sha256,
            product_id=product.pk,
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
    *, merchant_id: int, sha256: str, lock: bool = False, product_id: int
) -> ProductImage | None:
    """The merchant's photo with these bytes: this product's own if it has one,
    else the oldest on another product."""
    images = ProductImage.objects.select_related("product").filter(
        merchant_id=merchant_id, sha256=sha256
    )
    if lock:
        images = images.select_for_update(of=("self",))
    rows = list(images.order_by("pk"))
    own = [image for image in rows if image.product_id == product_id]
    return (own or rows or [None])[0]


# What a photo row says about its bytes, alike on a PreparedImage and a row.
BYTES_FIELDS = ("sha256", "phash", "width", "height", "format", "byte_size")


def _new_photo(
    *, product: Product, user: User | None, described_by, **fields
) -> ProductImage:
    """An unsaved photo of ``product``, waiting to be classified, after its
    other photos; its bytes as ``described_by`` describes them."""
    return ProductImage(
        product=product,
        merchant_id=product.merchant_id,
        uploaded_by=user,
        status=ImageStatus.PENDING,
        position=_next_position(product),
        **{name: getattr(described_by, name) for name in BYTES_FIELDS},
        **fields,
    )


def _next_position(product: Product) -> int:
    last = product.images.aggregate(last=Max("position"))["last"]
    return 0 if last is None else last + 1


def image_share(
    *, image: ProductImage, product: Product, user: User | None
) -> tuple[ProductImage, bool]:
    """Use a photo the merchant stored for another product on ``product`` too.

    The new row names the same stored files (nothing is stored again) and goes
    after the product's other photos. Return it and whether it is new: a
    product that already has the bytes returns its own photo. Raise NotFound
    for a photo of another merchant or one deleted meanwhile.
    """
    if image.merchant_id != product.merchant_id:
        raise NotFound("No such photo.", code="image_not_found", field="image")
    with transaction.atomic():
        # The lock files_release takes too: the source cannot lose its files
        # between the check below and this row's commit.
        _lock_bytes(merchant_id=product.merchant_id, sha256=image.sha256)
        source = (
            ProductImage.objects.select_for_update()
            .filter(pk=image.pk, merchant_id=product.merchant_id)
            .first()
        )
        if source is None:
            raise NotFound("The photo was deleted meanwhile.", code="image_not_found")
        own = product.images.filter(sha256=source.sha256).first()
        if own:
            return own, False
        shared = _new_photo(
            product=product,
            user=user,
            described_by=source,
            file=source.file.name,
            thumbnail=source.thumbnail.name,
            original_name=source.original_name,
        )
        shared.save()
    logger.info(
        "image %s shared from %s to product %s", shared.pk, source.pk, product.pk
    )
    return shared, True


def image_set_cover(*, image: ProductImage) -> None:
    """Make ``image`` the photo that stands for its product in lists."""
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=image.product_id).first()
        ProductImage.objects.filter(product_id=image.product_id, is_cover=True).exclude(
            pk=image.pk
        ).update(is_cover=False)
        ProductImage.objects.filter(pk=image.pk).update(is_cover=True)
    image.is_cover = True


def images_reorder(*, product: Product, image_ids: Sequence[int]) -> None:
    """Put the product's photos in the order of ``image_ids``, which must name
    each of its photos once; raise InvalidInput otherwise."""
    with transaction.atomic():
        Product.objects.select_for_update().filter(pk=product.pk).first()
        current = set(product.images.values_list("pk", flat=True))
        if len(image_ids) != len(set(image_ids)) or set(image_ids) != current:
            raise InvalidInput(
                "List each of the product's photos once, in the new order.",
                code="invalid",
                field="images",
            )
        ProductImage.objects.bulk_update(
            [
                ProductImage(pk=pk, position=position)
                for position, pk in enumerate(image_ids)
            ],
            ["position"],
        )


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
