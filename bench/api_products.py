"""Throughput and latency of ``GET /api/v1/products/?page_size=50``.

Makes a scratch PostgreSQL database with 10,000 products (one image row each,
a category on most), serves it with gunicorn (2 sync workers, production
settings) on loopback, and loads it with wrk (``apt-get install -y wrk``) or,
without wrk, a bounded Python keep-alive loop. Prints requests/s and the p50,
p95 and p99 latencies, then drops the database.

    .venv/bin/python bench/api_products.py [--products 10000] [--duration 30]
        [--connections 8] [--postgres postgres://postgres@127.0.0.1:5432]

Every request goes to 127.0.0.1 only, and the run stops by itself.
"""

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import closing, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from tests.services import manage, project_env  # noqa: E402

SEED = """
import random
from decimal import Decimal
from accounts.models import Membership, Merchant, User
from accounts.services import api_token_create
from catalog.models import Category, Product, ProductImage
merchant = Merchant.objects.create(name="Bench shop", slug="bench-shop")
user = User.objects.create_user(username="bench", password=None)
Membership.objects.create(user=user, merchant=merchant, role="owner")
categories = list(Category.objects.all())
rng = random.Random(0)
products = Product.objects.bulk_create(
    [
        Product(
            merchant=merchant,
            sku=f"SKU-{n:06d}",
            name=f"Product {n}",
            price=Decimal(rng.randint(100, 99999)) / 100,
            category=rng.choice(categories) if n % 5 else None,
            category_source="merchant" if n % 5 else "",
        )
        for n in range(__COUNT__)
    ],
    batch_size=2000,
)
ProductImage.objects.bulk_create(
    [
        ProductImage(
            product=p, merchant=merchant, file=f"images/{p.pk:064x}.jpg",
            sha256=f"{p.pk:064x}", width=800, height=600, format="JPEG",
            byte_size=50000, status="classified",
        )
        for p in products
    ],
    batch_size=2000,
)
print("TOKEN", api_token_create(user=user, name="bench")[1])
"""

WRK_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format("JSON {\\"requests\\": %d, \\"seconds\\": %f, "
    .. "\\"errors\\": %d, \\"non2xx\\": %d, \\"p50\\": %f, \\"p95\\": %f, "
    .. "\\"p99\\": %f}\\n",
    summary.requests, summary.duration / 1e6,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout, summary.errors.status,
    latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3))
end
"""


def free_port() -> int:
    import socket

    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def scratch_database(server: str):
    import psycopg

    name = f"vitrine_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{server}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def environment(database_url: str, media: str) -> dict[str, str]:
    return project_env(
        DJANGO_DEBUG="false",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(64),
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=database_url,
        VITRINE_MEDIA_ROOT=media,
        # The benchmark measures serving, not the rate limits.
        VITRINE_API_RATE_MERCHANT="100000000/minute",
        LOG_LEVEL="WARNING",
    )


def wait_for(url_port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit("gunicorn exited before answering")
        try:
            with closing(
                http.client.HTTPConnection("127.0.0.1", url_port, timeout=2)
            ) as c:
                c.request("GET", "/health/ready/")
                if c.getresponse().status in (200, 503):
                    return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("gunicorn did not answer in time")


def run_wrk(url: str, token: str, *, duration: int, connections: int) -> dict:
    script = Path(tempfile.mkdtemp()) / "report.lua"
    script.write_text(WRK_REPORT)
    command = [
        "wrk",
        "-t2",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-H",
        f"Authorization: Token {token}",
        "-s",
        str(script),
        url,
    ]
    shown = " ".join(command).replace(token, "<token>")
    output = subprocess.run(
        command, capture_output=True, text=True, timeout=duration + 60
    ).stdout
    shutil.rmtree(script.parent, ignore_errors=True)
    report = json.loads(re.search(r"^JSON (.*)$", output, re.M).group(1))
    report["rps"] = report["requests"] / report["seconds"]
    report["command"] = shown
    return report


def run_python(port: int, path: str, token: str, *, duration: int, connections: int):
    """Keep-alive clients in threads, each bounded by the duration."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + duration

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.monotonic() < stop:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Token {token}"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "requests": len(latencies),
        "seconds": seconds,
        "errors": errors[0],
        "non2xx": 0,
        "rps": len(latencies) / seconds,
        "p50": cuts[49],
        "p95": cuts[94],
        "p99": cuts[98],
        "command": f"python keep-alive loop, {connections} connections, {duration} s",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "VITRINE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
        ),
    )
    parser.add_argument("--python-client", action="store_true", help="skip wrk")
    args = parser.parse_args()

    load_before = os.getloadavg()
    media = tempfile.mkdtemp(prefix="vitrine-bench-media-")
    with scratch_database(args.postgres) as database_url:
        env = environment(database_url, media)
        print(f"migrating a scratch database; seeding {args.products} products")
        manage("migrate", "--noinput", env=env, timeout=600)
        seeded = manage(
            "shell",
            "-c",
            SEED.replace("__COUNT__", str(args.products)),
            env=env,
            timeout=600,
        )
        token = re.search(r"^TOKEN (\S+)$", seeded, re.M).group(1)
        port = free_port()
        gunicorn = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                f"--bind=127.0.0.1:{port}",
                f"--workers={args.workers}",
                "--worker-class=sync",
                "--timeout=60",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_for(port, gunicorn)
            path = f"/api/v1/products/?page_size={args.page_size}"
            with closing(http.client.HTTPConnection("127.0.0.1", port)) as conn:
                conn.request("GET", path, headers={"Authorization": f"Token {token}"})
                body = json.loads(conn.getresponse().read())
            assert body["count"] == args.products, body
            assert len(body["results"]) == args.page_size
            # Warm both workers: connections, caches, the first token write.
            if shutil.which("wrk") and not args.python_client:
                run_wrk(
                    f"http://127.0.0.1:{port}{path}",
                    token,
                    duration=3,
                    connections=args.connections,
                )
                report = run_wrk(
                    f"http://127.0.0.1:{port}{path}",
                    token,
                    duration=args.duration,
                    connections=args.connections,
                )
            else:
                run_python(port, path, token, duration=3, connections=args.connections)
                report = run_python(
                    port,
                    path,
                    token,
                    duration=args.duration,
                    connections=args.connections,
                )
        finally:
            gunicorn.terminate()
            try:
                gunicorn.wait(timeout=20)
            except subprocess.TimeoutExpired:
                gunicorn.kill()
            shutil.rmtree(media, ignore_errors=True)
    print(
        f"GET {path} | {args.products} products in PostgreSQL | gunicorn "
        f"{args.workers} sync workers | {os.cpu_count()} CPUs"
    )
    print(f"load: {report['command']}")
    print(
        "machine load average before the run: "
        + ", ".join(f"{x:.1f}" for x in load_before)
        + " (other processes on the machine slow the figures down)"
    )
    print(
        f"{report['rps']:.1f} requests/s over {report['seconds']:.1f} s "
        f"({report['requests']} requests, {report['errors']} errors, "
        f"{report['non2xx']} non-2xx)"
    )
    print(
        f"latency p50 {report['p50']:.1f} ms, p95 {report['p95']:.1f} ms, "
        f"p99 {report['p99']:.1f} ms"
    )


if __name__ == "__main__":
    main()
