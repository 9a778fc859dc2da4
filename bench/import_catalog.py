"""A generated catalog ZIP imported end to end: from the start of the upload to
the last photo's prediction, on PostgreSQL, Redis and a real worker.

    .venv/bin/python -m bench.import_catalog [--count 10000] [--photos DIR]
        [--database-url postgres://...] [--broker redis://127.0.0.1:6379/N]

Builds a ZIP of COUNT different JPEGs (the Myntra photos under DIR, each
re-encoded with a stamp of its index so that no two share bytes; noise when DIR
holds none) and a CSV of one product per photo. Then migrates a scratch
database (or the one given, which must be empty), starts the worker as the
README's `make worker` does (a process per CPU, every queue) and gunicorn as in
production, posts the ZIP to `POST /api/v1/imports/` and polls until the job is
done and no photo waits for classification.

Prints the upload time, the import job's time (rows stored), the time to the
last prediction, photos per second end to end, and the cost per row of the
import alone (job time / rows) and per photo of the whole run.
"""

import argparse
import csv
import io
import signal
import sys
import tempfile
import time
import zipfile
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import requests
from PIL import Image

from tests.services import (
    celery_worker_args,
    free_port,
    manage,
    postgres_database,
    project_env,
    running,
    wait_for_port,
    web_server_args,
)

DEFAULT_PHOTOS = (
    Path(__file__).resolve().parents[2] / "shared/datasets/fashion-products/images"
)
USER, PASSWORD = "bench", "bench-password-1"


def build_zip(path: Path, *, count: int, photos: list[Path]) -> None:
    """Write the catalog ZIP: COUNT unique JPEGs and catalog.csv naming them."""
    rows = io.StringIO()
    writer = csv.writer(rows)
    writer.writerow(["sku", "name", "description", "price", "category", "image"])
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        for n in range(count):
            if photos:
                picture = Image.open(photos[n % len(photos)]).convert("RGB")
            else:
                pixels = rng.integers(0, 255, (224, 224, 3), dtype=np.uint8)
                picture = Image.fromarray(pixels)
            # A stamp of the index in the corner: different bytes for each.
            stamp = Image.new("RGB", (4, 4), (n % 256, (n // 256) % 256, n // 65536))
            picture.paste(stamp, (0, 0))
            out = io.BytesIO()
            picture.save(out, "JPEG", quality=90)
            name = f"photos/{n:06d}.jpg"
            archive.writestr(name, out.getvalue())
            writer.writerow([f"B-{n:06d}", f"Bench product {n}", "", "9.99", "", name])
        archive.writestr("catalog.csv", rows.getvalue())


def count_images(http, base: str, status: str = "") -> int:
    query = f"?status={status}&page_size=1" if status else "?page_size=1"
    response = http.get(f"{base}/api/v1/images/{query}", timeout=60)
    response.raise_for_status()
    return response.json()["count"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--database-url", help="default: a scratch database")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/7")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="no worker: `manage.py import_catalog` stores the rows in its own "
        "process, on a broker that keeps the classification tasks in memory and "
        "drops them; prints the import's own cost per row",
    )
    args = parser.parse_args()
    # Stopped from outside: still stop the worker and web server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    photos = sorted(args.photos.glob("*.jpg")) if args.photos.is_dir() else []

    with ExitStack() as stack:
        var = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vb-")))
        database_url = args.database_url or stack.enter_context(postgres_database())
        archive = var / "catalog.zip"
        build_zip(archive, count=args.count, photos=photos)
        size_mb = archive.stat().st_size / 1024**2
        print(f"{args.count} photos, ZIP {size_mb:.1f} MB", file=sys.stderr)
        import redis

        if args.import_only:
            broker = "memory://localhost/"  # tasks are queued, and dropped
        else:
            broker = args.broker
            redis.Redis.from_url(broker).flushdb()
        env = project_env(
            VITRINE_VAR_DIR=str(var / "var"),
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=broker,
        )
        manage("migrate", "--noinput", env=env)
        manage(
            "create_merchant",
            "Bench",
            "--username",
            USER,
            "--email",
            "bench@example.com",
            "--password",
            PASSWORD,
            env=env,
        )
        if args.import_only:
            return _import_only(archive, env=env, count=args.count)
        port = free_port()
        stack.enter_context(
            running(
                celery_worker_args(concurrency=None), env=env, log_name="worker.log"
            )
        )
        web = stack.enter_context(
            running(web_server_args(port), env=env, log_name="web.log")
        )
        wait_for_port(port, timeout=60, proc=web)
        base = f"http://127.0.0.1:{port}"
        http = requests.Session()
        token = http.post(
            f"{base}/api/v1/auth/token/",
            json={"username": USER, "password": PASSWORD, "name": "bench"},
            timeout=60,
        ).json()["key"]
        http.headers["Authorization"] = f"Token {token}"

        start = time.perf_counter()
        with archive.open("rb") as stream:
            answer = http.post(
                f"{base}/api/v1/imports/",
                files={"file": ("catalog.zip", stream, "application/zip")},
                timeout=600,
            )
        answer.raise_for_status()
        uploaded = time.perf_counter() - start
        job_url = f"{base}/api/v1/imports/{answer.json()['id']}/"
        imported = last = None
        while time.perf_counter() - start < args.timeout:
            time.sleep(1.0)
            job = http.get(job_url, timeout=60).json()
            if job["status"] == "failed":
                print(f"the import failed: {job['message']}", file=sys.stderr)
                return 1
            if imported is None and job["status"] == "succeeded":
                imported = time.perf_counter() - start
            waiting = count_images(http, base, "pending") + count_images(
                http, base, "processing"
            )
            print(
                f"\r{time.perf_counter() - start:7.1f} s: rows {job['rows_done']}"
                f"/{job['rows_total']}, photos waiting {waiting}",
                end="",
                file=sys.stderr,
            )
            if imported is not None and waiting == 0:
                last = time.perf_counter() - start
                break
        print(file=sys.stderr)
        if last is None:
            print("timed out", file=sys.stderr)
            return 1
        stored = count_images(http, base)
        failed = count_images(http, base, "failed")
        job_seconds = _seconds(job["finished_at"]) - _seconds(job["started_at"])

    print(
        f"import of {args.count} photos ({size_mb:.1f} MB ZIP), upload to last "
        f"prediction: {last:.1f} s = {args.count / last:.1f} photos/s; upload "
        f"{uploaded:.1f} s, rows stored after {imported:.1f} s; import job "
        f"{job_seconds:.1f} s = {1000 * job_seconds / args.count:.1f} ms per row; "
        f"{1000 * last / args.count:.1f} ms per photo end to end; "
        f"{stored} photos stored, {failed} failed classification, "
        f"{job['failures']} rows reported"
    )
    return 0


def _import_only(archive: Path, *, env: dict, count: int) -> int:
    import json

    start = time.perf_counter()
    summary = json.loads(
        manage(
            "import_catalog",
            str(archive),
            "--merchant",
            "bench",
            env=env,
            timeout=24 * 3600,
        ).splitlines()[-1]
    )
    wall = time.perf_counter() - start
    job = _seconds(summary["finished_at"]) - _seconds(summary["started_at"])
    print(
        f"import only (`manage.py import_catalog`, classification queued, no "
        f"worker): {count} rows with a photo each, job {job:.1f} s = "
        f"{1000 * job / count:.1f} ms per row ({wall:.1f} s with the command's "
        f"start and the file check); {summary['images_created']} photos stored, "
        f"{summary['failures']} failures"
    )
    return 0


def _seconds(stamp: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    sys.exit(main())
