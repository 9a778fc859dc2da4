"""`make run`'s processes, as `make run` starts them (config/run_local.py): the
web server and a background worker on the embedded broker, on a scratch var/
folder and a free loopback port. Uploads answer at once; the worker classifies
them; Ctrl-C stops both, leaving no process behind.
"""

import os
import signal
import time

import pytest

from tests.e2e.make_run import group_members, make_run_commands, run_local
from tests.e2e.site import Site
from tests.images import photo_jpeg
from tests.services import ROOT

pytestmark = pytest.mark.slow
DEMO = ("demo", "vitrine-demo")  # what seed_demo makes


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

        # The dashboard's charts: the local Chart.js when `make vendor` got it.
        staff = Site(base_url)
        staff.login("staff", DEMO[1])
        dashboard = staff.http.get(staff.url("/dashboard/"), timeout=30).text
        serve = make_run_commands(0)[-1]
        chartjs = serve[serve.index("--chartjs") + 1]
        if (ROOT / chartjs).is_file():
            assert f'src="/static/{chartjs.removeprefix("static/")}"' in dashboard
        else:
            assert 'src="https://cdn.jsdelivr.net/npm/chart.js@' in dashboard

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
