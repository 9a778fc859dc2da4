"""/health/ready/: may this process take traffic?"""


def test_ready_when_the_database_storage_and_broker_answer(admin_client):
    response = admin_client.get("/health/ready/")
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ready"
    assert set(body["checks"]) == {
        "database",
        "migrations",
        "storage",
        "broker",
        "pipeline",
    }
    assert body["checks"]["migrations"]["pending"] == 0


def test_not_ready_while_the_broker_is_unreachable(admin_client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from config.celery import app

    app.conf.broker_url = "redis://127.0.0.1:1/0"
    try:
        response = admin_client.get("/health/ready/")
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["checks"]["broker"]["ok"] is False


def test_anyone_learns_only_whether_the_process_is_ready(client, db):
    response = client.get("/health/ready/")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
