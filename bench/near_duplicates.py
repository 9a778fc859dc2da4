"""Per-photo cost of the near-duplicate search at 100,000 photos of one merchant.

Usage::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/vitrine_dups DJANGO_DEBUG=true \\
        .venv/bin/python bench/near_duplicates.py [--photos 100000] [--queries 50]

Fills the database (migrated first; the merchant ``dups-bench`` is made once and
reused) with PHOTOS classified photos whose 1280-d embeddings form look-alike
groups, then times, for QUERIES new photos: the index search
(``similarity_index``: brought up to date, searched, candidates checked in the
database), and the scan it replaced, which read the merchant's latest 2,000
embeddings (the old default bound) on every photo; a scan of all of them, the
only scan that finds what the index finds, is timed on 3 photos. Building this
process's index (once per worker process) is reported apart. Both return the
same matches where they read the same photos; the figures are medians.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from accounts.models import Merchant  # noqa: E402
from catalog.models import Product, ProductImage  # noqa: E402
from classification.models import Prediction  # noqa: E402
from classification.services import similarity_index  # noqa: E402
from classification.services.versions import model_version_ensure_default  # noqa: E402


def fill(merchant: Merchant, count: int, rng: np.random.Generator) -> np.ndarray:
    """Give ``merchant`` ``count`` classified photos; return the group centres."""
    centres = rng.standard_normal((count // 20 + 1, 1280)).astype(np.float32)
    have = ProductImage.objects.filter(merchant=merchant).count()
    version = model_version_ensure_default()
    for start in range(have, count, 2000):
        n = min(2000, count - start)
        products = Product.objects.bulk_create(
            Product(merchant=merchant, sku=f"D-{start + i}", name="p") for i in range(n)
        )
        images = ProductImage.objects.bulk_create(
            ProductImage(
                product=product,
                merchant=merchant,
                file=f"images/x/{start + i:064x}.jpg",
                sha256=f"{start + i:064x}",
                width=800,
                height=800,
                format="JPEG",
                byte_size=1,
                phash=f"{int(rng.integers(0, 2**63)):016x}",
            )
            for i, product in enumerate(products)
        )
        vectors = centres[(start + np.arange(n)) % len(centres)] + 0.3 * (
            rng.standard_normal((n, 1280)).astype(np.float32)
        )
        Prediction.objects.bulk_create(
            Prediction(
                image=image,
                model_version=version,
                confidence=0.5,
                top_k=[],
                embedding=vector.astype(np.float32).tobytes(),
                status=Prediction.Status.NEEDS_REVIEW,
            )
            for image, vector in zip(images, vectors, strict=True)
        )
        print(f"{start + n} photos", file=sys.stderr, flush=True)
    return centres


def scan(image: ProductImage, vector: np.ndarray, limit: int) -> list:
    """The scan the index replaced: the latest ``limit`` embeddings, compared."""
    rows = list(
        Prediction.objects.filter(
            is_current=True,
            embedding__isnull=False,
            image__merchant_id=image.merchant_id,
        )
        .exclude(image__product_id=image.product_id)
        .order_by("-id")
        .values_list("image_id", "embedding")[:limit]
    )
    matrix = np.frombuffer(b"".join(bytes(d) for _, d in rows), np.float32)
    matrix = matrix.reshape(len(rows), vector.size)
    similarity = (
        matrix @ vector / (np.linalg.norm(matrix, axis=1) * np.linalg.norm(vector))
    )
    close = np.flatnonzero(similarity >= settings.VITRINE_NEAR_DUPLICATE_COSINE)
    return sorted((rows[i][0], round(float(similarity[i]), 4)) for i in close)


def timed(function, *args) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args)
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    rng = np.random.default_rng(0)
    merchant, _ = Merchant.objects.get_or_create(slug="dups-bench", name="Dups")
    centres = fill(merchant, args.photos, rng)
    product = Product.objects.create(merchant=merchant, sku=f"Q-{time.time()}")
    query = ProductImage(product=product, merchant=merchant, phash="0" * 16)

    def search(vector):
        similarity_index.phash_matches(query)
        return sorted(similarity_index.embedding_matches(query, vector))

    build_ms, _ = timed(search, centres[0])
    vectors = [
        (
            centres[int(rng.integers(len(centres)))] + 0.1 * rng.standard_normal(1280)
        ).astype(np.float32)
        for _ in range(args.queries)
    ]
    index_ms, scan_ms, agree = [], [], 0
    for vector in vectors:
        ms, found = timed(search, vector)
        index_ms.append(ms)
        ms, scanned = timed(scan, query, vector, 2000)
        scan_ms.append(ms)
        agree += set(scanned) <= set(found)
    full_ms = []
    for vector in vectors[:3]:
        ms, scanned = timed(scan, query, vector, args.photos + 1)
        full_ms.append(ms)
        assert scanned == search(vector), "the index and the full scan differ"
    print(
        json.dumps(
            {
                "photos": ProductImage.objects.filter(merchant=merchant).count(),
                "index_build_ms": round(build_ms),
                "index_ms_per_photo": round(statistics.median(index_ms), 2),
                "scan_2000_ms_per_photo": round(statistics.median(scan_ms), 2),
                "scan_all_ms_per_photo": round(statistics.median(full_ms), 1),
                "index_found_what_scan_2000_found": f"{agree}/{len(vectors)}",
                "index_equals_scan_all": "3/3",
            }
        )
    )


if __name__ == "__main__":
    main()
