"""Per-process indexes of a merchant's photos, for the near-duplicate search.

The database stays the truth; each worker process keeps, per merchant it has
seen, a copy it brings up to date before every search by reading only the rows
added since (and a window of recent ids again, for rows that committed late):

- the perceptual hashes, as one uint64 array: the Hamming distances to 100,000
  photos take well under a millisecond;
- the embeddings, in a usearch HNSW graph (cosine, stored as float16): a search
  reads a few hundred vectors, not all of them.

Whatever an index proposes is checked against the database before it counts:
the row must still exist, still be current, belong to another product, and its
exact float32 cosine (or hash distance) must pass the cutoff. So a deleted photo,
a re-classified one or an index entry whose transaction rolled back never shows
up, and the results are the scan's: every earlier photo of the merchant passing
the cutoff (``tests/classification/test_similarity_index.py`` holds the two
against each other).
"""

import threading

import numpy as np
from django.conf import settings

from catalog.models import ProductImage
from classification.models import Prediction

# Rows are read again this far back in ids on every update: a row whose
# transaction committed after a later one was read would be missed otherwise.
# A few per worker process are ever in flight; gaps older than this are rows
# that were rolled back.
RECHECK_IDS = 1000
# Nearest embeddings asked of the graph at first; doubled while every one of
# them passes the cutoff, so that none past the first batch is missed.
FIRST_CANDIDATES = 32
# The first search of a merchant in a process builds that merchant's graph from
# the database: 301 s for 20,000 photos at load average 25 on 2 cores
# (bench/near_duplicates.py), so a very large catalog wants its workers warm.
# HNSW build and search breadth: at these values the graph returned every
# neighbour above the cutoff in the test against the scan (recall of the few
# nearest is what matters, at cosine 0.95 they are far closer than the rest).
CONNECTIVITY = 16
EXPANSION_ADD = 64
EXPANSION_SEARCH = 128


class _Hashes:
    """A merchant's perceptual hashes, as read so far."""

    def __init__(self) -> None:
        self.ids = np.zeros(0, np.int64)
        self.values = np.zeros(0, np.uint64)
        self.known: set[int] = set()
        self.last_id = 0
        self.lock = threading.Lock()

    def update(self, merchant_id: int) -> None:
        rows = [
            (pk, value)
            for pk, value in ProductImage.objects.filter(
                merchant_id=merchant_id, pk__gt=max(self.last_id - RECHECK_IDS, 0)
            )
            .exclude(phash="")
            .values_list("pk", "phash")
            if pk not in self.known
        ]
        if not rows:
            return
        self.ids = np.concatenate([self.ids, [pk for pk, _ in rows]])
        self.values = np.concatenate(
            [self.values, np.array([int(v, 16) for _, v in rows], dtype=np.uint64)]
        )
        self.known.update(pk for pk, _ in rows)
        self.last_id = max(self.last_id, max(pk for pk, _ in rows))


class _Embeddings:
    """A merchant's current embeddings of one size, as read so far."""

    def __init__(self, dim: int) -> None:
        from usearch.index import Index

        self.dim = dim
        self.graph = Index(
            ndim=dim,
            metric="cos",
            dtype="f16",
            connectivity=CONNECTIVITY,
            expansion_add=EXPANSION_ADD,
            expansion_search=EXPANSION_SEARCH,
        )
        self.last_id = 0
        self.lock = threading.Lock()

    def update(self, merchant_id: int) -> None:
        ids = np.fromiter(
            Prediction.objects.filter(
                image__merchant_id=merchant_id,
                is_current=True,
                embedding__isnull=False,
                pk__gt=max(self.last_id - RECHECK_IDS, 0),
            ).values_list("pk", flat=True),
            dtype=np.uint64,
        )
        if not ids.size:
            return
        new = ids[~np.asarray(self.graph.contains(ids), dtype=bool)]
        # The vectors of unseen rows only, a chunk at a time.
        for start in range(0, new.size, 5000):
            rows = Prediction.objects.filter(
                pk__in=new[start : start + 5000].tolist()
            ).values_list("pk", "embedding")
            vectors = {
                pk: np.frombuffer(bytes(data), dtype=np.float32)
                for pk, data in rows
                if len(data) == self.dim * 4
            }
            if vectors:
                self.graph.add(
                    np.fromiter(vectors, dtype=np.uint64, count=len(vectors)),
                    np.stack(list(vectors.values())),
                    threads=settings.VITRINE_INFERENCE_THREADS,
                )
        self.last_id = max(self.last_id, int(ids.max()))

    def candidates(self, vector: np.ndarray, cutoff: float) -> list[int]:
        """Prediction ids whose indexed cosine may reach ``cutoff``."""
        size, count = len(self.graph), FIRST_CANDIDATES
        if not size:
            return []
        while True:
            found = self.graph.search(vector, min(count, size))
            # Distances from float16 copies: a margin; the exact check decides.
            near = found.distances <= 1 - cutoff + 0.01
            if not near.all() or count >= size:
                return found.keys[near].tolist()
            count *= 2


