import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from tests.accounts.factories import UserFactory


@pytest.fixture
def no_broker(settings):
    """Tasks go to a broker address nobody listens on."""
    from config.celery import app

    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    yield
    app.conf.broker_url = None


def test_health_reports_each_part(admin_client):
    response = admin_client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "broker", "model", "pipeline"}
    assert body["checks"]["broker"]["mode"].startswith("in-process")


def test_health_is_503_when_storage_is_unreachable(admin_client, settings):
    # An S3 endpoint on a closed loopback port: every call is refused at once.
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": "nowhere",
                "endpoint_url": "http://127.0.0.1:1",
                "access_key": "x",
                "secret_key": "y",
                "region_name": "us-east-1",
            },
        },
    }
    response = admin_client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["storage"]["ok"] is False
    assert "Error" in body["checks"]["storage"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_health_is_503_when_the_broker_is_unreachable(admin_client, no_broker):
    response = admin_client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["status"] == "unavailable"


def test_anyone_learns_only_whether_the_platform_is_up(client, db):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_anyone_learns_only_that_the_platform_is_down(client, db, no_broker):
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_a_platform_admins_token_reads_each_check(client, db):
    from accounts.services import api_token_create

    admin = UserFactory(is_staff=True)
    admin.groups.add(Group.objects.get(name="Platform admins"))
    _, key = api_token_create(user=admin)
    body = client.get(reverse("health"), HTTP_AUTHORIZATION=f"Token {key}").json()
    assert set(body["checks"]) == {"database", "storage", "broker", "model", "pipeline"}


def test_other_callers_read_only_the_status(client, membership):
    from accounts.services import api_token_create

    _, key = api_token_create(user=membership.user)
    for headers in (
        {"HTTP_AUTHORIZATION": f"Token {key}"},
        {"HTTP_AUTHORIZATION": "Token vt_not-a-key"},
    ):
        assert client.get(reverse("health"), **headers).json() == {"status": "ok"}
    client.force_login(UserFactory(is_staff=True))  # staff with no role
    assert client.get(reverse("health")).json() == {"status": "ok"}
    client.force_login(membership.user)
    assert client.get(reverse("health")).json() == {"status": "ok"}
