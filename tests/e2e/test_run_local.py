"""`make run`'s processes, as `make run` starts them (config/run_local.py): the
web server and a background worker on the embedded broker, on a scratch var/
folder and a free loopback port. Uploads answer at once; the worker classifies
them; Ctrl-C stops both, leaving no process behind.
"""

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.site import Site
from tests.images import photo_jpeg
from tests.services import ROOT, free_port, manage, project_env, wait_for_port

pytestmark = pytest.mark.slow
DEMO = ("demo", "vitrine-demo")  # what seed_demo makes


def group_members(pgid: int) -> list[int]:
    """The live processes of a process group."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


@contextmanager
def run_local(tmp_path: Path, **env_overrides: str):
    """migrate, seed_demo and config.run_local, as `make run` runs them; yields
    the site's address, the supervisor and the pids it started."""
    env = project_env(VITRINE_VAR_DIR=str(tmp_path / "var"), **env_overrides)
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    port = free_port()
    log_path = tmp_path / "run_local.log"
    with log_path.open("wb") as log:
        supervisor = subprocess.Popen(
            [sys.executable, "-m", "config.run_local", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        pids = {}
        try:
            wait_for_port(port, timeout=90, proc=supervisor)
            found = re.search(
                r"\(pid (\d+)\), worker \(pid (\d+)\)", log_path.read_text()
            )
            assert found, log_path.read_text()
            pids = {"web": int(found[1]), "worker": int(found[2])}
            yield f"http://127.0.0.1:{port}", supervisor, pids
        finally:
            if supervisor.poll() is None:
                supervisor.send_signal(signal.SIGINT)
                try:
                    supervisor.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(supervisor.pid, signal.SIGKILL)
            for pgid in pids.values():  # never leave one behind, even on failure
                if group_members(pgid):
                    os.killpg(pgid, signal.SIGKILL)
    print(log_path.read_text()[-3000:])


def test_make_runs_processes_classify_an_upload_in_the_background(tmp_path):
    with run_local(tmp_path) as (base_url, supervisor, pids):
        site = Site(base_url)
        site.login(*DEMO)
        product_id = site.create_product("ESP-001", "Espresso cup")
        answer = site.upload(product_id, photo_jpeg("coffee"), "coffee.jpg")
        assert answer["status_code"] == 200, answer
        assert answer["results"][0]["ok"] is True
        # The request has answered; the worker has not classified the photo yet.
        status = site.status(product_id)
        assert status["images"][0]["prediction"] is None, status
        assert status["images"][0]["status"] in ("pending", "processing")
        assert status["in_flight"] is True
        assert status["message"], "the page says what the photo waits for"
        messages = set()
        while status["in_flight"]:
            messages.add(status["message"])
            time.sleep(0.2)
            status = site.status(product_id)
        prediction = status["images"][0]["prediction"]
        assert prediction["status"] == "auto_accepted", prediction
        assert prediction["top_k"][0]["category"] == "kitchen-drinkware"
        assert status["category"] == "Kitchen & Drinkware"
        # The worker's first photo loads the model, and the page said so.
        assert any(m.startswith("Loading the model") for m in messages), messages

        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        assert supervisor.wait(timeout=60) == 0
        for name, pgid in pids.items():
            assert group_members(pgid) == [], f"the {name} is still running"


def test_when_the_worker_dies_the_web_server_stops_too(tmp_path):
    with run_local(tmp_path) as (_, supervisor, pids):
        os.kill(pids["worker"], signal.SIGKILL)
        assert supervisor.wait(timeout=60) != 0
        for name, pgid in pids.items():
            assert group_members(pgid) == [], f"the {name} is still running"
