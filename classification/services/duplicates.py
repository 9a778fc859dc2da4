"""Writes for near-duplicates: photos a merchant already has on another product.

Two ways to be a near-duplicate of an earlier photo of the same merchant:
- the same picture, re-encoded, resized or lightly edited: perceptual hashes
  (stored on each image at upload) within VITRINE_NEAR_DUPLICATE_HAMMING bits;
- a very close picture: cosine similarity of the classifier's embeddings at least
  VITRINE_NEAR_DUPLICATE_COSINE, with any classified photo of the merchant.

Both are looked up in per-process indexes (``similarity_index``), so the work per
photo stays about flat as a catalog grows.

Found after classification, once the embedding exists, and stored as NearDuplicate
rows pointing from the newer photo to the older one, so pages read them cheaply.
"""

import logging
from collections.abc import Sequence

import numpy as np

from catalog.models import ProductImage
from classification.models import NearDuplicate
from classification.services.similarity_index import (
    embedding_matches,
    phash_matches,
)

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
    for other_id, distance in phash_matches(image):
        found[other_id] = (NearDuplicate.Method.PHASH, float(distance))
    if embedding is not None:
        vector = np.asarray(embedding, dtype=np.float32)
        for other_id, similarity in embedding_matches(image, vector):
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
