"""The whole flow on each stack, with every part real and in its own process:
log in, create a product, upload a real photo, and see its category set.
"""

import os

import pytest

from tests.e2e.site import Site
from tests.images import photo_jpeg
from tests.services import (
    free_port,
    manage,
    postgres_database,
    project_env,
    running,
    wait_for_port,
    web_and_worker,
)

pytestmark = pytest.mark.slow
PASSWORD = "coffee-lover-2026"


def _seed(env) -> None:
    manage("migrate", "--noinput", env=env)
    manage(
        "create_merchant",
        "Coffee Corner",
        "--username",
        "alice",
        "--email",
        "alice@example.com",
        "--password",
        PASSWORD,
        env=env,
    )


def _upload_coffee_and_check(base_url: str) -> dict:
    site = Site(base_url)
    site.login("alice", PASSWORD)
    product_id = site.create_product("ESP-001", "Espresso cup")
    answer = site.upload(product_id, photo_jpeg("coffee"), "coffee.jpg")
    assert answer["status_code"] == 200, answer
    assert answer["results"][0]["ok"] is True
    status = site.wait_classified(product_id)
    prediction = status["images"][0]["prediction"]
    assert prediction["status"] == "auto_accepted", prediction
    assert prediction["top_k"][0]["category"] == "kitchen-drinkware"
    assert len(prediction["top_k"]) == 5
    assert status["category"] == "Kitchen & Drinkware"
    assert status["category_source"] == "Model"
    return status


def test_embedded_stack_sqlite_eager_filesystem(tmp_path):
    env = project_env(VITRINE_VAR_DIR=str(tmp_path / "var"))
    _seed(env)
    port = free_port()
    args = [
        os.path.join(os.path.dirname(os.sys.executable), "python"),
        "manage.py",
        "runserver",
        f"127.0.0.1:{port}",
        "--noreload",
    ]
    with running(args, env=env, log_name="runserver.log") as server:
        wait_for_port(port, timeout=60, proc=server)
        _upload_coffee_and_check(f"http://127.0.0.1:{port}")
    stored = list((tmp_path / "var" / "media" / "images").rglob("*.jpg"))
    assert len(stored) == 1, "the photo is stored once on the local filesystem"


@pytest.mark.services
def test_service_stack_postgres_redis_worker_s3(tmp_path, s3_server, redis_broker_url):
    with postgres_database() as database_url:
        env = project_env(
            VITRINE_VAR_DIR=str(tmp_path / "var"),
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=redis_broker_url,
            **s3_server.env(),
        )
        _seed(env)
        with web_and_worker(env) as (url, _worker):
            _upload_coffee_and_check(url)
    keys = s3_server.keys()
    assert any(k.startswith("images/") and k.endswith(".jpg") for k in keys), keys
    assert any(k.startswith("thumbnails/") for k in keys), keys
    assert any(k.startswith("models/") for k in keys), "the model artifact is in S3"
    assert not (tmp_path / "var" / "media").exists(), "nothing went to local disk"
