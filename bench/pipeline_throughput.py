"""Photos per second from queued to stored prediction, on the Redis stack.

Usage::

    .venv/bin/python bench/pipeline_throughput.py [--count 300] [--rounds 2] \\
        [--project DIR ...] [--photos DIR]

For each project checkout (by default this one; give ``--project`` several times,
e.g. an exported copy of another branch, and the rounds take turns between them,
so that a busy machine weighs on each alike): a fresh PostgreSQL database and
Redis database, COUNT real photos (the Myntra photos re-encoded at 800 x 800 px
JPEG, cached under ``var/bench-800``) uploaded through the upload service while
no worker runs, so that COUNT classification tasks wait on the queue; then the
inference worker is started as that checkout's README tells a user to, and the
figure is the predictions' rate from the first to the last stored one.

Also printed: each task's run time (Celery's "succeeded in", p50 and p95; the
worker runs with ``--loglevel=INFO`` added so that it logs them), the CPU time
the worker used per photo after the first prediction, and the split per stage that the
worker logs (decode, network, database writes, near-duplicate search; only
checkouts that log it). Needs PostgreSQL at ``--database-url`` (a database of
that name plus ``_bench`` is dropped and made again) and Redis at ``--broker``
(that database is flushed).
"""

import argparse
import io
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import redis
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.services import BIN, project_env, stop_process  # noqa: E402

DEFAULT_PHOTOS = ROOT.parent.parent / "shared/datasets/fashion-products/images"
# Worker commands from each README ("Running on real services"), found there.
WORKER_LINE = re.compile(r"^\.venv/bin/(celery -A config worker -Q inference[^#\n]*)")
SUCCEEDED = re.compile(r"classify_image\[[^\]]+\] succeeded in ([0-9.]+)s")
STAGES = re.compile(r"stages \(ms\): (\{[^}]*\})")

SETUP = """
import sys
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from accounts.models import Merchant
from catalog.services import product_create
from classification.services.intake import image_upload
from classification.services.versions import model_version_ensure_default
model_version_ensure_default()  # registered (and exported) before timing
merchant = Merchant.objects.create(name="Bench", slug="bench")
for n, path in enumerate(sys.argv[1:]):
    product = product_create(merchant=merchant, sku=f"SKU-{n}", name=f"Photo {n}")
    with open(path, "rb") as f:
        upload = SimpleUploadedFile("p.jpg", f.read(), content_type="image/jpeg")
    image_upload(product=product, upload=upload, user=None)
"""


def photos_800(source: Path, count: int) -> list[Path]:
    """The first ``count`` photos of ``source`` re-encoded at 800 x 800 px."""
    target = ROOT / "var" / "bench-800"
    target.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in sorted(source.glob("*.jpg"))[:count]:
        out = target / path.name
        if not out.exists():
            image = Image.open(path).convert("RGB").resize((800, 800), Image.BICUBIC)
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=90)
            out.write_bytes(buffer.getvalue())
        paths.append(out)
    if len(paths) < count:
        raise SystemExit(f"need {count} JPEG photos in {source}")
    return paths


def worker_command(project: Path) -> list[str]:
    for line in (project / "README.md").read_text().splitlines():
        if match := WORKER_LINE.match(line.strip()):
            command = match.group(1).split()
            # Task run times are logged at INFO, which the README leaves out.
            return [str(BIN / command[0]), *command[1:], "--loglevel=INFO"]
    raise SystemExit(f"{project}/README.md names no inference worker command")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_run(project: Path, photos: list[Path], args) -> dict:
    admin_url, _, name = args.database_url.rpartition("/")
    database = f"{name}_bench"
    with psycopg.connect(f"{admin_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    redis.Redis.from_url(args.broker).flushdb()
    var = Path(tempfile.mkdtemp(prefix="vitrine-pipeline-"))
    env = project_env(
        DATABASE_URL=f"{admin_url}/{database}",
        CELERY_BROKER_URL=args.broker,
        VITRINE_VAR_DIR=str(var),
    )
    python = str(BIN / "python")

    def run(*command: str) -> None:
        subprocess.run(command, cwd=project, env=env, check=True, capture_output=True)

    run(python, "manage.py", "migrate", "--noinput")
    run(python, "-c", SETUP, *map(str, photos))
    log_path = var / "worker.log"
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            worker_command(project),
            cwd=project,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            with psycopg.connect(f"{admin_url}/{database}") as db:
                deadline = time.monotonic() + args.timeout
                cpu_at_first = None
                while time.monotonic() < deadline:
                    (done,) = db.execute(
                        "select count(*) from classification_prediction"
                    ).fetchone()
                    db.commit()
                    if done and cpu_at_first is None:
                        cpu_at_first, done_at_first = _cpu_seconds(worker.pid), done
                    if done >= len(photos):
                        break
                    time.sleep(0.2)
                first, last, done, failed = db.execute(
                    "select min(created_at), max(created_at), count(*), "
                    "count(*) filter (where status = 'failed') "
                    "from classification_prediction"
                ).fetchone()
            cpu = _cpu_seconds(worker.pid) - cpu_at_first
        finally:
            stop_process(worker)
    text = log_path.read_text(errors="replace")
    tasks = [float(s) * 1000 for s in SUCCEEDED.findall(text)]
    stages = [json.loads(s) for s in STAGES.findall(text)]
    seconds = (last - first).total_seconds() if done > 1 else float("nan")
    result = {
        "project": str(project),
        "worker": " ".join(worker_command(project)[1:]),
        "photos": done,
        "failed": failed,
        "photos_per_second": round((done - 1) / seconds, 2) if seconds else None,
        "first_to_last_s": round(seconds, 2),
        "task_ms_p50": round(statistics.median(tasks), 1) if tasks else None,
        "task_ms_p95": round(percentile(tasks, 0.95), 1) if tasks else None,
        # After the first prediction: the model loads are mostly left out.
        "worker_cpu_ms_per_photo": round(cpu / max(done - done_at_first, 1) * 1000, 1),
    }
    if stages:
        result["stage_ms_median"] = {
            key: round(statistics.median(s[key] for s in stages), 1)
            for key in stages[0]
        }
    return result


def _cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by the worker and its pool's processes."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / 100  # utime + stime, ticks
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--project", type=Path, action="append")
    parser.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/vitrine_serve"
    )
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/8")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    projects = [p.resolve() for p in (args.project or [ROOT])]
    photos = photos_800(args.photos, args.count)
    results = []
    for round_ in range(args.rounds):
        for project in projects:
            result = {"round": round_ + 1, **one_run(project, photos, args)}
            print(json.dumps(result), flush=True)
            results.append(result)
    if len(projects) > 1:
        rates = {
            str(p): statistics.median(
                r["photos_per_second"] for r in results if r["project"] == str(p)
            )
            for p in projects
        }
        base = rates[str(projects[0])]
        print(
            json.dumps(
                {"median_photos_per_second": rates}
                | {"ratio_to_first": {p: round(v / base, 2) for p, v in rates.items()}}
            )
        )


if __name__ == "__main__":
    main()
