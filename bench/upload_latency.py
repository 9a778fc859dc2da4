"""Time from upload to prediction on the embedded stack (SQLite, in-process tasks,
local files), as a merchant's browser sees it.

    .venv/bin/python -m bench.upload_latency [--photos DIR] [--count 20]

Starts `manage.py runserver` on a scratch data folder, signs in as a new merchant,
uploads COUNT different real photos one at a time (each to its own product) and
measures from the start of the upload request until the product page reports the
photo classified. The first upload also loads the model; it is reported apart.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from tests.e2e.site import Site
from tests.services import embedded_server, manage, project_env

DEFAULT_PHOTOS = (
    Path(__file__).resolve().parents[2] / "shared/datasets/fashion-products/images"
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    photos = sorted(args.photos.glob("*.jpg"))[: args.count + 1]
    if len(photos) < args.count + 1:
        parser.error(f"need {args.count + 1} JPEG photos in {args.photos}")

    with tempfile.TemporaryDirectory(prefix="vitrine-bench-") as var:
        env = project_env(VITRINE_VAR_DIR=var)
        manage("migrate", "--noinput", env=env)
        manage(
            "create_merchant",
            "Bench",
            "--username",
            "bench",
            "--email",
            "bench@example.com",
            "--password",
            "bench-password-1",
            env=env,
        )
        with embedded_server(env) as url:
            site = Site(url)
            site.login("bench", "bench-password-1")
            timings = []
            for index, photo in enumerate(photos):
                product_id = site.create_product(f"B-{index}", photo.stem)
                started = time.perf_counter()
                answer = site.upload(product_id, photo.read_bytes(), photo.name)
                assert answer["results"][0]["ok"], answer
                site.wait_classified(product_id)
                timings.append((time.perf_counter() - started) * 1000)

    first, rest = timings[0], timings[1:]
    print(f"first upload (loads the model): {first:.0f} ms")
    print(f"uploads measured: {len(rest)} different photos")
    print(f"median upload-to-prediction: {statistics.median(rest):.0f} ms")
    print(
        f"p90: {statistics.quantiles(rest, n=10)[-1]:.0f} ms  "
        f"min: {min(rest):.0f} ms  max: {max(rest):.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
