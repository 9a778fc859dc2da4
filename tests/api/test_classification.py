"""Classify on the spot, predictions and their review, statistics."""

import pytest

from catalog.models import Category
from classification.models import Prediction, Review
from tests.api.conftest import assert_error, assert_list_queries_flat
from tests.catalog.factories import upload
from tests.classification import queue_data
from tests.images import photo_jpeg


def test_classify_answers_the_top_five_and_stores_nothing(merchant_api, db):
    response = merchant_api.post(
        "/api/v1/classify/", {"file": upload(photo_jpeg("coffee"))}, format="multipart"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["top_k"]) == 5
    assert body["top_k"][0]["category"] == "kitchen-drinkware"
    probabilities = [entry["probability"] for entry in body["top_k"]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert body["model_version"]["name"]
    assert body["latency_ms"] > 0
    assert not Prediction.objects.exists()


def test_classify_refuses_what_uploads_refuse(merchant_api, anon, nobody_api, settings):
    url = "/api/v1/classify/"
    assert_error(
        merchant_api.post(url, {"file": upload(b"text")}, format="multipart"),
        415,
        "not_an_image",
    )
    settings.VITRINE_UPLOAD_MAX_BYTES = 10
    assert_error(
        merchant_api.post(
            url, {"file": upload(photo_jpeg("coffee"))}, format="multipart"
        ),
        413,
        "file_too_large",
    )
    assert_error(merchant_api.post(url, {}, format="multipart"), 400, "invalid")
    assert_error(anon.post(url, {}, format="multipart"), 401)
    assert_error(nobody_api.post(url, {}, format="multipart"), 403)


def test_classify_has_its_own_rate_limit(merchant_api, settings, db):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "classify": "1/minute",
        },
    }
    url = "/api/v1/classify/"
    merchant_api.post(url, {"file": upload(b"x")}, format="multipart")
    error = assert_error(
        merchant_api.post(url, {"file": upload(b"x")}, format="multipart"),
        429,
        "throttled",
    )
    assert error["details"]["retry_after"] > 0


# --- Predictions ----------------------------------------------------------------


def test_merchants_see_their_own_predictions_and_staff_see_all(
    merchant_api, staff_api, merchant, other_membership
):
    mine = queue_data.prediction(merchant=merchant)
    theirs = queue_data.prediction(merchant=other_membership.merchant)
    body = merchant_api.get("/api/v1/predictions/").json()
    assert [p["id"] for p in body["results"]] == [mine.pk]
    assert body["results"][0]["top_k"][0] == {
        "category": "apparel",
        "name": Category.objects.get(slug="apparel").name,
        "probability": 0.5,
    }
    assert staff_api.get("/api/v1/predictions/").json()["count"] == 2
    only = staff_api.get(
        "/api/v1/predictions/", {"merchant": other_membership.merchant.pk}
    ).json()
    assert [p["id"] for p in only["results"]] == [theirs.pk]
    assert_error(merchant_api.get(f"/api/v1/predictions/{theirs.pk}/"), 404)
    assert merchant_api.get(f"/api/v1/predictions/{mine.pk}/").status_code == 200


def test_prediction_filters(merchant_api, merchant):
    low = queue_data.prediction(
        merchant=merchant, top=[("apparel", 0.3)], version=queue_data.model_version()
    )
    version = queue_data.model_version()
    high = queue_data.prediction(
        merchant=merchant,
        top=[("footwear", 0.9)],
        status=Prediction.Status.AUTO_ACCEPTED,
        version=version,
    )

    def ids(**params):
        response = merchant_api.get("/api/v1/predictions/", params)
        return [p["id"] for p in response.json()["results"]]

    assert ids(status="auto_accepted") == [high.pk]
    assert ids(category="apparel") == [low.pk]
    assert ids(model_version=version.pk) == [high.pk]
    assert ids(confidence_min=0.5) == [high.pk]
    assert ids(confidence_max=0.5) == [low.pk]
    assert ids(ordering="confidence") == [low.pk, high.pk]
    assert_error(merchant_api.get("/api/v1/predictions/", {"status": "x"}), 400)


def test_the_prediction_list_costs_the_same_queries_whatever_the_page_size(
    merchant_api, staff_api, reviewer_api, merchant
):
    predictions = [queue_data.prediction(merchant=merchant) for _ in range(12)]
    for prediction in predictions[:6]:
        reviewer_api.post(
            f"/api/v1/predictions/{prediction.pk}/review/", {"decision": "accepted"}
        )
    for client in (merchant_api, staff_api):
        assert_list_queries_flat(client, "/api/v1/predictions/", large=12, budget=7)


# --- Reviews ----------------------------------------------------------------------


