"""The two brokers that need no service, side by side: kombu's filesystem
transport and its SQLAlchemy transport on a SQLite file.

    .venv/bin/python -m bench.embedded_broker [--rounds 5] [--latency 20] [--burst 200]

Starts one Celery worker per transport (prefork, 2 processes, the transport
options `make run` uses, each on a scratch folder), then, round after round and
alternating which goes first, measures on each:

- latency: one tiny task at a time, from `delay()` to the task's first line
  (``--latency`` tasks per round, a random pause between them so that the
  sends do not fall in step with the polling);
- throughput: ``--burst`` tiny tasks sent at once, from the first send to the
  last task's end;
- the workers' CPU time while idle (polling costs something).

Prints medians per transport and the ratios. Needs SQLAlchemy
(requirements-dev.txt) for the second transport.
"""

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from celery import Celery
from kombu.transport import sqlalchemy as sqlalchemy_transport

from config.broker import POLLING_INTERVAL, transport_options

# kombu hands the SQLAlchemy transport's options to create_engine(), which
# refuses a polling interval: set it on the class, to the filesystem's value.
sqlalchemy_transport.Transport.polling_interval = POLLING_INTERVAL

APP = Celery("bench_embedded_broker")
APP.conf.update(
    broker_url=os.environ.get("BENCH_BROKER_URL", "memory://"),
    broker_transport_options=transport_options(
        os.environ.get("BENCH_BROKER_URL", ""),
        Path(os.environ.get("BENCH_VAR_DIR", tempfile.gettempdir())),
    ),
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


@APP.task(name="bench.mark")
def mark(sent: float, log: str) -> None:
    started = time.time()
    with open(log, "a") as out:
        out.write(f"{sent} {started} {time.time()}\n")


TRANSPORTS = {
    "filesystem": lambda var: "filesystem://",
    "sqlalchemy-sqlite": lambda var: f"sqla+sqlite:///{var}/broker.sqlite3",
}


class Worker:
    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.var = root / name
        self.var.mkdir()
        self.url = TRANSPORTS[name](self.var)
        self.env = {**os.environ, "BENCH_BROKER_URL": self.url}
        self.env["BENCH_VAR_DIR"] = str(self.var)
        # Importing config loads the project's Celery app, and so Django:
        # local mode, as `make run` has it.
        self.env["DJANGO_DEBUG"] = "true"
        self.log = self.var / "worker.log"
        self.proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "bench.embedded_broker"),
                *("worker", "--pool=prefork", "--concurrency=2", "--loglevel=WARNING"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.app = Celery("bench_client")
        self.app.conf.update(
            broker_url=self.url,
            broker_transport_options=transport_options(self.url, self.var),
        )
        self.runs = 0

    def send(self, log: Path) -> None:
        self.app.send_task("bench.mark", args=[time.time(), str(log)])

    def new_log(self) -> Path:
        self.runs += 1
        return self.var / f"run-{self.runs}.log"

    def cpu_seconds(self) -> float:
        """User and system CPU time of the worker and its pool processes."""
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # the process group
                ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGTERM)  # the pool is the worker's to stop
        self.proc.wait(timeout=60)


def lines(log: Path) -> list[list[float]]:
    """The complete lines the tasks wrote (a line being written is left out)."""
    if not log.exists():
        return []
    text = log.read_text()
    return [
        [float(v) for v in line.split()]
        for line in text.splitlines(True)
        if line.endswith("\n")
    ]


def wait_lines(log: Path, count: int, timeout: float = 120) -> list[list[float]]:
    deadline = time.monotonic() + timeout
    while len(got := lines(log)) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{log}: {len(got)} of {count} tasks ran")
        time.sleep(0.005)
    return got


def latency(worker: Worker, count: int) -> list[float]:
    log = worker.new_log()
    for i in range(count):
        time.sleep(random.uniform(0.05, 0.3))
        worker.send(log)
        wait_lines(log, i + 1)
    return [(started - sent) * 1000 for sent, started, _ in lines(log)]


def throughput(worker: Worker, count: int) -> float:
    log = worker.new_log()
    first = time.time()
    for _ in range(count):
        worker.send(log)
    done = wait_lines(log, count)
    return count / (max(end for _, _, end in done) - first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=int, default=20)
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--idle", type=float, default=10.0, help="idle seconds")
    args = parser.parse_args()
    random.seed(0)
    results = {name: {"latency": [], "throughput": []} for name in TRANSPORTS}
    with tempfile.TemporaryDirectory(prefix="vitrine-broker-bench-") as root:
        workers = [Worker(name, Path(root)) for name in TRANSPORTS]
        try:
            for worker in workers:  # warm up: the worker is consuming
                log = worker.new_log()
                worker.send(log)
                wait_lines(log, 1, timeout=60)
            for round_ in range(args.rounds):
                order = workers if round_ % 2 == 0 else workers[::-1]
                for worker in order:
                    results[worker.name]["latency"] += latency(worker, args.latency)
                    results[worker.name]["throughput"].append(
                        throughput(worker, args.burst)
                    )
            before = {w.name: w.cpu_seconds() for w in workers}
            time.sleep(args.idle)
            idle = {w.name: (w.cpu_seconds() - before[w.name]) for w in workers}
        finally:
            for worker in workers:
                worker.stop()
    print(f"{args.rounds} rounds, interleaved; polling interval as `make run` sets it")
    for name, got in results.items():
        lat = sorted(got["latency"])
        p90 = lat[int(0.9 * (len(lat) - 1))]
        print(
            f"{name:18} enqueue-to-start median {statistics.median(lat):6.1f} ms"
            f" (p90 {p90:6.1f} ms, n={len(lat)});"
            f" {args.burst} tasks: median {statistics.median(got['throughput']):6.1f}"
            f" tasks/s; idle CPU {100 * idle[name] / args.idle:4.1f} %"
            f" over {args.idle:.0f} s"
        )
    fs, sa = (results[name] for name in TRANSPORTS)
    latency_ratio = statistics.median(fs["latency"]) / statistics.median(sa["latency"])
    rate_ratio = statistics.median(fs["throughput"]) / statistics.median(
        sa["throughput"]
    )
    print(
        f"filesystem / sqlalchemy: latency {latency_ratio:.2f}x,"
        f" throughput {rate_ratio:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
