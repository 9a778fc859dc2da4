"""Time the staff dashboard's JSON on PostgreSQL with a million predictions.

    .venv/bin/python -m bench.dashboard_json [--predictions 1000000] [--days 365]
        [--repeat 5] [--postgres postgres://postgres@127.0.0.1:5432]
        [--keep | --reuse DATABASE_URL] [--serial] [--queries]

Creates a scratch database of its own (never the one DATABASE_URL names),
migrates it, and fills it in SQL with INSERT ... SELECT over generate_series:
200 merchants of very unequal size, one product per ten photos, one photo per
prediction, a year of history (--days) spread evenly, three model versions, 2 %
failures, about 60 % accepted automatically and the rest sent to review, most
of which a reviewer decided. Then it signs in as staff and times
GET /dashboard/data/ (the whole request: session, every query, JSON) for the
presets, the biggest and the smallest merchant, and a full year, and drops the
database (unless --keep). Besides wall time it reports the CPU time the request
took in this process and in its PostgreSQL backend: on a shared machine that is
what the request costs, whatever else is running.
"""

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MERCHANTS = 200
PHOTOS_PER_PRODUCT = 10
REASONS = [
    "The stored image file is missing.",
    "The file is not an image we can read.",
    "The image has more pixels than allowed.",
    "Classification timed out.",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--predictions", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--days", type=int, default=365, help="history length")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "VITRINE_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
        ),
        help="server URL without a database name",
    )
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument(
        "--reuse",
        metavar="DATABASE_URL",
        help="time a database an earlier --keep run left (nothing is generated)",
    )
    parser.add_argument(
        "--queries", action="store_true", help="print each query's time"
    )
    parser.add_argument(
        "--serial",
        action="store_true",
        help="no parallel query workers, so the cpu column holds all the work",
    )
    args = parser.parse_args()
    if args.serial:
        os.environ["PGOPTIONS"] = "-c max_parallel_workers_per_gather=0"

    if args.reuse:
        return _run(args, args.reuse, generate=False)

    import psycopg

    name = f"vitrine_bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(f"{args.postgres}/postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    print(f"scratch database {name}")
    try:
        return _run(args, f"{args.postgres}/{name}")
    finally:
        from django.db import connections

        connections.close_all()
        if args.keep:
            print(f"kept {args.postgres}/{name}")
        else:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _run(args, database_url: str, generate: bool = True) -> int:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if generate:
        _generate(args, connection)
    _time_requests(args, connection)
    return 0


def _generate(args, connection) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        counts = _fill(cursor, args.predictions, args.days)
        for table in (
            "accounts_merchant",
            "catalog_product",
            "catalog_productimage",
            "classification_prediction",
            "classification_review",
        ):
            cursor.execute(f"VACUUM ANALYZE {table}")
    print(
        f"generated in {time.perf_counter() - started:.1f} s: "
        + ", ".join(f"{n:,} {what}" for what, n in counts.items())
    )


