"""A worker process killed in the middle of classifying leaves nothing stuck."""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.e2e.site import Site
from tests.e2e.test_stacks import PASSWORD, service_stack
from tests.images import photo_jpeg

pytestmark = [pytest.mark.slow, pytest.mark.services]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_task_whose_worker_dies_is_delivered_again(tmp_path, redis_broker_url):
    with service_stack(tmp_path, redis_broker_url) as (url, worker):
        site = Site(url)
        site.login("alice", PASSWORD)
        product_id = site.create_product("ESP-009", "Cup")
        assert site.upload(product_id, photo_jpeg("coffee"))["status_code"] == 200

        # Wait until the pool process has taken the task, then kill it.
        deadline = time.monotonic() + 60
        while site.status(product_id)["images"][0]["status"] != "processing":
            assert time.monotonic() < deadline, "the task never started"
            time.sleep(0.02)
        killed = _children(worker.pid)
        assert killed, "the worker has a pool process"
        for pid in killed:
            os.kill(pid, signal.SIGKILL)

        status = site.wait_classified(product_id, timeout=120)
        assert set(_children(worker.pid)).isdisjoint(killed), "a new pool process"
    image = status["images"][0]
    assert image["status"] == "classified"
    assert image["prediction"]["category"] == "kitchen-drinkware"