_lock = threading.Lock()
_hashes: dict[int, _Hashes] = {}
_embeddings: dict[tuple[int, int], _Embeddings] = {}


def _hashes_for(merchant_id: int) -> _Hashes:
    with _lock:
        return _hashes.setdefault(merchant_id, _Hashes())


def _embeddings_for(merchant_id: int, dim: int) -> _Embeddings:
    with _lock:
        if (merchant_id, dim) not in _embeddings:
            _embeddings[(merchant_id, dim)] = _Embeddings(dim)
        return _embeddings[(merchant_id, dim)]


def _distance(a: str, b: str) -> int:
    return int(np.bitwise_count(np.uint64(int(a, 16) ^ int(b, 16))))


def phash_matches(image: ProductImage) -> list[tuple[int, int]]:
    """(image id, Hamming distance) of the merchant's other products' photos
    within VITRINE_NEAR_DUPLICATE_HAMMING bits of ``image``'s hash."""
    if not image.phash:
        return []
    limit = settings.VITRINE_NEAR_DUPLICATE_HAMMING
    hashes = _hashes_for(image.merchant_id)
    with hashes.lock:
        hashes.update(image.merchant_id)
        distances = np.bitwise_count(hashes.values ^ np.uint64(int(image.phash, 16)))
        candidates = hashes.ids[distances <= limit].tolist()
    if not candidates:
        return []
    rows = (
        ProductImage.objects.filter(pk__in=candidates, merchant_id=image.merchant_id)
        .exclude(product_id=image.product_id)
        # The same bytes on another product are that photo shared on purpose.
        .exclude(sha256=image.sha256)
        .exclude(phash="")
        .values_list("pk", "phash")
    )
    matches = [(pk, _distance(value, image.phash)) for pk, value in rows]
    return [(pk, distance) for pk, distance in matches if distance <= limit]


def embedding_matches(
    image: ProductImage, vector: np.ndarray
) -> list[tuple[int, float]]:
    """(image id, cosine) of the merchant's other products' current predictions
    at or above VITRINE_NEAR_DUPLICATE_COSINE from ``vector``."""
    norm = float(np.linalg.norm(vector))
    if not norm:
        return []
    cutoff = settings.VITRINE_NEAR_DUPLICATE_COSINE
    embeddings = _embeddings_for(image.merchant_id, vector.size)
    with embeddings.lock:
        embeddings.update(image.merchant_id)
        candidates = embeddings.candidates(vector, cutoff)
    if not candidates:
        return []
    rows = (
        Prediction.objects.filter(
            pk__in=candidates,
            is_current=True,
            image__merchant_id=image.merchant_id,
        )
        .exclude(image__product_id=image.product_id)
        .exclude(image__sha256=image.sha256)
        .values_list("image_id", "embedding")
    )
    matches = []
    for image_id, data in rows:
        other = np.frombuffer(bytes(data), dtype=np.float32)
        other_norm = float(np.linalg.norm(other))
        if other.size != vector.size or not other_norm:
            continue
        similarity = float(other @ vector) / (other_norm * norm)
        if similarity >= cutoff:
            matches.append((image_id, round(similarity, 4)))
    return matches


def indexes_clear() -> None:
    """Forget every index of this process (they are rebuilt from the database)."""
    with _lock:
        _hashes.clear()
        _embeddings.clear()
