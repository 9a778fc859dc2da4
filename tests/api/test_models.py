"""Model versions and jobs: staff only."""

from classification.models import Job, ModelVersion
from tests.accounts.factories import MerchantFactory
from tests.api.conftest import assert_error, assert_list_queries_flat
from tests.classification import queue_data


def test_staff_list_versions_with_their_metrics(staff_api, merchant_api, db):
    version = queue_data.model_version()
    serving = {"runtime": "pytorch", "reason": "Served by PyTorch: a test."}
    ModelVersion.objects.filter(pk=version.pk).update(
        metrics={"accuracy": 0.93}, serving=serving
    )
    body = staff_api.get("/api/v1/models/").json()
    assert body["results"][0]["metrics"] == {"accuracy": 0.93}
    assert body["results"][0]["serving"] == serving
    assert staff_api.get(f"/api/v1/models/{version.pk}/").json()["name"] == version.name
    assert_error(merchant_api.get("/api/v1/models/"), 403, "permission_denied")
    assert_error(merchant_api.post(f"/api/v1/models/{version.pk}/activate/"), 403)
    assert_error(merchant_api.post("/api/v1/models/rollback/"), 403)
    assert_error(merchant_api.post("/api/v1/models/train/", {}), 403)
    assert_error(staff_api.get("/api/v1/models/999999/"), 404)


def test_the_version_list_costs_the_same_queries_whatever_the_page_size(staff_api):
    for _ in range(12):
        queue_data.model_version()
    assert_list_queries_flat(staff_api, "/api/v1/models/", large=12, budget=4)


def test_activate_and_roll_back(staff_api, db):
    first, second = queue_data.model_version(), queue_data.model_version()
    assert_error(staff_api.post("/api/v1/models/rollback/"), 409, "conflict")
    assert staff_api.post(f"/api/v1/models/{first.pk}/activate/").json()["status"] == (
        "active"
    )
    staff_api.post(f"/api/v1/models/{second.pk}/activate/")
    response = staff_api.post("/api/v1/models/rollback/")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("active", "retired")


def test_starting_a_training_job_and_following_it(staff_api, merchant_api, db):
    assert_error(
        staff_api.post(
            "/api/v1/models/train/", {"params": {"source": "nowhere"}}, format="json"
        ),
        400,
        "invalid",
    )
    response = staff_api.post(
        "/api/v1/models/train/", {"params": {"source": "catalog"}}, format="json"
    )
    assert response.status_code == 202, response.content
    job = response.json()
    assert (job["kind"], job["status"]) == ("train", "queued")
    followed = staff_api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert followed["progress"] == 0.0
    assert staff_api.get("/api/v1/jobs/", {"kind": "train"}).json()["count"] == 1
    assert_error(merchant_api.get(f"/api/v1/jobs/{job['id']}/"), 403)
    assert_error(staff_api.get("/api/v1/jobs/999999/"), 404)


def test_starting_a_reclassification_job(staff_api, merchant):
    queue_data.prediction(merchant=merchant)
    response = staff_api.post(
        "/api/v1/models/reclassify/", {"only_unseen": True}, HTTP_IDEMPOTENCY_KEY="r1"
    )
    assert response.status_code == 202, response.content
    again = staff_api.post(
        "/api/v1/models/reclassify/", {"only_unseen": True}, HTTP_IDEMPOTENCY_KEY="r1"
    )
    assert again.json()["id"] == response.json()["id"]
    job = Job.objects.get()
    assert (job.kind, job.params) == ("reclassify", {"only_unseen": True})


def test_the_job_list_costs_the_same_queries_whatever_the_page_size(
    staff_api, staff_user
):
    version = queue_data.model_version()
    for _ in range(12):
        Job.objects.create(kind="train", model_version=version, created_by=staff_user)
    assert_list_queries_flat(staff_api, "/api/v1/jobs/", large=12, budget=4)


def test_staff_list_merchants(staff_api, merchant_api, merchant):
    body = staff_api.get("/api/v1/merchants/").json()
    assert [m["id"] for m in body["results"]] == [merchant.pk]
    assert_error(merchant_api.get("/api/v1/merchants/"), 403)
    MerchantFactory.create_batch(11)
    assert_list_queries_flat(staff_api, "/api/v1/merchants/", large=12, budget=4)


def test_a_null_seed_or_epochs_in_a_training_request_means_the_default(staff_api, db):
    response = staff_api.post(
        "/api/v1/models/train/",
        {"params": {"source": "catalog", "seed": None, "epochs": None}},
        format="json",
    )
    assert response.status_code == 202, response.content
    params = Job.objects.get().params
    assert params["seed"] == 0
    assert "epochs" not in params


def test_activating_a_version_that_cannot_predict_a_category_in_use_asks_to_confirm(
    staff_api, db
):
    from catalog.models import Category
    from classification.models import ModelVersion
    from tests.catalog.factories import ProductFactory

    active = queue_data.model_version()
    ModelVersion.objects.filter(pk=active.pk).update(status="active")
    narrow = queue_data.model_version()
    ModelVersion.objects.filter(pk=narrow.pk).update(classes=["footwear"])
    ProductFactory(category=Category.objects.get(slug="apparel"))
    comparison = staff_api.get(f"/api/v1/models/{narrow.pk}/comparison/").json()
    assert comparison["cannot_predict"][0]["category"] == "apparel"
    assert comparison["active"]["id"] == active.pk
    body = assert_error(
        staff_api.post(f"/api/v1/models/{narrow.pk}/activate/"),
        409,
        "confirmation_required",
    )
    assert "cannot predict 1 categories" in body["message"]
    assert body["details"]["comparison"]["cannot_predict"]
    narrow.refresh_from_db()
    assert narrow.status == "ready"
    response = staff_api.post(
        f"/api/v1/models/{narrow.pk}/activate/", {"confirm": True}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"


def test_a_version_runs_in_shadow_and_stops(staff_api, db):
    from classification.models import ModelVersion

    active, candidate = queue_data.model_version(), queue_data.model_version()
    ModelVersion.objects.filter(pk=active.pk).update(status="active")
    assert staff_api.post(f"/api/v1/models/{candidate.pk}/shadow/").json()[
        "status"
    ] == ("shadow")
    assert_error(staff_api.post(f"/api/v1/models/{active.pk}/shadow/"), 409)
    assert staff_api.delete(f"/api/v1/models/{candidate.pk}/shadow/").json()[
        "status"
    ] == ("ready")
