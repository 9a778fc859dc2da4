"""`make run`'s processes: the web server and a Celery worker side by side.

    python -m config.run_local [--chartjs static/vendor/.../chart.umd.min.js]
                               [HOST:PORT]

The worker takes every queue and runs the periodic upkeep (beat) too; both use
the embedded broker (kombu's filesystem transport under ``$VITRINE_VAR_DIR``,
see config/broker.py) and a file cache beside it, unless ``CELERY_BROKER_URL``
or ``CACHE_URL`` name others. So uploads answer at once and training runs in
the background, as in production. With ``--chartjs`` naming the local copy of
Chart.js that `make vendor` fetched, the dashboard loads it instead of the CDN
(unless ``VITRINE_CHARTJS_URL`` says otherwise): the charts work offline.

The two stop together: Ctrl-C (SIGINT), SIGTERM or SIGHUP here stops both, and
so does either one exiting. Each runs in a process group of its own, asked to
stop first (the worker finishes the task at hand), then killed with its pool
after ``GRACE_SECONDS``; on Linux each is also told to stop should this process
die without a word (SIGKILL), so no worker is left behind.
"""

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from pathlib import Path

from config.broker import EMBEDDED_BROKER_URL

BASE_DIR = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 10
PR_SET_PDEATHSIG = 1


def child_env(
    var_dir: Path, *, chartjs: Path | None = None, base_dir: Path = BASE_DIR
) -> dict[str, str]:
    """The environment of both processes; ``chartjs`` is relative to
    ``base_dir`` (the project folder), inside its static/."""
    env = dict(os.environ)
    if chartjs is not None and (base_dir / chartjs).is_file():
        # A static file's name, as VITRINE_CHARTJS_URL takes it.
        static = (base_dir / "static").resolve()
        local = (base_dir / chartjs).resolve().relative_to(static)
        env.setdefault("VITRINE_CHARTJS_URL", local.as_posix())
    env.setdefault("CELERY_BROKER_URL", EMBEDDED_BROKER_URL)
    # The worker tells the pages that it is loading the model through the cache:
    # one the two processes share.
    env.setdefault("CACHE_URL", f"filecache://{var_dir / 'cache'}")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def worker_args(var_dir: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        "default,inference,training",
        # Two processes: a training job does not hold up the uploads.
        "--concurrency=2",
        "--beat",
        f"--schedule={var_dir / 'celerybeat-schedule'}",
        "--loglevel=INFO",
        # One worker alone: nothing to gossip or mingle with.
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]


def web_args(address: str) -> list[str]:
    return [sys.executable, "manage.py", "runserver", address]


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the supervisor dies (Linux)."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        args,
        cwd=BASE_DIR,
        env=env,
        start_new_session=True,  # Ctrl-C reaches this process only
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )


def kill(procs: dict[str, subprocess.Popen]) -> None:
    for proc in procs.values():
        # The group too: runserver's reloaded child, the worker's pool and beat.
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


def stop(procs: dict[str, subprocess.Popen], *, grace: float) -> None:
    """Ask each process to stop, wait up to ``grace`` seconds, kill the rest."""
    for proc in procs.values():
        if proc.poll() is None:
            with suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs.values():
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(deadline - time.monotonic(), 0))
    kill(procs)
    for proc in procs.values():
        proc.wait()


class Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("address", nargs="?", default="127.0.0.1:8000")
    parser.add_argument("--chartjs", type=Path, help="the local Chart.js, if any")
    args = parser.parse_args(argv)
    address = args.address
    var_dir = Path(os.environ.get("VITRINE_VAR_DIR", BASE_DIR / "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    env = child_env(var_dir, chartjs=args.chartjs)
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_stop)
    procs: dict[str, subprocess.Popen] = {}
    code = 0
    try:
        procs["worker"] = start(worker_args(var_dir), env)
        procs["web"] = start(web_args(address), env)
        charts = env.get("VITRINE_CHARTJS_URL") or "its CDN"
        print(
            f"Web server on http://{address}/ (pid {procs['web'].pid}), worker"
            f" (pid {procs['worker'].pid}) on {env['CELERY_BROKER_URL']};"
            f" Chart.js from {charts}. Ctrl-C stops both.",
            flush=True,
        )
        while True:
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"The {name} stopped (exit {proc.returncode}).", flush=True)
                    code = proc.returncode or 1
                    raise Stop(name)
            time.sleep(0.5)
    except Stop:
        pass
    finally:
        # A second Ctrl-C while stopping kills at once.
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, lambda signum, frame: kill(procs))
        print("Stopping the web server and the worker...", flush=True)
        stop(procs, grace=GRACE_SECONDS)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
