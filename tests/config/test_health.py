from django.urls import reverse


def test_health_reports_each_part(client, db):
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "storage", "broker", "model"}
    assert body["checks"]["broker"]["mode"].startswith("in-process")


def test_health_is_503_when_storage_is_unreachable(client, db, settings):
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
    response = client.get(reverse("health"))
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["storage"]["ok"] is False
    assert "Error" in body["checks"]["storage"]["error"]
    assert body["checks"]["database"]["ok"] is True


def test_health_is_503_when_the_broker_is_unreachable(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = client.get(reverse("health"))
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False
    assert response.json()["status"] == "unavailable"