def _fill(cursor, predictions: int, days: int) -> dict:
    products = -(-predictions // PHOTOS_PER_PRODUCT)
    cursor.execute("SELECT setseed(0.42)")
    _insert(
        cursor,
        "accounts_merchant",
        {
            "name": "'Merchant ' || lpad(g::text, 3, '0')",
            "slug": "'merchant-' || g",
            "created_at": f"now() - interval '{days + 30} days'",
        },
        f"generate_series(1, {MERCHANTS}) g",
    )
    # A few merchants hold most of the photos, as on a real platform.
    _insert(
        cursor,
        "catalog_product",
        {
            "merchant_id": (
                "(SELECT min(id) FROM accounts_merchant)"
                f" + floor({MERCHANTS} * power(random(), 3))::int"
            ),
            "sku": "'SKU-' || g",
            "name": "'Product ' || g",
            "category_source": "'model'",
            "created_at": f"now() - interval '{days} days'",
            "updated_at": "now()",
        },
        f"generate_series(1, {products}) g",
    )
    cursor.execute("SELECT array_agg(id ORDER BY id) FROM catalog_category")
    categories = cursor.fetchone()[0]
    cursor.execute(
        f"""
        CREATE TEMP TABLE gen AS
        SELECT g AS n,
               (SELECT min(id) FROM catalog_product) + (g - 1) / {PHOTOS_PER_PRODUCT}
                   AS product_id,
               now() - interval '1 day' * {days} * random() AS at,
               random() AS outcome, random() AS decided, random() AS spread,
               (ARRAY{categories})[1 + floor(random() * {len(categories)})::int]
                   AS category_id,
               (ARRAY{categories})[1 + floor(random() * {len(categories)})::int]
                   AS other_category_id
        FROM generate_series(1, {predictions}) g
        """
    )
    cursor.execute(
        """
        ALTER TABLE gen ADD COLUMN status text;
        UPDATE gen SET status = CASE
            WHEN outcome < 0.02 THEN 'failed'
            WHEN outcome < 0.62 THEN 'auto_accepted'
            WHEN at > now() - interval '2 days' OR decided < 0.15 THEN 'needs_review'
            WHEN decided < 0.83 THEN 'accepted'
            ELSE 'corrected' END;
        """
    )
    for offset, (name, status) in enumerate(
        [("v1", "retired"), ("v2", "retired"), ("v3", "active")]
    ):
        # The first version is older than every generated prediction.
        age = days + 1 - days // 3 * offset
        _insert(
            cursor,
            "classification_modelversion",
            {
                "name": f"'bench-{name}'",
                "architecture": "'efficientnet_lite0'",
                "classes": "'[]'::jsonb",
                "artifact": f"'models/bench-{name}.pt'",
                "checksum": "repeat('0', 64)",
                "status": f"'{status}'",
                "created_at": f"now() - interval '{age} days'",
            },
            "(SELECT 1) one",
        )
    image_status = """CASE gen.status WHEN 'failed' THEN 'failed'
        WHEN 'auto_accepted' THEN 'classified' WHEN 'needs_review' THEN 'needs_review'
        ELSE 'reviewed' END"""
    _insert(
        cursor,
        "catalog_productimage",
        {
            "id": "gen.n",
            "product_id": "gen.product_id",
            "merchant_id": "p.merchant_id",
            "file": "'images/' || gen.n || '.jpg'",
            "thumbnail": "'thumbnails/' || gen.n || '.webp'",
            "sha256": "md5(gen.n::text) || md5((gen.n + 1)::text)",
            "width": "800",
            "height": "800",
            "format": "'JPEG'",
            "byte_size": "120000",
            "status": image_status,
            "status_changed_at": "gen.at",
            "created_at": "gen.at",
        },
        "gen JOIN catalog_product p ON p.id = gen.product_id",
    )
    reasons = "ARRAY[" + ", ".join(f"'{r}'" for r in REASONS) + "]"
    version = """(SELECT id FROM classification_modelversion v
        WHERE v.created_at <= gen.at ORDER BY v.created_at DESC LIMIT 1)"""
    _insert(
        cursor,
        "classification_prediction",
        {
            "id": "gen.n",
            "image_id": "gen.n",
            "model_version_id": version,
            "category_id": "CASE WHEN gen.status <> 'failed' THEN gen.category_id END",
            "confidence": """CASE WHEN gen.status = 'failed' THEN NULL
                WHEN gen.status = 'auto_accepted' THEN 0.6 + 0.4 * gen.spread
                ELSE 0.1 + 0.5 * gen.spread END""",
            "margin": "CASE WHEN gen.status <> 'failed' THEN 0.3 * gen.spread END",
            "top_k": "'[]'::jsonb",
            "latency_ms": """CASE WHEN gen.status <> 'failed'
                THEN 25 + 40 * gen.spread + 200 * power(gen.decided, 30) END""",
            "status": "gen.status",
            "error": f"""CASE WHEN gen.status = 'failed'
                THEN ({reasons})[1 + floor(gen.spread * {len(REASONS)})::int]
                ELSE '' END""",
            "is_current": "true",
            "created_at": "gen.at + interval '2 seconds'",
        },
        "gen",
    )
    _insert(
        cursor,
        "classification_review",
        {
            "prediction_id": "gen.n",
            "decision": "gen.status",
            "final_category_id": """CASE gen.status WHEN 'accepted'
                THEN gen.category_id ELSE gen.other_category_id END""",
            "note": "''",
            "created_at": "least(now(), gen.at + interval '1 hour' * 48 * gen.decided)",
        },
        "gen WHERE gen.status IN ('accepted', 'corrected')",
    )
    for table in ("catalog_productimage", "classification_prediction"):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT max(id) FROM {table}))"
        )
    counts = {}
    for what, table in [
        ("merchants", "accounts_merchant"),
        ("products", "catalog_product"),
        ("photos", "catalog_productimage"),
        ("predictions", "classification_prediction"),
        ("reviews", "classification_review"),
    ]:
        cursor.execute(f"SELECT count(*) FROM {table}")
        counts[what] = cursor.fetchone()[0]
    return counts


