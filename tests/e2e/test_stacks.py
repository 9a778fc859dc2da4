"""The whole flow on each stack, with every part real and in its own process:
log in, create a product, upload a real photo, and see its category set.
"""

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.e2e.site import Site
from tests.images import photo_jpeg
from tests.services import (
    embedded_server,
    manage,
    postgres_database,
    project_env,
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
    with embedded_server(env) as url:
        _upload_coffee_and_check(url)
    stored = list((tmp_path / "var" / "media" / "images").rglob("*.jpg"))
    assert len(stored) == 1, "the photo is stored once on the local filesystem"


@contextmanager
def service_stack(
    tmp_path, broker_url: str, **env: str
) -> Iterator[tuple[str, subprocess.Popen]]:
    """A seeded PostgreSQL database of its own, a worker and the web server for the
    block; yields the site's address and the worker's process."""
    with postgres_database() as database_url:
        env = project_env(
            VITRINE_VAR_DIR=str(tmp_path / "var"),
            DATABASE_URL=database_url,
            CELERY_BROKER_URL=broker_url,
            **env,
        )
        _seed(env)
        with web_and_worker(env) as stack:
            yield stack


@pytest.mark.services
def test_service_stack_postgres_redis_worker_s3(tmp_path, s3_server, redis_broker_url):
    with service_stack(tmp_path, redis_broker_url, **s3_server.env()) as (url, _):
        _upload_coffee_and_check(url)
    keys = s3_server.keys()
    assert any(k.startswith("images/") and k.endswith(".jpg") for k in keys), keys
    assert any(k.startswith("thumbnails/") for k in keys), keys
    assert any(k.startswith("models/") for k in keys), "the model artifact is in S3"
    assert not (tmp_path / "var" / "media").exists(), "nothing went to local disk"