def test_a_reviewer_accepts_and_corrects(reviewer_api, merchant):
    first = queue_data.prediction(merchant=merchant)
    second = queue_data.prediction(merchant=merchant)
    response = reviewer_api.post(
        f"/api/v1/predictions/{first.pk}/review/", {"decision": "accepted"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == Prediction.Status.ACCEPTED
    assert response.json()["review"]["decision"] == "accepted"
    response = reviewer_api.post(
        f"/api/v1/predictions/{second.pk}/review/",
        {"decision": "corrected", "category": "footwear", "note": "shoes"},
    )
    assert response.json()["status"] == Prediction.Status.CORRECTED
    second.image.product.refresh_from_db()
    assert second.image.product.category.slug == "footwear"


def test_review_input_errors_and_conflicts(reviewer_api, superuser_api, merchant):
    prediction = queue_data.prediction(merchant=merchant)
    url = f"/api/v1/predictions/{prediction.pk}/review/"
    assert_error(reviewer_api.post(url, {"decision": "maybe"}), 400, "invalid")
    assert_error(reviewer_api.post(url, {"decision": "corrected"}), 400, "invalid")
    assert_error(
        reviewer_api.post(url, {"decision": "corrected", "category": "nope"}), 400
    )
    assert reviewer_api.post(url, {"decision": "accepted"}).status_code == 200
    # The same decision again is harmless; someone else's different one conflicts.
    assert reviewer_api.post(url, {"decision": "accepted"}).status_code == 200
    assert_error(
        superuser_api.post(url, {"decision": "corrected", "category": "footwear"}),
        409,
        "conflict",
    )
    assert Review.objects.filter(prediction=prediction).count() == 1
    assert_error(reviewer_api.post("/api/v1/predictions/999999/review/", {}), 404)


def test_only_reviewers_review(merchant_api, plain_staff_api, anon, merchant):
    prediction = queue_data.prediction(merchant=merchant)
    url = f"/api/v1/predictions/{prediction.pk}/review/"
    for client, status in ((merchant_api, 403), (plain_staff_api, 403), (anon, 401)):
        assert_error(client.post(url, {"decision": "accepted"}), status)
        assert_error(
            client.post(
                "/api/v1/predictions/review/",
                {"prediction_ids": [prediction.pk], "decision": "accepted"},
            ),
            status,
        )
    assert not Review.objects.exists()


def test_bulk_review_reports_what_it_left_alone(reviewer_api, merchant):
    predictions = [queue_data.prediction(merchant=merchant) for _ in range(3)]
    failed = queue_data.prediction(merchant=merchant, top=None, status="failed")
    ids = [p.pk for p in predictions] + [failed.pk, 999999]
    response = reviewer_api.post(
        "/api/v1/predictions/review/", {"prediction_ids": ids, "decision": "accepted"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["reviewed"], body["conflicts"]) == (3, [failed.pk, 999999])
    assert Review.objects.filter(batch=body["batch"]).count() == 3
    assert_error(
        reviewer_api.post(
            "/api/v1/predictions/review/",
            {"prediction_ids": [], "decision": "accepted"},
        ),
        400,
        "invalid",
    )
    assert_error(
        reviewer_api.post(
            "/api/v1/predictions/review/",
            {"prediction_ids": ids, "decision": "corrected"},
        ),
        400,
        "invalid",
    )


def test_an_unusable_photo_over_the_api_and_its_undo(reviewer_api, merchant):
    prediction = queue_data.prediction(merchant=merchant)
    url = f"/api/v1/predictions/{prediction.pk}/review/"
    assert_error(reviewer_api.post(url, {"decision": "unusable"}), 400, "invalid")
    assert_error(
        reviewer_api.post(url, {"decision": "unusable", "unusable_reason": "ugly"}),
        400,
        "invalid",
    )
    response = reviewer_api.post(
        url, {"decision": "unusable", "unusable_reason": "several_products"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "unusable"
    decisions = reviewer_api.get("/api/v1/reviews/").json()["results"]
    assert [(d["decision"], d["unusable_reason"]) for d in decisions] == [
        ("unusable", "several_products")
    ]
    undo = reviewer_api.post(f"/api/v1/reviews/{decisions[0]['id']}/undo/")
    assert undo.status_code == 200, undo.content
    assert undo.json() == {"undone": [decisions[0]["id"]], "conflicts": []}
    prediction.refresh_from_db()
    assert (prediction.status, prediction.review_reason) == (
        "needs_review",
        "low_confidence",
    )
    assert_error(
        reviewer_api.post(f"/api/v1/reviews/{decisions[0]['id']}/undo/"),
        409,
        "conflict",
    )
    listed = reviewer_api.get("/api/v1/reviews/?undone=true").json()["results"]
    assert [d["id"] for d in listed] == [decisions[0]["id"]]
    assert reviewer_api.get("/api/v1/reviews/?undone=false").json()["results"] == []


def test_undo_over_the_api_restores_the_products_category(reviewer_api, merchant):
    product = queue_data.with_merchant_category(
        queue_data.image(merchant=merchant).product, "footwear"
    )
    prediction = queue_data.prediction(product=product, reason="disagreement")
    response = reviewer_api.post(
        f"/api/v1/predictions/{prediction.pk}/review/",
        {"decision": "accepted", "set_product_category": True},
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert product.category.slug == "apparel"
    decision = reviewer_api.get("/api/v1/reviews/").json()["results"][0]
    assert (
        decision["product_category_before"],
        decision["product_category_after"],
    ) == ("footwear", "apparel")
    reviewer_api.post(f"/api/v1/reviews/{decision['id']}/undo/")
    product.refresh_from_db()
    assert (product.category.slug, product.category_source) == ("footwear", "merchant")


def test_bulk_preview_and_undo_of_a_batch(reviewer_api, merchant):
    predictions = [queue_data.prediction(merchant=merchant) for _ in range(2)]
    body = {
        "prediction_ids": [p.pk for p in predictions],
        "decision": "corrected",
        "category": "eyewear",
        "set_product_category": True,
    }
    preview = reviewer_api.post("/api/v1/predictions/review/preview/", body)
    assert preview.status_code == 200, preview.content
    assert preview.json()["photos"] == 2
    assert preview.json()["low_confidence"] == 2
    assert {c["category_after"] for c in preview.json()["category_changes"]} == {
        "Eyewear"
    }
    assert not Review.objects.exists()
    batch = reviewer_api.post("/api/v1/predictions/review/", body).json()["batch"]
    undone = reviewer_api.post("/api/v1/reviews/undo/", {"batch": batch})
    assert len(undone.json()["undone"]) == 2
    assert not Review.objects.exists()
    assert_error(reviewer_api.post("/api/v1/reviews/undo/", {"batch": "x"}), 400)


def test_the_api_says_why_a_photo_waits(merchant_api, reviewer_api, merchant):
    product = queue_data.with_merchant_category(
        queue_data.image(merchant=merchant).product, "footwear"
    )
    prediction = queue_data.prediction(product=product, reason="disagreement")
    mine = merchant_api.get(f"/api/v1/predictions/{prediction.pk}/").json()
    assert (mine["review_reason"], mine["review_reason_text"]) == (
        "disagreement",
        "disagrees with your category",
    )
    staff = reviewer_api.get(f"/api/v1/predictions/{prediction.pk}/").json()
    assert staff["review_reason_text"] == (
        "disagrees with the merchant's category “Footwear”"
    )


# --- Statistics -------------------------------------------------------------------


def test_stats_count_the_merchants_data_and_live_precision(
    merchant_api, staff_api, reviewer_api, merchant, other_membership
):
    version = queue_data.model_version()
    mine = [queue_data.prediction(merchant=merchant, version=version) for _ in range(4)]
    queue_data.prediction(merchant=other_membership.merchant, version=version)
    reviewer_api.post(
        f"/api/v1/predictions/{mine[0].pk}/review/", {"decision": "accepted"}
    )
    reviewer_api.post(
        f"/api/v1/predictions/{mine[1].pk}/review/", {"decision": "accepted"}
    )
    reviewer_api.post(
        f"/api/v1/predictions/{mine[2].pk}/review/",
        {"decision": "corrected", "category": "footwear"},
    )
    body = merchant_api.get("/api/v1/stats/").json()
    assert body["products"] == 4
    assert body["images"] == 4
    assert body["images_per_status"]["reviewed"] == 3
    assert body["review_backlog"]["needs_review"] == 1
    (stats,) = body["model_versions"]
    assert (stats["reviewed"], stats["accepted"]) == (3, 2)
    assert stats["live_precision"] == pytest.approx(2 / 3)
    assert body["predictions_per_category"]["apparel"] == {
        "accepted": 2,
        "corrected": 1,
        "needs_review": 1,
    }
    everyone = staff_api.get("/api/v1/stats/").json()
    assert everyone["products"] == 5
    assert everyone["review_backlog"]["needs_review"] == 2


def test_stats_name_live_and_audit_precision_apart(
    merchant_api, reviewer_api, merchant
):
    version = queue_data.model_version()
    audited = [
        queue_data.prediction(
            merchant=merchant, version=version, top=[("apparel", 0.9)]
        )
        for _ in range(3)
    ]
    Prediction.objects.filter(pk__in=[p.pk for p in audited]).update(audit=True)
    doubtful = queue_data.prediction(merchant=merchant, version=version)
    for prediction in [*audited[:2], doubtful]:
        reviewer_api.post(
            f"/api/v1/predictions/{prediction.pk}/review/", {"decision": "accepted"}
        )
    reviewer_api.post(
        f"/api/v1/predictions/{audited[2].pk}/review/",
        {"decision": "corrected", "category": "footwear"},
    )
    (stats,) = merchant_api.get("/api/v1/stats/").json()["model_versions"]
    assert (stats["reviewed"], stats["live_precision"]) == (1, 1.0)
    audit = stats["audit_precision"]
    assert (audit["audited"], audit["correct"]) == (3, 2)
    assert audit["precision"] == pytest.approx(2 / 3)
    assert 0 < audit["low"] < 2 / 3 < audit["high"] < 1
    (apparel,) = audit["per_category"]
    assert (apparel["category_slug"], apparel["audited"]) == ("apparel", 3)
