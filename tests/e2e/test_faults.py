"""Faults injected into the real stack, and the pipeline healing itself.

One stack for the module, every part real and in its own process: PostgreSQL,
a Redis server the fixture owns (so it can stop it), a SeaweedFS server it owns
(the same), gunicorn, and Celery workers running the periodic upkeep as `make
worker` does. Each fault uploads a batch of photos of its own, injects the
fault, and then waits, with no manual command, for the end state: every photo
classified once by the active version (or failed for a permanent reason), no
photo still owed, no stored object that no row names, no row naming a missing
object. The wait has a deadline (RECOVERY_BOUND); how long recovery took is
printed (``-s``) for the README's table.

The pipeline's settings are shorter than the defaults so that the suite takes
minutes; the bound follows from them as it follows from the defaults (see the
README's "Faults and recovery").
"""

import hashlib
import os
import signal
import subprocess
import time
from contextlib import suppress
from pathlib import Path

import psycopg
import pytest
import requests

from tests.e2e.site import Site
from tests.e2e.test_stacks import PASSWORD, _seed
from tests.images import encode, noise_image
from tests.services import (
    RedisServer,
    SeaweedFS,
    celery_worker_args,
    free_port,
    manage,
    postgres_database,
    project_env,
    stop_process,
    wait_for_port,
    web_server_args,
)

pytestmark = [pytest.mark.slow, pytest.mark.services]

BATCH = 10
PIPELINE = {
    "VITRINE_DISPATCH_INTERVAL_SECONDS": "3",
    "VITRINE_DISPATCH_RETRY_SECONDS": "5",
    "VITRINE_DISPATCH_RETRY_MAX_SECONDS": "10",
    "VITRINE_CLASSIFY_TIME_LIMIT": "45",
    "VITRINE_TASK_MAX_RETRIES": "2",
    "VITRINE_TASK_RETRY_BACKOFF": "1",
    "VITRINE_TASK_RETRY_BACKOFF_MAX": "2",
    "VITRINE_ORPHAN_GRACE_SECONDS": "15",
    "VITRINE_ORPHAN_SWEEP_SECONDS": "5",
}
# The longest wait before a photo is sent again (a dead task's time limit, 45 s,
# or the dispatch backoff's cap, 10 s), plus an upkeep period, plus the batch's
# own classification, with room for a loaded 2-core machine. A deadline to wait
# for, not a speed to reach.
RECOVERY_BOUND = 120
FINAL = ("classified", "needs_review")
MEASURED: dict[str, str] = {}


def photos(seed: int, count: int = BATCH) -> list[bytes]:
    """Distinct small JPEGs (noise, each its own bytes)."""
    return [
        encode(noise_image(seed * 1000 + n, (160, 120)), "JPEG", quality=85)
        for n in range(count)
    ]


