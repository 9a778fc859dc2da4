"""Writes for near-duplicates: photos a merchant already has on another product.

Two ways to be a near-duplicate of an earlier photo of the same merchant:
- the same picture, re-encoded, resized or lightly edited: perceptual hashes
  (stored on each image at upload) within VITRINE_NEAR_DUPLICATE_HAMMING bits;
- a very close picture: cosine similarity of the classifier's embeddings at least
  VITRINE_NEAR_DUPLICATE_COSINE, compared with the merchant's most recent
  VITRINE_NEAR_DUPLICATE_SCAN_LIMIT classified photos (a bound on the work per
  photo; duplicates mostly arrive together, in one import).

Found after classification, once the embedding exists, and stored as NearDuplicate
rows pointing from the newer photo to the older one, so pages read them cheaply.
"""

import logging
from collections.abc import Sequence

import numpy as np
from django.conf import settings

from catalog.models import ProductImage
from classification.models import NearDuplicate, Prediction

logger = logging.getLogger(__name__)

# Keep the closest few: a photo repeated across many products says enough by then.
MAX_PER_IMAGE = 5


def image_near_duplicates_find(
    *, image: ProductImage, embedding: Sequence[float] | np.ndarray | None
) -> list[NearDuplicate]:
    """Record which other products of the merchant already have this photo.

    Return the pairs found (new and already known). Photos of the same product are
    not compared: several views of one product are expected to look alike; nor
    are the same bytes on another product, a photo the merchant shares.
    """
    found: dict[int, tuple[str, float]] = {}
    for other_id, distance in _phash_matches(image):
        found[other_id] = (NearDuplicate.Method.PHASH, float(distance))
    if embedding is not None:
        for other_id, similarity in _embedding_matches(image, embedding):
            found.setdefault(other_id, (NearDuplicate.Method.EMBEDDING, similarity))
    if not found:
        return []
    # Same pictures first (fewest differing bits), then the most similar.
    best = sorted(
        found.items(),
        key=lambda item: (
            item[1][0] != NearDuplicate.Method.PHASH,
            item[1][1] if item[1][0] == NearDuplicate.Method.PHASH else -item[1][1],
        ),
    )[:MAX_PER_IMAGE]
    pairs = [
        # The newer photo (higher id) repeats the older one, whichever was
        # classified last.
        NearDuplicate(
            image_id=max(image.pk, other_id),
            duplicate_of_id=min(image.pk, other_id),
            method=method,
            score=score,
        )
        for other_id, (method, score) in best
    ]
    NearDuplicate.objects.bulk_create(pairs, ignore_conflicts=True)
    logger.info(
        "image %s: near-duplicate of images %s",
        image.pk,
        [other_id for other_id, _ in best],
    )
    return pairs


def _others(image: ProductImage):
    # The same bytes on another product are that photo shared on purpose.
    return (
        ProductImage.objects.filter(merchant_id=image.merchant_id)
        .exclude(product_id=image.product_id)
        .exclude(sha256=image.sha256)
    )


def _phash_matches(image: ProductImage) -> list[tuple[int, int]]:
    if not image.phash:
        return []
    rows = list(_others(image).exclude(phash="").values_list("pk", "phash"))
    if not rows:
        return []
    ids = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
    hashes = np.fromiter(
        (int(value, 16) for _, value in rows), dtype=np.uint64, count=len(rows)
    )
    distances = np.bitwise_count(hashes ^ np.uint64(int(image.phash, 16)))
    close = distances <= settings.VITRINE_NEAR_DUPLICATE_HAMMING
    return list(zip(ids[close].tolist(), distances[close].tolist(), strict=True))


def _embedding_matches(
    image: ProductImage, embedding: Sequence[float] | np.ndarray
) -> list[tuple[int, float]]:
    vector = np.asarray(embedding, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    if not norm:
        return []
    rows = list(
        Prediction.objects.filter(
            is_current=True,
            embedding__isnull=False,
            image__merchant_id=image.merchant_id,
        )
        .exclude(image__product_id=image.product_id)
        .exclude(image__sha256=image.sha256)
        .order_by("-id")
        .values_list("image_id", "embedding")[
            : settings.VITRINE_NEAR_DUPLICATE_SCAN_LIMIT
        ]
    )
    rows = [(pk, data) for pk, data in rows if len(data) == vector.nbytes]
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(bytes(data) for _, data in rows), np.float32)
    matrix = matrix.reshape(len(rows), vector.size)
    norms = np.linalg.norm(matrix, axis=1)
    norms[norms == 0] = np.inf
    similarity = matrix @ vector / (norms * norm)
    close = np.flatnonzero(similarity >= settings.VITRINE_NEAR_DUPLICATE_COSINE)
    return [(rows[i][0], round(float(similarity[i]), 4)) for i in close]