# Values for required columns the generator does not name (columns other parts
# of the platform add later), so the bench keeps working as the schema grows.
FILLERS = {
    "text": "''",
    "character varying": "''",
    "jsonb": "'{}'::jsonb",
    "boolean": "false",
    "integer": "0",
    "bigint": "0",
    "smallint": "0",
    "double precision": "0",
    "numeric": "0",
    "timestamp with time zone": "now()",
    "date": "current_date",
    "bytea": "''::bytea",
    "uuid": "gen_random_uuid()",
}


def _insert(cursor, table: str, values: dict[str, str], source: str) -> None:
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
           WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
             AND is_identity = 'NO'""",
        [table],
    )
    for column, data_type in cursor.fetchall():
        if column not in values and column != "id":
            values = {**values, column: FILLERS[data_type]}
    columns = ", ".join(values)
    cursor.execute(
        f"INSERT INTO {table} ({columns}) SELECT {', '.join(values.values())} "
        f"FROM {source}"
    )


def _cpu_ms(pid: int) -> float:
    """User plus system CPU time a process has used, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _time_requests(args, connection) -> None:
    from django.db.models import Count
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from accounts.models import Merchant, User
    from dashboard.selectors import Period

    staff, _ = User.objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True}
    )
    by_size = Merchant.objects.annotate(n=Count("images")).order_by("-n", "pk")
    biggest, smallest = by_size.first(), by_size.last()
    year = Period.last(366)
    cases = [
        ("last 7 days", {"period": "7"}),
        ("last 30 days (default)", {"period": "30"}),
        ("last 90 days", {"period": "90"}),
        ("last 90 days, biggest merchant", {"period": "90", "merchant": biggest.pk}),
        ("last 90 days, smallest merchant", {"period": "90", "merchant": smallest.pk}),
        ("custom 366 days", {"period": "custom", "start": year.start, "end": year.end}),
    ]
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    local = Path(f"/proc/{backend}").exists()
    print(
        f"GET /dashboard/data/, {args.repeat} runs after one warm-up, in ms; cpu is "
        "this process plus its PostgreSQL backend"
        + ("" if local else " (not measured: the server is not on this machine)")
    )
    print(
        f"  {'filters':34} {'min':>6} {'median':>6} {'max':>6} "
        f"{'cpu':>6} {'queries':>7}"
    )
    for label, params in cases:
        client.get("/dashboard/data/", params)  # warm caches
        times, cpu = [], []
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                cpu_before = time.process_time() * 1000 + (
                    _cpu_ms(backend) if local else 0
                )
                started = time.perf_counter()
                response = client.get("/dashboard/data/", params)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append(
                    time.process_time() * 1000
                    + (_cpu_ms(backend) if local else 0)
                    - cpu_before
                )
            assert response.status_code == 200, response.content[:500]
        print(
            f"  {label:34} {min(times):6.0f} {statistics.median(times):6.0f} "
            f"{max(times):6.0f} {statistics.median(cpu):6.0f} "
            f"{len(captured.captured_queries):7d}"
        )
        if args.queries:
            for query in sorted(
                captured.captured_queries, key=lambda q: -float(q["time"])
            ):
                print(f"      {float(query['time']) * 1000:7.1f} {query['sql'][:150]}")


if __name__ == "__main__":
    sys.exit(main())