class Stack:
    def __init__(self, tmp: Path, database_url: str) -> None:
        self.tmp = tmp
        self.database_url = database_url
        self.redis = RedisServer()
        self.weed = SeaweedFS()
        self.procs: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        broker = self.redis.start()
        self.s3 = self.weed.start()
        self.env = project_env(
            VITRINE_VAR_DIR=str(self.tmp / "var"),
            DATABASE_URL=self.database_url,
            CELERY_BROKER_URL=broker,
            **self.s3.env(),
            **PIPELINE,
        )
        _seed(self.env)
        self.start_worker("a", beat=True)
        self.port = free_port()
        self.web = self._spawn(web_server_args(self.port), "web")
        wait_for_port(self.port, timeout=60, proc=self.web)
        self.site = Site(f"http://127.0.0.1:{self.port}")
        self.site.login("alice", PASSWORD)

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115
        proc = subprocess.Popen(
            args,
            cwd=Path(__file__).resolve().parents[2],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.procs.append(proc)
        return proc

    def start_worker(self, name: str, *, beat: bool = False) -> subprocess.Popen:
        schedule = self.tmp / f"beat-{name}" if beat else None
        args = celery_worker_args(beat_schedule=schedule, name=name)
        self.workers[name] = self._spawn(args, f"worker-{name}")
        return self.workers[name]

    def kill_worker(self, name: str) -> None:
        """SIGKILL the worker, its pool and its embedded beat at once."""
        proc = self.workers.pop(name)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def signal_worker(self, name: str, signum: int) -> None:
        os.killpg(self.workers[name].pid, signum)

    def close(self) -> None:
        for proc in reversed(self.procs):
            stop_process(proc)
        self.redis.close()
        self.weed.close()
        print(f"stack logs in {self.tmp}")

    # --- reading the end state, straight from the database and the bucket ---

    def sql(self, query: str, params=()) -> list[tuple]:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def product(self, sku: str) -> int:
        return self.site.create_product(sku, f"Product {sku}")

    def upload_all(self, product_id: int, batch: list[bytes]) -> None:
        for n, data in enumerate(batch):
            answer = self.site.upload(product_id, data, f"p{n}.jpg")
            assert answer["status_code"] == 200, answer
            assert answer["results"][0]["ok"] is True, answer

    def statuses(self, product_id: int) -> dict[int, str]:
        rows = self.sql(
            "SELECT id, status FROM catalog_productimage WHERE product_id = %s",
            [product_id],
        )
        return dict(rows)

    def wait_for(self, product_id: int, count: int, statuses: tuple, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            found = self.statuses(product_id)
            if len(found) == count and set(found.values()) <= set(statuses):
                return found
            assert time.monotonic() < deadline, f"after {timeout} s: {found}"
            time.sleep(0.5)

    def recovered(self, product_id: int, count: int, *, since: float) -> float:
        """Wait for the healed end state of the product's photos; return how
        long it took from ``since``."""
        deadline = since + RECOVERY_BOUND
        while True:
            found = self.statuses(product_id)
            owed = self.sql(
                "SELECT count(*) FROM classification_classificationrequest r "
                "JOIN catalog_productimage i ON i.id = r.image_id "
                "WHERE i.product_id = %s",
                [product_id],
            )[0][0]
            if len(found) == count and set(found.values()) <= set(FINAL) and not owed:
                break
            assert time.monotonic() < deadline, (
                f"not healed within {RECOVERY_BOUND} s: {found}, {owed} owed"
            )
            time.sleep(0.5)
        took = time.monotonic() - since
        self.assert_classified_once(product_id)
        return took

    def assert_classified_once(self, product_id: int) -> None:
        rows = self.sql(
            "SELECT i.id, count(p.id) FILTER (WHERE p.status <> 'failed'), "
            "count(p.id) FILTER (WHERE p.status = 'failed') "
            "FROM catalog_productimage i "
            "LEFT JOIN classification_prediction p ON p.image_id = i.id "
            "AND p.model_version_id = "
            "(SELECT id FROM classification_modelversion WHERE status = 'active') "
            "WHERE i.product_id = %s GROUP BY i.id",
            [product_id],
        )
        assert rows and all(ok == 1 and failed == 0 for _, ok, failed in rows), rows

    def stored_keys(self) -> set[str]:
        keys = self.s3.keys()  # a listing of the bucket
        return {k for k in keys if k.startswith(("images/", "thumbnails/"))}

    def named_keys(self) -> set[str]:
        rows = self.sql("SELECT file, thumbnail FROM catalog_productimage")
        return {key for row in rows for key in row if key}

    def storage_consistent(self, *, timeout: float) -> float:
        """Wait until every stored object is named by a row; assert every row's
        objects exist. Return how long it took."""
        started = time.monotonic()
        while True:
            stored, named = self.stored_keys(), self.named_keys()
            assert named <= stored, f"rows name missing objects: {named - stored}"
            if stored == named:
                return time.monotonic() - started
            assert time.monotonic() < started + timeout, (
                f"orphans left after {timeout} s: {sorted(stored - named)}"
            )
            time.sleep(1)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with postgres_database() as database_url:
        stack = Stack(tmp_path_factory.mktemp("faults"), database_url)
        try:
            stack.start()
            # The model loads on the first photo: warm it outside any fault.
            product = stack.product("WARM")
            stack.upload_all(product, photos(99, 1))
            stack.recovered(product, 1, since=time.monotonic())
            yield stack
        finally:
            stack.close()
            for fault, figure in MEASURED.items():
                print(f"{fault}: {figure}")


def test_worker_killed_mid_batch(stack):
    product = stack.product("KILL")
    stack.upload_all(product, photos(1))
    deadline = time.monotonic() + 60
    while "processing" not in stack.statuses(product).values():
        assert time.monotonic() < deadline, "nothing started"
        time.sleep(0.05)
    left = sum(s != "classified" for s in stack.statuses(product).values())

    stack.kill_worker("a")
    restarted = time.monotonic()
    stack.start_worker("a", beat=True)

    took = stack.recovered(product, BATCH, since=restarted)
    MEASURED["worker SIGKILL"] = f"{left} of {BATCH} unfinished; healed {took:.0f} s"


def test_redis_stopped_during_uploads_and_restarted_empty(stack):
    product = stack.product("REDIS")
    stack.redis.kill()
    stack.upload_all(product, photos(2))  # every upload answers success
    assert set(stack.statuses(product).values()) == {"pending"}

    stack.redis.start()
    back = time.monotonic()

    took = stack.recovered(product, BATCH, since=back)
    survived = all(w.poll() is None for w in stack.workers.values())
    MEASURED["Redis down, back empty"] = (
        f"{BATCH} of {BATCH} uploads answered 200; healed {took:.0f} s; "
        f"worker {'survived' if survived else 'exited'}"
    )


def test_s3_stopped_past_the_retry_budget(stack):
    product = stack.product("S3")
    stack.signal_worker("a", signal.SIGSTOP)  # the batch waits, stored
    try:
        stack.upload_all(product, photos(3))
        stack.weed.stop()
    finally:
        stack.signal_worker("a", signal.SIGCONT)
    # Past the task's retries every photo fails for a transient reason...
    stack.wait_for(product, BATCH, ("failed",), timeout=90)

    stack.weed.start()
    back = time.monotonic()

    took = stack.recovered(product, BATCH, since=back)  # ...and heals
    MEASURED["S3 down past the retries"] = (
        f"{BATCH} of {BATCH} failed transiently; healed {took:.0f} s"
    )


def test_web_process_killed_mid_request(stack):
    product = stack.product("WEB")
    batch = photos(4, 40)
    shas = {hashlib.sha256(data).hexdigest() for data in batch}
    files = [("file", (f"p{n}.jpg", d, "image/jpeg")) for n, d in enumerate(batch)]
    http = stack.site.http
    # Gunicorn's master respawns the workers killed under it.
    workers = [
        int(p)
        for p in Path(f"/proc/{stack.web.pid}/task/{stack.web.pid}/children")
        .read_text()
        .split()
    ]

    def stored_of_batch() -> int:
        return sum(any(sha in k for sha in shas) for k in stack.stored_keys())

    merchant = stack.sql(
        "SELECT merchant_id FROM catalog_product WHERE id = %s", [product]
    )[0][0]
    first = hashlib.sha256(batch[0]).hexdigest()
    first_key = f"images/{merchant}/{first[:2]}/{first}.jpg"
    s3 = stack.s3.client()

    def stored(key: str) -> bool:
        try:
            s3.head_object(Bucket=stack.s3.bucket, Key=key)
        except s3.exceptions.ClientError:
            return False
        return True

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        request = pool.submit(
            http.post,
            # The API stores the request's photos in one transaction.
            stack.site.url(f"/api/v1/products/{product}/images/"),
            files=files,
            headers={
                "Accept": "application/json",
                "X-CSRFToken": http.cookies["csrftoken"],
                "Referer": stack.site.url(f"/products/{product}/"),
            },
            timeout=120,
        )
        # Killed as soon as the first photo's object is stored: the other 39
        # are still to be written, and nothing is committed.
        deadline = time.monotonic() + 60
        while not stored(first_key):
            assert not request.done(), "the request ended before any kill"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        with pytest.raises(requests.RequestException):
            request.result()
    left = stored_of_batch()
    assert stack.statuses(product) == {}, "nothing committed"
    wait_for_port(stack.port, timeout=30)

    # The client tries again with 10 photos, not the first one (whose objects
    # the kill left behind): the sweep must remove those.
    stack.upload_all(product, batch[1 : BATCH + 1])
    took = stack.recovered(product, BATCH, since=killed)
    cleaned = stack.storage_consistent(timeout=RECOVERY_BOUND)
    MEASURED["web killed mid-request"] = (
        f"{left} objects left with no row; classified {took:.0f} s, "
        f"orphans gone {time.monotonic() - killed:.0f} s after the kill "
        f"({cleaned:.0f} s after the retry)"
    )


def test_two_workers_with_forced_redelivery(stack):
    stack.start_worker("b")
    product = stack.product("TWO")
    try:
        stack.upload_all(product, photos(5))
        # Every photo still waiting is queued a second time, while both work.
        manage("requeue_stuck", "--older-than", "0", env=stack.env)
        started = time.monotonic()
        took = stack.recovered(product, BATCH, since=started)
    finally:
        stack.kill_worker("b")
    MEASURED["two workers, forced redelivery"] = f"healed {took:.0f} s"


def test_nothing_is_left_behind(stack):
    """After every fault: no orphan object, no row naming a missing one, nothing
    owed, nothing failed."""
    stack.storage_consistent(timeout=RECOVERY_BOUND)
    assert stack.sql("SELECT count(*) FROM classification_classificationrequest") == [
        (0,)
    ]
    assert (
        stack.sql(
            "SELECT status, count(*) FROM catalog_productimage "
            "WHERE status NOT IN ('classified', 'needs_review') GROUP BY status"
        )
        == []
    )
